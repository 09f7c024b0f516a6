package org.laplacelora.streams.calibrator;

/** The calibrator's drift detectors, by the names drift events carry. */
public enum Detector {
    /** Page-Hinkley on a method's per-outcome NLL. */
    PAGE_HINKLEY("page-hinkley", false),
    /** Page-Hinkley on a method's per-outcome error (0 right, 1 wrong). */
    PAGE_HINKLEY_ERROR("page-hinkley-error", false),
    /** A window's ECE above the version's first window's. */
    ECE_WINDOW("ece-window", false),
    /** A window of predictions whose mean entropy rose against the version's first window (no labels needed). */
    ENTROPY_RISE("entropy-rise", true),
    /** The same for the epistemic part of the entropy (the mutual information). */
    EPISTEMIC_RISE("epistemic-rise", true);

    private final String id;
    private final boolean labelFree;

    Detector(String id, boolean labelFree) {
        this.id = id;
        this.labelFree = labelFree;
    }

    public String id() {
        return id;
    }

    /** Whether it reads predictions alone (its events are shown, but a refit needs labels). */
    public boolean labelFree() {
        return labelFree;
    }

    /** The kind drift events carry: "label" or "label-free". */
    public String kind() {
        return labelFree ? "label-free" : "label";
    }
}
