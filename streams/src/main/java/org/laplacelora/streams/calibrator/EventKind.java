package org.laplacelora.streams.calibrator;

import java.util.Locale;

/** What the join produced for the metrics task (the {@code kind} of its internal CalibratorEvent). */
enum EventKind {
    /** A prediction met its label. */
    OUTCOME,
    /** No label within the horizon. */
    LABEL_MISSING,
    /** A label after that. */
    LABEL_LATE,
    /** A prediction as it came (for the label-free detectors). */
    PREDICTION;

    String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The kind of that id, or null for one this version does not know. */
    static EventKind parse(String id) {
        for (EventKind k : values()) {
            if (k.id().equals(id)) {
                return k;
            }
        }
        return null;
    }
}
