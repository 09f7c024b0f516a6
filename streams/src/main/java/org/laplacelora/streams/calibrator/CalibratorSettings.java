package org.laplacelora.streams.calibrator;

import io.soabase.recordbuilder.core.RecordBuilder;
import java.time.Duration;

/**
 * How the calibrator joins, windows and watches for drift.
 *
 * @param horizon how long a prediction waits for its label before it is counted missing
 * @param windowSize labelled outcomes per tumbling window
 * @param phDelta Page-Hinkley tolerance δ per outcome, in standard deviations of the version's reference outcomes
 * @param phThreshold Page-Hinkley alarm threshold λ, in the same units
 * @param phMinOutcomes the reference: a version's first outcomes, which standardise its tests
 * @param eceRise windowed ECE above the reference window's by more than this fires (fraction)
 * @param labelFreeZ a window of predictions whose mean entropy (or epistemic part) is this many standard errors above
 *     the version's first window's fires
 * @param commitInterval how often its transactions commit
 * @param segmentAttribute the question attribute whose values get calibration of their own
 * @param maxSegments at most this many values are kept apart (later ones are pooled as "(other)")
 */
@RecordBuilder
public record CalibratorSettings(Duration horizon, int windowSize, double phDelta, double phThreshold, int phMinOutcomes,
                                 double eceRise, double labelFreeZ, Duration commitInterval, String segmentAttribute,
                                 int maxSegments)
        implements CalibratorSettingsBuilder.With {
    public CalibratorSettings {
        if (windowSize <= 0 || horizon.isNegative() || horizon.isZero()) {
            throw new IllegalArgumentException("window size and horizon must be positive");
        }
        if (maxSegments < 2) {
            throw new IllegalArgumentException("--max-segments must be at least 2 (one value and \"(other)\")");
        }
    }

    public static CalibratorSettings defaults() {
        return new CalibratorSettings(Duration.ofMinutes(10), 100, 0.5, 25, 100, 0.15, 5, Duration.ofMillis(100), "segment", 16);
    }
}
