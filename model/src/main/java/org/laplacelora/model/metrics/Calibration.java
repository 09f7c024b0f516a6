package org.laplacelora.model.metrics;

import java.util.ArrayList;
import java.util.List;
import org.laplacelora.model.core.Categorical;

/**
 * A mergeable accumulator of calibration statistics: add predictions one at a time (or merge two
 * accumulators of disjoint predictions) and read {@link CalibrationScores} at any point. Holds only
 * sums, so it is O(bins) in size however many predictions it has seen.
 *
 * <p>ECE bins are ((b−1)/M, b/M] on the top-1 confidence, bin = clip(⌈M·conf⌉ − 1, 0, M − 1); the argmax
 * takes the first maximum. Probabilities are clamped at 1e-12 before the log.
 */
public final class Calibration {
    public static final int BINS = 10;
    private static final double MIN_PROBABILITY = 1e-12;

    private long n;
    private long correct;
    private double nllSum;
    private double brierSum;
    private double confidenceSum;
    private final long[] binCount = new long[BINS];
    private final long[] binCorrect = new long[BINS];
    private final double[] binConfidence = new double[BINS];

    /** Adds one prediction: its probability vector over the classes and the true class. */
    public Calibration add(double[] probabilities, int label) {
        if (label < 0 || label >= probabilities.length) {
            throw new IllegalArgumentException("label " + label + " outside 0.." + (probabilities.length - 1));
        }
        int predicted = Categorical.argmax(probabilities);
        double confidence = probabilities[predicted];
        boolean hit = predicted == label;
        n++;
        correct += hit ? 1 : 0;
        nllSum += -Math.log(Math.max(probabilities[label], MIN_PROBABILITY));
        double brier = 0;
        for (int c = 0; c < probabilities.length; c++) {
            double d = probabilities[c] - (c == label ? 1 : 0);
            brier += d * d;
        }
        brierSum += brier;
        confidenceSum += confidence;
        int b = bin(confidence);
        binCount[b]++;
        binCorrect[b] += hit ? 1 : 0;
        binConfidence[b] += confidence;
        return this;
    }

    /** Adds everything {@code other} has seen (other is unchanged). */
    public Calibration merge(Calibration other) {
        n += other.n;
        correct += other.correct;
        nllSum += other.nllSum;
        brierSum += other.brierSum;
        confidenceSum += other.confidenceSum;
        for (int b = 0; b < BINS; b++) {
            binCount[b] += other.binCount[b];
            binCorrect[b] += other.binCorrect[b];
            binConfidence[b] += other.binConfidence[b];
        }
        return this;
    }

    public long count() {
        return n;
    }

    /** What an accumulator holds, exactly: its counts and sums overall and per confidence bin. */
    public record Sums(long n, long correct, double nllSum, double brierSum, double confidenceSum, long[] binCount,
                       long[] binCorrect, double[] binConfidence) {
        public Sums {
            if (binCount.length != BINS || binCorrect.length != BINS || binConfidence.length != BINS) {
                throw new IllegalArgumentException("calibration sums have " + BINS + " bins");
            }
        }
    }

    /** The sums so far (for state stores); {@link #of(Sums)} restores them exactly. */
    public Sums sums() {
        return new Sums(n, correct, nllSum, brierSum, confidenceSum, binCount.clone(), binCorrect.clone(), binConfidence.clone());
    }

    public static Calibration of(Sums s) {
        Calibration c = new Calibration();
        c.n = s.n();
        c.correct = s.correct();
        c.nllSum = s.nllSum();
        c.brierSum = s.brierSum();
        c.confidenceSum = s.confidenceSum();
        System.arraycopy(s.binCount(), 0, c.binCount, 0, BINS);
        System.arraycopy(s.binCorrect(), 0, c.binCorrect, 0, BINS);
        System.arraycopy(s.binConfidence(), 0, c.binConfidence, 0, BINS);
        return c;
    }

    static int bin(double confidence) {
        return Math.min(BINS - 1, Math.max(0, (int) Math.ceil(BINS * confidence) - 1));
    }

    public CalibrationScores metrics() {
        if (n == 0) {
            return new CalibrationScores(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, bins());
        }
        double ece = 0;
        for (int b = 0; b < BINS; b++) {
            if (binCount[b] > 0) {
                ece += Math.abs((double) binCorrect[b] - binConfidence[b]) / n;
            }
        }
        double accuracy = (double) correct / n;
        return new CalibrationScores(n, accuracy, ece, nllSum / n, brierSum / n, confidenceSum / n - accuracy, bins());
    }

    private List<CalibrationScores.ReliabilityBin> bins() {
        List<CalibrationScores.ReliabilityBin> out = new ArrayList<>();
        for (int b = 0; b < BINS; b++) {
            long c = binCount[b];
            out.add(new CalibrationScores.ReliabilityBin((double) b / BINS, (double) (b + 1) / BINS, c,
                    c == 0 ? Double.NaN : binConfidence[b] / c, c == 0 ? Double.NaN : (double) binCorrect[b] / c));
        }
        return out;
    }

    /** Metrics of a whole set of predictions. */
    public static CalibrationScores of(List<double[]> probabilities, int[] labels) {
        Calibration c = new Calibration();
        for (int i = 0; i < labels.length; i++) {
            c.add(probabilities.get(i), labels[i]);
        }
        return c.metrics();
    }
}
