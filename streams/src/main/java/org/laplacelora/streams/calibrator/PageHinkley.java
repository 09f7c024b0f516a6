package org.laplacelora.streams.calibrator;

import java.nio.ByteBuffer;

/**
 * The Page-Hinkley test for an increase in the mean of a stream (here the per-example NLL): with the
 * running mean x̄_t, m_t = Σ (x_i − x̄_i − δ) and M_t = min m_t; it fires when m_t − M_t exceeds λ, then
 * starts over.
 */
final class PageHinkley {
    private long n;
    private double mean;
    private double cumulative;
    private double minimum;

    /** Adds x; returns the statistic m_t − M_t if it fires, else NaN. */
    double add(double x, double delta, double threshold, int minOutcomes) {
        n++;
        mean += (x - mean) / n;
        cumulative += x - mean - delta;
        minimum = Math.min(minimum, cumulative);
        double statistic = cumulative - minimum;
        if (n >= minOutcomes && statistic > threshold) {
            n = 0;
            mean = 0;
            cumulative = 0;
            minimum = 0;
            return statistic;
        }
        return Double.NaN;
    }

    byte[] encode() {
        return ByteBuffer.allocate(32).putLong(n).putDouble(mean).putDouble(cumulative).putDouble(minimum).array();
    }

    static PageHinkley decode(byte[] bytes) {
        PageHinkley p = new PageHinkley();
        if (bytes != null) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            p.n = b.getLong();
            p.mean = b.getDouble();
            p.cumulative = b.getDouble();
            p.minimum = b.getDouble();
        }
        return p;
    }
}
