package org.laplacelora.model.laplace.predictive;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.laplacelora.model.ReferenceCase;
import org.laplacelora.model.core.Categorical;
import org.laplacelora.model.laplace.curvature.CurvatureConvention;
import org.laplacelora.model.laplace.curvature.FisherType;
import org.laplacelora.model.laplace.fit.LaplaceFit;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.posterior.PriorPrecision;

/**
 * The K-FAC posterior and the linearised predictive against the float64 reference case (λ = 1, every
 * convention), and against a dense GGN Laplace computed by brute force from the full Jacobians.
 */
class PosteriorPredictiveTest {
    private static ReferenceCase ref;
    private static Map<CurvatureConvention, LaplacePosterior> posteriors;
    private static JacobianBatch testJacobians;

    @BeforeAll
    static void fit() {
        ref = new ReferenceCase();
        LaplaceFit.Settings settings = new LaplaceFit.Settings("winogrande", List.of("A", "B"), ref.answerIds,
                FisherType.EXACT, 1 << 20, 1, 0, 0);
        posteriors = LaplaceFit.fit(ref.llama, ref.adapter, ref.train, EnumSet.allOf(CurvatureConvention.class), settings, n -> {});
        testJacobians = JacobianBatch.compute(ref.llama, ref.adapter, ref.answerIds, ref.test, 0, ref.manager); // padded batch of 4
    }

    @AfterAll
    static void close() {
        testJacobians.close();
        ref.close();
    }

    private static double rel(double got, double want) {
        return Math.abs(got - want) / Math.abs(want);
    }

    @Test
    void logitDifferenceVarianceAndSigmaDiagonalMatchTheReference() {
        for (CurvatureConvention conv : CurvatureConvention.values()) {
            LaplacePosterior posterior = posteriors.get(conv);
            assertThat(posterior.parameterCount(LaplacePosterior.ALL)).isEqualTo(ref.json.get("P").asLong());
            ProjectedJacobians projected = ProjectedJacobians.of(posterior, testJacobians);
            JsonNode want = ref.json.get("predictive").get("methods").get(conv.id()).get("logit_diff_var");
            for (int n = 0; n < 4; n++) {
                double v = projected.covariance(n, PriorPrecision.of(ref.lambda()), LaplacePosterior.ALL)[0];
                assertThat(rel(v, want.get(n).asDouble())).as("%s test %d", conv, n).isLessThan(1e-9);
            }
            double[] diag = posterior.covarianceDiagonal(PriorPrecision.of(ref.lambda()), LaplacePosterior.ALL);
            assertThat(ReferenceCase.relativeError(diag, ref.doubles("posterior." + conv.id() + ".sigma_diag")))
                    .as("%s diag Σ", conv).isLessThan(1e-12);
        }
    }

    @Test
    void everyLinkGivesTheReferenceProbabilities() {
        for (CurvatureConvention conv : CurvatureConvention.values()) {
            JsonNode method = ref.json.get("predictive").get("methods").get(conv.id());
            ProjectedJacobians projected = ProjectedJacobians.of(posteriors.get(conv), testJacobians);
            LinearisedPredictive binary = new LinearisedPredictive(Link.BINARY, 1, 0);
            LinearisedPredictive probit = new LinearisedPredictive(Link.PROBIT, 1, 0);
            LinearisedPredictive mc = new LinearisedPredictive(Link.MC, 400_000, 7);
            for (int n = 0; n < 4; n++) {
                double[] mu = testJacobians.mu()[n];
                double[] s = projected.covariance(n, PriorPrecision.of(ref.lambda()), LaplacePosterior.ALL);
                double wantExact = method.get("binary_exact").get("p").get(n).get(1).asDouble();
                assertThat(binary.predict(mu, s, "t" + n).probabilities()[1]).isCloseTo(wantExact, org.assertj.core.data.Offset.offset(1e-9));
                assertThat(probit.predict(mu, s, "t" + n).probabilities()[1])
                        .isCloseTo(method.get("probit_full").get("p").get(n).get(1).asDouble(), org.assertj.core.data.Offset.offset(1e-9));
                // Monte Carlo: within 4 standard errors of the exact value (SE from the reference's 1e6 samples, scaled).
                double se = method.get("mc").get("standard_error").get(n).get(1).asDouble() * Math.sqrt(1e6 / 400_000);
                LinearisedPredictive.Distribution p = mc.predict(mu, s, "t" + n);
                assertThat(Math.abs(p.probabilities()[1] - wantExact)).isLessThan(4 * se);
                assertThat(p.epistemic()).isPositive().isLessThan(p.entropy());
                assertThat(mc.predict(mu, s, "t" + n).probabilities()).containsExactly(p.probabilities()); // seeded per question
            }
        }
    }

    @Test
    void evidenceAndItsGradientMatchTheReference() {
        for (CurvatureConvention conv : CurvatureConvention.values()) {
            LaplacePosterior posterior = posteriors.get(conv);
            assertThat(rel(posterior.info().trainLogLikelihood(), ref.json.get("LL_train").asDouble())).isLessThan(1e-10);
            assertThat(rel(posterior.info().thetaSquaredTotal(), ref.json.get("theta_sq").asDouble())).isLessThan(1e-12);
            for (JsonNode e : ref.json.get("evidence").get(conv.id())) {
                PriorPrecision p = PriorPrecision.of(e.get("lambda").asDouble());
                assertThat(rel(posterior.logEvidence(p, LaplacePosterior.ALL), e.get("log_evidence").asDouble())).as("%s log Z", conv).isLessThan(1e-10);
                assertThat(rel(posterior.logEvidenceGradient(p, LaplacePosterior.ALL), e.get("dlogZ_dloglam").asDouble()))
                        .as("%s d log Z", conv).isLessThan(1e-8);
                assertThat(rel(posterior.effectiveParameters(p, LaplacePosterior.ALL), e.get("gamma_eff").asDouble())).isLessThan(1e-8);
                // and the analytic gradient against central finite differences in log λ
                double h = 1e-5;
                double fd = (posterior.logEvidence(p.withLambda(p.lambda() * Math.exp(h)), LaplacePosterior.ALL)
                        - posterior.logEvidence(p.withLambda(p.lambda() * Math.exp(-h)), LaplacePosterior.ALL)) / (2 * h);
                assertThat(Math.abs(fd - posterior.logEvidenceGradient(p, LaplacePosterior.ALL))).isLessThan(1e-6);
            }
        }
    }

    // ---------------------------------------------------------------- dense GGN by brute force

    /** Full Jacobian rows J_n (K × P, θ in block order) of a batch. */
    private static double[][] fullJacobians(JacobianBatch j) {
        List<double[]> blocks = new ArrayList<>();
        for (NDArray a : j.blocks().values()) {
            blocks.add(a.toDoubleArray()); // [B, K=1, g, a]
        }
        int p = 0;
        for (NDArray a : j.blocks().values()) {
            p += (int) (a.getShape().get(2) * a.getShape().get(3));
        }
        double[][] out = new double[j.size()][p];
        for (int n = 0; n < j.size(); n++) {
            int at = 0;
            int b = 0;
            for (NDArray a : j.blocks().values()) {
                int size = (int) (a.getShape().get(2) * a.getShape().get(3));
                System.arraycopy(blocks.get(b++), n * size, out[n], at, size);
                at += size;
            }
        }
        return out;
    }

    /**
     * S_test = J Σ Jᵀ with Σ = (H + λI)⁻¹, H = Σ_n p_n(1−p_n) J_n J_nᵀ = ΦᵀΦ (binary: Λ_d = p(1 − p)), by Woodbury
     * on Φ: Σ = (1/λ)(I − Φᵀ(λI + ΦΦᵀ)⁻¹Φ). No Kronecker approximation anywhere.
     */
    private static double[] denseVariance(double[][] trainJ, double[][] trainMu, double[][] testJ, double lambda,
                                          java.util.function.IntPredicate keep) {
        int n = trainJ.length;
        int p = trainJ[0].length;
        double[][] phi = new double[n][p];
        for (int i = 0; i < n; i++) {
            double[] prob = Categorical.softmax(trainMu[i]);
            double w = Math.sqrt(prob[0] * prob[1]);
            for (int q = 0; q < p; q++) {
                phi[i][q] = keep.test(q) ? w * trainJ[i][q] : 0;
            }
        }
        double[] inner = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                inner[i * n + j] = dot(phi[i], phi[j]) + (i == j ? lambda : 0);
            }
        }
        double[] inv = DenseLinalg.inverseSpd(inner, n);
        double[] out = new double[testJ.length];
        for (int t = 0; t < testJ.length; t++) {
            double[] j = new double[p];
            for (int q = 0; q < p; q++) {
                j[q] = keep.test(q) ? testJ[t][q] : 0;
            }
            double[] c = new double[n];
            for (int i = 0; i < n; i++) {
                c[i] = dot(phi[i], j);
            }
            double quad = 0;
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < n; k++) {
                    quad += c[i] * inv[i * n + k] * c[k];
                }
            }
            out[t] = (dot(j, j) - quad) / lambda;
        }
        return out;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    @Test
    void denseGgnLaplaceMatchesTheReferenceAndKfacIsCloseToIt() {
        try (JacobianBatch train = JacobianBatch.compute(ref.llama, ref.adapter, ref.answerIds, ref.train, 0, ref.manager)) {
            double[] dense = denseVariance(fullJacobians(train), train.mu(), fullJacobians(testJacobians), ref.lambda(), q -> true);
            JsonNode want = ref.json.get("predictive").get("methods").get("dense").get("logit_diff_var");
            for (int t = 0; t < 4; t++) {
                assertThat(rel(dense[t], want.get(t).asDouble())).isLessThan(1e-9);
            }
            // K-FAC vs the dense GGN on the logit-difference variance at λ = 1 (a prior-dominated case). Measured:
            // paper +6.6..+9.1%, expand +14.3..+17.5%, reduce +14.1..+17.1%, last +14.4..+17.6% over the 4 test
            // examples; always wider, since block-diagonal K-FAC drops the curvature between blocks (the paper's
            // over-counted factors partly make up for it here). Bound: 20%.
            for (CurvatureConvention conv : CurvatureConvention.values()) {
                ProjectedJacobians projected = ProjectedJacobians.of(posteriors.get(conv), testJacobians);
                for (int t = 0; t < 4; t++) {
                    double kfac = projected.covariance(t, PriorPrecision.of(ref.lambda()), LaplacePosterior.ALL)[0];
                    assertThat(rel(kfac, dense[t])).as("%s test %d", conv, t).isLessThan(0.20);
                }
            }
        }
    }

    /**
     * Where K-FAC is exact, it equals the dense GGN: one training example (N = 1) and one block of the
     * LM head (used only at the last position). Checked for both head blocks, at a λ small enough that
     * the curvature dominates.
     */
    @Test
    void kfacEqualsTheDenseGgnWhereItIsExact() {
        List<org.laplacelora.model.tasks.EncodedExample> one = ref.train.subList(0, 1);
        LaplaceFit.Settings settings = new LaplaceFit.Settings("winogrande", List.of("A", "B"), ref.answerIds,
                FisherType.EXACT, 1 << 20, 1, 0, 0);
        LaplacePosterior posterior = LaplaceFit.fit(ref.llama, ref.adapter, one, EnumSet.of(CurvatureConvention.REDUCE),
                settings, n -> {}).get(CurvatureConvention.REDUCE);
        try (JacobianBatch train = JacobianBatch.compute(ref.llama, ref.adapter, ref.answerIds, one, 0, ref.manager)) {
            double[][] trainJ = fullJacobians(train);
            double[][] testJ = fullJacobians(testJacobians);
            ProjectedJacobians projected = ProjectedJacobians.of(posterior, testJacobians);
            double lambda = 1e-4;
            for (String blockName : List.of("lm_head.A", "lm_head.B")) {
                int offset = 0;
                int size = 0;
                for (var e : testJacobians.blocks().entrySet()) {
                    int s = (int) (e.getValue().getShape().get(2) * e.getValue().getShape().get(3));
                    if (e.getKey().equals(blockName)) {
                        size = s;
                        break;
                    }
                    offset += s;
                }
                int from = offset;
                int to = offset + size;
                double[] dense = denseVariance(trainJ, train.mu(), testJ, lambda, q -> q >= from && q < to);
                for (int t = 0; t < 4; t++) {
                    double kfac = projected.covariance(t, PriorPrecision.of(lambda), b -> b.name().equals(blockName))[0];
                    assertThat(rel(kfac, dense[t])).as("%s test %d", blockName, t).isLessThan(1e-9);
                }
            }
        }
    }
}
