package org.laplacelora.streams.calibrator;

import org.laplacelora.schemas.state.PageHinkleyState;

/**
 * The Page-Hinkley test for an increase in the mean of a stream (a method's per-outcome NLL, or its error), with
 * the mean before the change known: the stream's first {@code minOutcomes} values (the reference) give it, and
 * standardise the rest, z = (x − mean_ref) / sd_ref. Then m_t = Σ (z_i − δ), M_t = min m_t, and it fires when
 * m_t − M_t exceeds λ (a one-sided CUSUM), once per posterior version: the drift is news once, and a newer version
 * (a refit, a rollback) re-references it. Against the running mean of
 * the classic form, the known reference does not let the changed values dampen their own alarm; standardising
 * gives δ and λ one meaning for every method and signal: an overconfident MAP's NLL, mostly near 0 with a wrong
 * answer now and then at several nats, is as quiet in z as Laplace-LoRA's. Works on its state record in place.
 */
final class PageHinkley {
    /** The smallest reference spread: a constant reference would make any wiggle an alarm. */
    private static final double MIN_SD = 0.1;

    private final PageHinkleyState s;

    PageHinkley(PageHinkleyState state) {
        this.s = state;
    }

    static PageHinkleyState initial() {
        return PageHinkleyState.newBuilder().setVersion(-1).setReferenceN(0).setReferenceMean(0).setReferenceM2(0).setFired(false)
                .setN(0).setCumulative(0).setMinimum(0).build();
    }

    /** Adds x; returns the statistic m_t − M_t (in reference standard deviations) if it fires, else NaN. */
    double add(double x, double delta, double threshold, int minOutcomes) {
        if (s.getFired()) {
            return Double.NaN;
        }
        if (s.getReferenceN() < minOutcomes) {
            long n = s.getReferenceN() + 1;
            double d = x - s.getReferenceMean();
            s.setReferenceN(n);
            s.setReferenceMean(s.getReferenceMean() + d / n);
            s.setReferenceM2(s.getReferenceM2() + d * (x - s.getReferenceMean()));
            return Double.NaN;
        }
        double sd = Math.max(MIN_SD, Math.sqrt(s.getReferenceM2() / s.getReferenceN()));
        double z = (x - s.getReferenceMean()) / sd;
        s.setN(s.getN() + 1);
        s.setCumulative(s.getCumulative() + z - delta);
        s.setMinimum(Math.min(s.getMinimum(), s.getCumulative()));
        double statistic = s.getCumulative() - s.getMinimum();
        if (statistic > threshold) {
            restart(s);
            s.setFired(true);
            return statistic;
        }
        return Double.NaN;
    }

    /** Starts the sums over, keeping the reference. */
    static void restart(PageHinkleyState s) {
        s.setN(0);
        s.setCumulative(0);
        s.setMinimum(0);
    }

    /** Starts over with a new reference (a new posterior version). */
    static void reset(PageHinkleyState s, long version) {
        restart(s);
        s.setFired(false);
        s.setReferenceN(0);
        s.setReferenceMean(0);
        s.setReferenceM2(0);
        s.setVersion(version);
    }
}
