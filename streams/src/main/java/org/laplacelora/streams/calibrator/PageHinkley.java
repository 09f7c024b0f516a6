package org.laplacelora.streams.calibrator;

import org.laplacelora.schemas.state.PageHinkleyState;

/**
 * The Page-Hinkley test for an increase in the mean of a stream (here the per-example NLL): with the
 * running mean x̄_t, m_t = Σ (x_i − x̄_i − δ) and M_t = min m_t; it fires when m_t − M_t exceeds λ, then
 * starts over. Works on its state record in place.
 */
final class PageHinkley {
    private final PageHinkleyState s;

    PageHinkley(PageHinkleyState state) {
        this.s = state;
    }

    static PageHinkleyState initial() {
        return PageHinkleyState.newBuilder().setVersion(-1).setN(0).setMean(0).setCumulative(0).setMinimum(0).build();
    }

    /** Adds x; returns the statistic m_t − M_t if it fires, else NaN. */
    double add(double x, double delta, double threshold, int minOutcomes) {
        s.setN(s.getN() + 1);
        s.setMean(s.getMean() + (x - s.getMean()) / s.getN());
        s.setCumulative(s.getCumulative() + x - s.getMean() - delta);
        s.setMinimum(Math.min(s.getMinimum(), s.getCumulative()));
        double statistic = s.getCumulative() - s.getMinimum();
        if (s.getN() >= minOutcomes && statistic > threshold) {
            reset(s);
            return statistic;
        }
        return Double.NaN;
    }

    /** Starts the test over (its version stays). */
    static void reset(PageHinkleyState s) {
        s.setN(0);
        s.setMean(0);
        s.setCumulative(0);
        s.setMinimum(0);
    }
}
