package org.laplacelora.model.laplace.fit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.laplacelora.model.ReferenceCase;
import org.laplacelora.model.core.Categorical;
import org.laplacelora.model.laplace.curvature.CurvatureConvention;
import org.laplacelora.model.laplace.curvature.FisherType;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.posterior.PriorPrecision;
import org.laplacelora.model.laplace.posterior.TuningReport;
import org.laplacelora.model.laplace.predictive.LinearisedPredictive;
import org.laplacelora.model.laplace.predictive.Link;

class PriorTuningTest {
    private static ReferenceCase ref;
    private static LaplacePosterior posterior;

    @BeforeAll
    static void fit() {
        ref = new ReferenceCase();
        LaplaceFit.Settings settings = new LaplaceFit.Settings("winogrande", List.of("A", "B"), ref.answerIds,
                FisherType.EXACT, 1 << 20, 4, 0, 0);
        posterior = LaplaceFit.fit(ref.llama, ref.adapter, ref.train, EnumSet.of(CurvatureConvention.REDUCE), settings, n -> {})
                .get(CurvatureConvention.REDUCE);
    }

    @AfterAll
    static void close() {
        ref.close();
    }

    /** Adam's optimum is a stationary point, the maximum of a dense scan, and MacKay's fixed point λ = γ_eff/‖θ‖². */
    @Test
    void evidenceOptimumIsTheMaximumAndMackaysFixedPoint() {
        PriorTuning.Tuned t = PriorTuning.byEvidence(posterior, LaplacePosterior.ALL, false, 1, 2000);
        double lambda = t.prior().lambda();
        assertThat(Math.abs(posterior.logEvidenceGradient(t.prior(), LaplacePosterior.ALL))).isLessThan(1e-6);
        double best = Double.NEGATIVE_INFINITY;
        double bestLambda = 0;
        for (double lg = -4; lg <= 4; lg += 0.001) {
            double v = posterior.logEvidence(PriorPrecision.of(Math.pow(10, lg)), LaplacePosterior.ALL);
            if (v > best) {
                best = v;
                bestLambda = Math.pow(10, lg);
            }
        }
        assertThat(Math.abs(Math.log(lambda / bestLambda))).isLessThan(0.01);
        assertThat(t.objective()).isGreaterThanOrEqualTo(best - 1e-9);
        double mackay = ((TuningReport.Evidence) t.report()).mackayLambda();
        assertThat(Math.abs(mackay / lambda - 1)).isLessThan(1e-5);
    }

    @Test
    void perModuleEvidenceMaximisesEachModulesTerm() {
        PriorTuning.Tuned t = PriorTuning.byEvidence(posterior, LaplacePosterior.ALL, true, 1, 2000);
        assertThat(t.prior().perModule()).hasSize(11);
        PriorTuning.Tuned scalar = PriorTuning.byEvidence(posterior, LaplacePosterior.ALL, false, 1, 2000);
        assertThat(t.objective()).isGreaterThanOrEqualTo(scalar.objective() - 1e-9);
    }

    @Test
    void validationSearchFindsTheBestGridPointAndFlagsABoundary() {
        ValidationSet val = ValidationSet.compute(ref.llama, ref.adapter, ref.answerIds, ref.test, 0, ref.test.size(), List.of(posterior),
                n -> {});
        LinearisedPredictive binary = new LinearisedPredictive(Link.BINARY, 1, 0);
        PriorTuning.Tuned t = PriorTuning.byValidation(val, posterior, LaplacePosterior.ALL, binary, new double[] {1});
        for (double lg = -6; lg <= 6; lg += 0.25) {
            assertThat(t.objective()).isLessThanOrEqualTo(val.nll(posterior, PriorPrecision.of(Math.pow(10, lg)), LaplacePosterior.ALL, binary) + 1e-12);
        }
        // 3 of the 4 reference test answers are "A" at p ≈ 0.999 and one is wrong: the data want a wide
        // posterior, and the λ it picks lies inside the range.
        assertThat(t.atBoundary()).isFalse();
        // Labels the MAP gets right with confidence want the narrowest posterior: λ at the top of the range.
        int[] mapLabels = new int[4];
        for (int n = 0; n < 4; n++) {
            mapLabels[n] = val.mu()[n][0] > val.mu()[n][1] ? 0 : 1;
        }
        PriorTuning.Tuned edge = PriorTuning.byValidation(val.withLabels(mapLabels), posterior, LaplacePosterior.ALL, binary,
                new double[] {1});
        assertThat(edge.atBoundary()).isTrue();
    }

    @Test
    void temperatureScalingRecoversTheTemperatureThatGeneratedTheLabels() {
        Random r = new Random(4);
        int n = 20_000;
        double[][] mu = new double[n][];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            mu[i] = new double[] {r.nextGaussian() * 4, r.nextGaussian() * 4, r.nextGaussian() * 4};
            double[] p = Categorical.softmax(new double[] {mu[i][0] / 2, mu[i][1] / 2, mu[i][2] / 2});
            double u = r.nextDouble();
            labels[i] = u < p[0] ? 0 : u < p[0] + p[1] ? 1 : 2;
        }
        assertThat(PriorTuning.temperature(mu, labels)).isBetween(1.9, 2.1);
    }
}
