package org.laplacelora.model.metrics;

import java.util.List;

/**
 * Calibration of a set of predictions, the paper's way: accuracy, ECE over {@link Calibration#BINS}
 * equal-width bins of the top-1 confidence, NLL in nats, multiclass Brier score (range [0, 2]), all as
 * fractions. {@code meanConfidenceMinusAccuracy} is signed: positive = overconfident.
 */
public record CalibrationScores(long n, double accuracy, double ece, double nll, double brier,
                                 double meanConfidenceMinusAccuracy, List<ReliabilityBin> bins) {
    /** One confidence bin (lower, upper]: how many predictions fell in it, their mean confidence and accuracy. */
    public record ReliabilityBin(double lower, double upper, long count, double meanConfidence, double accuracy) {}
}
