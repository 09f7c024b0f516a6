package org.laplacelora.streams.calibrator;

/** The calibrator's drift detectors, by the names drift events carry. */
public enum Detector {
    /** Page-Hinkley on the per-outcome NLL of the watched method. */
    PAGE_HINKLEY("page-hinkley"),
    /** A window's ECE above the version's reference window's. */
    ECE_WINDOW("ece-window");

    private final String id;

    Detector(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }
}
