package org.laplacelora.model.laplace.fit;

import static org.assertj.core.api.Assertions.assertThat;

import static org.assertj.core.api.Assertions.within;

import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
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
    private static ReferenceCase case2;
    private static Map<CurvatureConvention, LaplacePosterior> posteriors2;

    @BeforeAll
    static void fit() {
        ref = ReferenceCase.case1();
        LaplaceFit.Settings settings = new LaplaceFit.Settings("winogrande", List.of("A", "B"), ref.answerIds,
                FisherType.EXACT, 1 << 20, 4, 0, 0);
        posterior = LaplaceFit.fit(ref.llama, ref.adapter, ref.train, EnumSet.of(CurvatureConvention.REDUCE), settings, n -> {})
                .get(CurvatureConvention.REDUCE);
        case2 = ReferenceCase.case2();
        // one sequence per batch: the paper's convention counts padding, the reference has none
        posteriors2 = LaplaceFit.fit(case2.llama, case2.adapter, case2.train, EnumSet.allOf(CurvatureConvention.class),
                case2.fitSettings(1 << 20, 1), n -> {});
    }

    @AfterAll
    static void close() {
        ref.close();
        case2.close();
    }

    private static LaplacePosterior reduce(String caseName) {
        return caseName.equals("case1") ? posterior : posteriors2.get(CurvatureConvention.REDUCE);
    }

    /** Adam's optimum is a stationary point, the maximum of a dense scan, and MacKay's fixed point λ = γ_eff/‖θ‖². */
    @ParameterizedTest
    @ValueSource(strings = {"case1", "case2"})
    void evidenceOptimumIsTheMaximumAndMackaysFixedPoint(String caseName) {
        LaplacePosterior posterior = reduce(caseName);
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

    @ParameterizedTest
    @ValueSource(strings = {"case1", "case2"})
    void perModuleEvidenceMaximisesEachModulesTerm(String caseName) {
        LaplacePosterior posterior = reduce(caseName);
        PriorTuning.Tuned t = PriorTuning.byEvidence(posterior, LaplacePosterior.ALL, true, 1, 2000);
        assertThat(t.prior().perModule()).hasSize(11);
        PriorTuning.Tuned scalar = PriorTuning.byEvidence(posterior, LaplacePosterior.ALL, false, 1, 2000);
        assertThat(t.objective()).isGreaterThanOrEqualTo(scalar.objective() - 1e-9);
    }

    /**
     * The evidence maxima of case 2's README (d log Z/d log λ = 0; the case is built so that the conventions
     * separate), to half a unit in the last of the three digits printed there.
     */
    @Test
    void fourClassEvidenceMaximaAreTheReferences() {
        Map<CurvatureConvention, double[]> want = Map.of(CurvatureConvention.LAST, new double[] {5.35e-3, 0.005e-3},
                CurvatureConvention.EXPAND, new double[] {2.52e-2, 0.005e-2}, CurvatureConvention.REDUCE, new double[] {8.84e-3, 0.005e-3},
                CurvatureConvention.PAPER, new double[] {0.109, 0.0005});
        want.forEach((conv, w) -> {
            double lambda = PriorTuning.byEvidence(posteriors2.get(conv), LaplacePosterior.ALL, false, 1, 2000).prior().lambda();
            assertThat(lambda).as("%s", conv).isCloseTo(w[0], within(w[1]));
        });
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

    /**
     * With four classes and the deterministic probit link: the search's optimum is at least as good as every
     * grid point. The MAP gets 1 of the 4 test answers right (a random adapter), so the data want the widest
     * posterior, λ at the bottom of the range; labels the MAP predicts want the narrowest, λ at the top.
     */
    @Test
    void fourClassValidationSearchFindsTheBestGridPointAndFlagsABoundary() {
        LaplacePosterior reduce = posteriors2.get(CurvatureConvention.REDUCE);
        ValidationSet val = ValidationSet.compute(case2.llama, case2.adapter, case2.answerIds, case2.test, 0, case2.test.size(),
                List.of(reduce), n -> {});
        LinearisedPredictive probit = new LinearisedPredictive(Link.PROBIT, 1, 0);
        PriorTuning.Tuned t = PriorTuning.byValidation(val, reduce, LaplacePosterior.ALL, probit, new double[] {1});
        for (double lg = -6; lg <= 6; lg += 0.25) {
            assertThat(t.objective()).isLessThanOrEqualTo(val.nll(reduce, PriorPrecision.of(Math.pow(10, lg)), LaplacePosterior.ALL, probit) + 1e-12);
        }
        assertThat(t.atBoundary()).isTrue();
        assertThat(t.prior().lambda()).isCloseTo(Math.pow(10, PriorTuning.LOG10_LAMBDA_MIN), within(1e-12));
        int[] mapLabels = new int[4];
        for (int n = 0; n < 4; n++) {
            mapLabels[n] = Categorical.argmax(val.mu()[n]);
        }
        PriorTuning.Tuned edge = PriorTuning.byValidation(val.withLabels(mapLabels), reduce, LaplacePosterior.ALL, probit,
                new double[] {1});
        assertThat(edge.atBoundary()).isTrue();
        assertThat(edge.prior().lambda()).isCloseTo(Math.pow(10, PriorTuning.LOG10_LAMBDA_MAX), within(1e-6));
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

    /**
     * Labels that the logits say nothing about (each logit vector twice, once with each label) have no finite
     * NLL-optimal temperature: the NLL falls towards ln 2 as T grows. The capped fit stops at its cap, 5, and says
     * so; the uncapped one runs to the end of its search and says so. Labels drawn at T = 2 are fitted inside both
     * ranges, unflagged, at the same temperature.
     */
    @Test
    void aTemperatureOnItsCapIsFlaggedAndTheUncappedFitGoesOn() {
        Random r = new Random(5);
        int n = 5_000;
        double[][] mu = new double[2 * n][];
        int[] noise = new int[2 * n];
        int[] drawn = new int[2 * n];
        for (int i = 0; i < n; i++) {
            mu[2 * i] = new double[] {r.nextGaussian() * 4, r.nextGaussian() * 4};
            mu[2 * i + 1] = mu[2 * i];
            noise[2 * i + 1] = 1;
            for (int c = 0; c < 2; c++) {
                double p0 = Categorical.softmax(new double[] {mu[2 * i][0] / 2, mu[2 * i][1] / 2})[0];
                drawn[2 * i + c] = r.nextDouble() < p0 ? 0 : 1;
            }
        }
        PriorTuning.Temperature capped = PriorTuning.temperature(mu, noise, PriorTuning.TEMPERATURE_CAP);
        assertThat(capped.atCap()).isTrue();
        assertThat(capped.value()).isCloseTo(PriorTuning.TEMPERATURE_CAP, within(1e-3));
        PriorTuning.Temperature uncapped = PriorTuning.temperature(mu, noise, PriorTuning.UNCAPPED_TEMPERATURE_END);
        assertThat(uncapped.atCap()).isTrue();
        assertThat(uncapped.value()).isCloseTo(PriorTuning.UNCAPPED_TEMPERATURE_END, within(1.0));
        PriorTuning.Temperature fitted = PriorTuning.temperature(mu, drawn, PriorTuning.TEMPERATURE_CAP);
        PriorTuning.Temperature fittedUncapped = PriorTuning.temperature(mu, drawn, PriorTuning.UNCAPPED_TEMPERATURE_END);
        assertThat(fitted.atCap()).isFalse();
        assertThat(fittedUncapped.atCap()).isFalse();
        assertThat(fitted.value()).isBetween(1.7, 2.3);
        assertThat(fittedUncapped.value()).isCloseTo(fitted.value(), within(1e-3));
    }
}
