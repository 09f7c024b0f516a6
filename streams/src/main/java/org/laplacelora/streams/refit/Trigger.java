package org.laplacelora.streams.refit;

import java.util.Locale;

/** What can start a refit. Declared in the order their names join in a report's trigger ("drift+labels"). */
public enum Trigger {
    /** A drift event of the calibrator. */
    DRIFT,
    /** The refit interval passed. */
    INTERVAL,
    /** M new labels came. */
    LABELS,
    /** A request: refit --now. */
    MANUAL;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
