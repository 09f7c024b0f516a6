package org.laplacelora.streams.calibrator;

/** The calibrator's drift detectors, by the names drift events carry. */
public enum Detector {
    /** Page-Hinkley on a method's per-outcome NLL. */
    PAGE_HINKLEY("page-hinkley", false, true),
    /** Page-Hinkley on a method's per-outcome error (0 right, 1 wrong). */
    PAGE_HINKLEY_ERROR("page-hinkley-error", false, true),
    /** A window's ECE above the version's first window's. */
    ECE_WINDOW("ece-window", false, false),
    /** A window of predictions whose mean entropy rose against the version's first window (no labels needed). */
    ENTROPY_RISE("entropy-rise", true, false),
    /** The same for the epistemic part of the entropy (the mutual information). */
    EPISTEMIC_RISE("epistemic-rise", true, false);

    /** The kind of the drift events a label-free detector publishes. */
    public static final String LABEL_FREE = "label-free";

    private final String id;
    private final boolean labelFree;
    private final boolean changePoint;

    Detector(String id, boolean labelFree, boolean changePoint) {
        this.id = id;
        this.labelFree = labelFree;
        this.changePoint = changePoint;
    }

    /** The detector a drift event names, if it is one of these. */
    public static java.util.Optional<Detector> of(String id) {
        return java.util.Arrays.stream(values()).filter(d -> d.id.equals(id)).findFirst();
    }

    public String id() {
        return id;
    }

    /** Whether it reads predictions alone (its events are shown, but a refit needs labels). */
    public boolean labelFree() {
        return labelFree;
    }

    /**
     * Whether it marks where a change began (a cumulative test that fires once per version), rather than a level that
     * stays high for as long as the model is wrong (ECE windows fire every window until a swap).
     */
    public boolean changePoint() {
        return changePoint;
    }

    /** The kind drift events carry: "label" or "label-free". */
    public String kind() {
        return labelFree ? LABEL_FREE : "label";
    }
}
