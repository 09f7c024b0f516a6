package org.laplacelora.streams.calibrator;

import io.soabase.recordbuilder.core.RecordBuilder;
import java.time.Duration;
import org.laplacelora.model.laplace.predictive.Method;

/**
 * How the calibrator joins, windows and watches for drift.
 *
 * @param horizon how long a prediction waits for its label before it is counted missing
 * @param windowSize labelled outcomes per tumbling window
 * @param phDelta Page-Hinkley tolerance δ (nats of NLL ignored as noise per outcome)
 * @param phThreshold Page-Hinkley alarm threshold λ (nats)
 * @param phMinOutcomes outcomes before Page-Hinkley may fire (and after each alarm)
 * @param eceRise windowed ECE above the reference window's by more than this fires (fraction)
 * @param driftMethod the method whose outcomes the detectors watch
 * @param commitInterval how often its transactions commit
 */
@RecordBuilder
public record CalibratorSettings(Duration horizon, int windowSize, double phDelta, double phThreshold, int phMinOutcomes,
                                 double eceRise, Method driftMethod, Duration commitInterval)
        implements CalibratorSettingsBuilder.With {
    public CalibratorSettings {
        if (windowSize <= 0 || horizon.isNegative() || horizon.isZero()) {
            throw new IllegalArgumentException("window size and horizon must be positive");
        }
        if (!CalibratorTopology.METHODS.contains(driftMethod)) {
            throw new IllegalArgumentException("the calibrator watches " + CalibratorTopology.METHODS + ", not " + driftMethod.id());
        }
    }

    public static CalibratorSettings defaults() {
        return new CalibratorSettings(Duration.ofMinutes(10), 100, 0.1, 25, 30, 0.15, Method.LAPLACE, Duration.ofMillis(100));
    }
}
