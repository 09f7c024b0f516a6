package org.laplacelora.streams.calibrator;

import java.time.Duration;

/**
 * @param horizon how long a prediction waits for its label before it is counted missing
 * @param windowSize labelled outcomes per tumbling window
 * @param phDelta Page-Hinkley tolerance δ (nats of NLL ignored as noise per outcome)
 * @param phThreshold Page-Hinkley alarm threshold λ (nats)
 * @param phMinOutcomes outcomes before Page-Hinkley may fire (and after each alarm)
 * @param eceRise windowed ECE above the reference window's by more than this fires (fraction)
 * @param driftMethod the method whose outcomes the detectors watch
 */
public record CalibratorSettings(Duration horizon, int windowSize, double phDelta, double phThreshold, int phMinOutcomes,
                                 double eceRise, String driftMethod) {
    public CalibratorSettings {
        if (windowSize <= 0 || horizon.isNegative() || horizon.isZero()) {
            throw new IllegalArgumentException("window size and horizon must be positive");
        }
    }

    public static CalibratorSettings defaults() {
        return new CalibratorSettings(Duration.ofMinutes(10), 100, 0.1, 25, 30, 0.15, "laplace");
    }
}
