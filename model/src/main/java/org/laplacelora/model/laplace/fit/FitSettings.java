package org.laplacelora.model.laplace.fit;

import io.soabase.recordbuilder.core.RecordBuilder;
import java.util.EnumSet;
import java.util.Set;
import org.laplacelora.model.laplace.curvature.CurvatureConvention;
import org.laplacelora.model.laplace.curvature.FisherType;

/**
 * How {@link PosteriorFitting} fits and tunes a posterior.
 *
 * @param conventions the K-FAC conventions to fit (one pass fits all of them); empty for reduce
 * @param sketchRank rank k of the low-rank sketch of every factor larger than k (Algorithm 1)
 * @param perModulePrior one λ per adapted module (evidence protocol)
 * @param tuningSamples Monte Carlo samples per validation question when tuning with more than two classes
 * @param curvatureScale a fixed τ for every convention, or NaN for the default: tuned on validation for
 *     the paper's convention, 1 otherwise
 * @param seed the sampled Fisher's and Monte Carlo's seed
 */
@RecordBuilder
public record FitSettings(Set<CurvatureConvention> conventions, FisherType fisher, int sketchRank, int batchSize,
                          boolean perModulePrior, int tuningSamples, double curvatureScale, long seed)
        implements FitSettingsBuilder.With {
    /** τ grid for {@link CurvatureConvention#PAPER}: 10^-3 … 1 (its factors over-count by up to the sequence length). */
    public static final double[] PAPER_TAUS = taus();

    public FitSettings {
        conventions = conventions.isEmpty() ? EnumSet.of(CurvatureConvention.REDUCE) : EnumSet.copyOf(conventions);
    }

    private static double[] taus() {
        double[] t = new double[13];
        for (int i = 0; i < t.length; i++) {
            t[i] = Math.pow(10, -3 + 0.25 * i);
        }
        return t;
    }

    /** The τ values tuned with λ on validation for a convention. */
    public double[] taus(CurvatureConvention c) {
        if (!Double.isNaN(curvatureScale)) {
            return new double[] {curvatureScale};
        }
        return c == CurvatureConvention.PAPER ? PAPER_TAUS : new double[] {1};
    }

    /** τ under the evidence protocol. */
    public double evidenceTau() {
        return Double.isNaN(curvatureScale) ? 1 : curvatureScale;
    }
}
