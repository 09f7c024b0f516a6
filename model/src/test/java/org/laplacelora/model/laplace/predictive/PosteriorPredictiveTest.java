package org.laplacelora.model.laplace.predictive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.laplacelora.model.Fixtures;
import org.laplacelora.model.ReferenceCase;
import org.laplacelora.model.core.Categorical;
import org.laplacelora.model.laplace.curvature.CurvatureConvention;
import org.laplacelora.model.laplace.curvature.FisherType;
import org.laplacelora.model.laplace.fit.LaplaceFit;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.posterior.PriorPrecision;

/**
 * The K-FAC posterior and the linearised predictive against the float64 reference cases (λ = 1, every
 * convention), and against a dense GGN Laplace computed by brute force from the full Jacobians. Case 1 has
 * two classes (one logit difference), case 2 four (the 3 × 3 covariance of the differences to the last class).
 */
class PosteriorPredictiveTest {
    private static ReferenceCase ref;
    private static Map<CurvatureConvention, LaplacePosterior> posteriors;
    private static JacobianBatch testJacobians;
    private static ReferenceCase case2;
    private static Map<CurvatureConvention, LaplacePosterior> posteriors2;
    private static JacobianBatch testJacobians2;

    @BeforeAll
    static void fit() {
        ref = ReferenceCase.case1();
        LaplaceFit.Settings settings = new LaplaceFit.Settings("winogrande", List.of("A", "B"), ref.answerIds,
                FisherType.EXACT, 1 << 20, 1, 0, 0);
        posteriors = LaplaceFit.fit(ref.llama, ref.adapter, ref.train, EnumSet.allOf(CurvatureConvention.class), settings, n -> {});
        testJacobians = JacobianBatch.compute(ref.llama, ref.adapter, ref.answerIds, ref.test, 0, ref.manager); // padded batch of 4
        case2 = ReferenceCase.case2();
        // one sequence per batch: the paper's convention counts padding, the reference has none
        posteriors2 = LaplaceFit.fit(case2.llama, case2.adapter, case2.train, EnumSet.allOf(CurvatureConvention.class),
                case2.fitSettings(1 << 20, 1), n -> {});
        testJacobians2 = JacobianBatch.compute(case2.llama, case2.adapter, case2.answerIds, case2.test, 0, case2.manager); // padded
    }

    @AfterAll
    static void close() {
        testJacobians.close();
        ref.close();
        testJacobians2.close();
        case2.close();
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

    /** Full Jacobian rows J_n (K × P per example, θ in block order) of a batch: [B][K][P]. */
    private static double[][][] fullJacobians(JacobianBatch j) {
        int k = (int) j.blocks().values().iterator().next().getShape().get(1);
        int p = 0;
        for (NDArray a : j.blocks().values()) {
            p += (int) (a.getShape().get(2) * a.getShape().get(3));
        }
        double[][][] out = new double[j.size()][k][p];
        int at = 0;
        for (NDArray a : j.blocks().values()) {
            int size = (int) (a.getShape().get(2) * a.getShape().get(3));
            double[] values = a.toDoubleArray(); // [B, K, g, a]
            for (int n = 0; n < j.size(); n++) {
                for (int d = 0; d < k; d++) {
                    System.arraycopy(values, (n * k + d) * size, out[n][d], at, size);
                }
            }
            at += size;
        }
        return out;
    }

    /**
     * S_test = J Σ Jᵀ (K × K per test example) with Σ = (H + λI)⁻¹, H = Σ_n J_nᵀ Λ_n J_n = ΦᵀΦ: over the
     * logit differences Λ_n = diag(p′) − p′p′ᵀ = L Lᵀ (Cholesky; p(1 − p) for two classes), Φ's rows Lᵀ J_n.
     * By Woodbury on Φ: Σ = (1/λ)(I − Φᵀ(λI + ΦΦᵀ)⁻¹Φ). No Kronecker approximation anywhere.
     */
    private static double[][] denseVariance(double[][][] trainJ, double[][] trainMu, double[][][] testJ, double lambda,
                                            IntPredicate keep) {
        int k = trainJ[0].length;
        int p = trainJ[0][0].length;
        int rows = trainJ.length * k;
        double[][] phi = new double[rows][p];
        for (int i = 0; i < trainJ.length; i++) {
            double[] prob = Categorical.softmax(trainMu[i]);
            double[] fisher = new double[k * k];
            for (int a = 0; a < k; a++) {
                for (int b = 0; b < k; b++) {
                    fisher[a * k + b] = (a == b ? prob[a] : 0) - prob[a] * prob[b];
                }
            }
            double[] l = DenseLinalg.cholesky(fisher, k);
            for (int d = 0; d < k; d++) {
                for (int q = 0; q < p; q++) {
                    double v = 0;
                    for (int a = 0; a < k; a++) {
                        v += l[a * k + d] * trainJ[i][a][q];
                    }
                    phi[i * k + d][q] = keep.test(q) ? v : 0;
                }
            }
        }
        double[] inner = new double[rows * rows];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < rows; j++) {
                inner[i * rows + j] = dot(phi[i], phi[j]) + (i == j ? lambda : 0);
            }
        }
        double[] inv = DenseLinalg.inverseSpd(inner, rows);
        double[][] out = new double[testJ.length][k * k];
        for (int t = 0; t < testJ.length; t++) {
            double[][] j = new double[k][p];
            double[][] c = new double[k][rows];
            for (int d = 0; d < k; d++) {
                for (int q = 0; q < p; q++) {
                    j[d][q] = keep.test(q) ? testJ[t][d][q] : 0;
                }
                for (int i = 0; i < rows; i++) {
                    c[d][i] = dot(phi[i], j[d]);
                }
            }
            for (int d = 0; d < k; d++) {
                for (int e = 0; e < k; e++) {
                    double quad = 0;
                    for (int i = 0; i < rows; i++) {
                        for (int r = 0; r < rows; r++) {
                            quad += c[d][i] * inv[i * rows + r] * c[e][r];
                        }
                    }
                    out[t][d * k + e] = (dot(j[d], j[e]) - quad) / lambda;
                }
            }
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
            double[][] dense = denseVariance(fullJacobians(train), train.mu(), fullJacobians(testJacobians), ref.lambda(), q -> true);
            JsonNode want = ref.json.get("predictive").get("methods").get("dense").get("logit_diff_var");
            for (int t = 0; t < 4; t++) {
                assertThat(rel(dense[t][0], want.get(t).asDouble())).isLessThan(1e-9);
            }
            // K-FAC vs the dense GGN on the logit-difference variance at λ = 1 (a prior-dominated case). Measured:
            // paper +6.6..+9.1%, expand +14.3..+17.5%, reduce +14.1..+17.1%, last +14.4..+17.6% over the 4 test
            // examples; always wider, since block-diagonal K-FAC drops the curvature between blocks (the paper's
            // over-counted factors partly make up for it here). Bound: 20%.
            for (CurvatureConvention conv : CurvatureConvention.values()) {
                ProjectedJacobians projected = ProjectedJacobians.of(posteriors.get(conv), testJacobians);
                for (int t = 0; t < 4; t++) {
                    double kfac = projected.covariance(t, PriorPrecision.of(ref.lambda()), LaplacePosterior.ALL)[0];
                    assertThat(rel(kfac, dense[t][0])).as("%s test %d", conv, t).isLessThan(0.20);
                }
            }
        }
    }

    /**
     * Where K-FAC is exact, it equals the dense GGN: one training example (N = 1) and one block of the
     * LM head (used only at the last position). Checked for both head blocks, at a λ small enough that
     * the curvature dominates; with four classes over the whole 3 × 3 covariance of the differences.
     */
    @ParameterizedTest
    @ValueSource(strings = {"case1", "case2"})
    void kfacEqualsTheDenseGgnWhereItIsExact(String caseName) {
        ReferenceCase ref = caseName.equals("case1") ? PosteriorPredictiveTest.ref : case2;
        JacobianBatch testJacobians = caseName.equals("case1") ? PosteriorPredictiveTest.testJacobians : testJacobians2;
        List<org.laplacelora.model.tasks.EncodedExample> one = ref.train.subList(0, 1);
        LaplacePosterior posterior = LaplaceFit.fit(ref.llama, ref.adapter, one, EnumSet.of(CurvatureConvention.REDUCE),
                ref.fitSettings(1 << 20, 1), n -> {}).get(CurvatureConvention.REDUCE);
        try (JacobianBatch train = JacobianBatch.compute(ref.llama, ref.adapter, ref.answerIds, one, 0, ref.manager)) {
            double[][][] trainJ = fullJacobians(train);
            double[][][] testJ = fullJacobians(testJacobians);
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
                double[][] dense = denseVariance(trainJ, train.mu(), testJ, lambda, q -> q >= from && q < to);
                for (int t = 0; t < 4; t++) {
                    double[] kfac = projected.covariance(t, PriorPrecision.of(lambda), b -> b.name().equals(blockName));
                    assertThat(ReferenceCase.relativeError(kfac, dense[t])).as("%s test %d", blockName, t).isLessThan(1e-9);
                }
            }
        }
    }

    /**
     * The prior-only ablation (τ = 0: no curvature, Σ = I/λ) is the full Jacobians' Gram matrix over λ, J Jᵀ/λ, per
     * test example, computed here by brute force from the unprojected Jacobians; with four classes over the whole
     * 3 × 3 covariance of the differences. And it is wider than Laplace-LoRA's at the same λ (the curvature only
     * narrows).
     */
    @ParameterizedTest
    @ValueSource(strings = {"case1", "case2"})
    void thePriorAloneIsTheJacobiansGramMatrixOverLambda(String caseName) {
        boolean one = caseName.equals("case1");
        JacobianBatch test = one ? testJacobians : testJacobians2;
        LaplacePosterior posterior = (one ? posteriors : posteriors2).get(CurvatureConvention.REDUCE);
        ProjectedJacobians projected = ProjectedJacobians.of(posterior, test);
        double[][][] full = fullJacobians(test);
        double lambda = 0.3;
        for (int t = 0; t < test.size(); t++) {
            int k = full[t].length;
            double[] want = new double[k * k];
            for (int i = 0; i < k; i++) {
                for (int j = 0; j < k; j++) {
                    double dot = 0;
                    for (int q = 0; q < full[t][i].length; q++) {
                        dot += full[t][i][q] * full[t][j][q];
                    }
                    want[i * k + j] = dot / lambda;
                }
            }
            double[] got = projected.covariance(t, PriorPrecision.priorOnly(lambda), LaplacePosterior.ALL);
            assertThat(ReferenceCase.relativeError(got, want)).as("%s test %d", caseName, t).isLessThan(1e-6);
            double[] laplace = projected.covariance(t, new PriorPrecision(lambda, Map.of(), 1), LaplacePosterior.ALL);
            for (int i = 0; i < k; i++) {
                assertThat(got[i * k + i]).as("variance of difference %d", i).isGreaterThan(laplace[i * k + i]);
            }
        }
    }

    // ---------------------------------------------------------------- four classes (case 2)

    private static double[] flatten(JsonNode matrix) {
        int k = matrix.size();
        double[] out = new double[k * k];
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                out[i * k + j] = matrix.get(i).get(j).asDouble();
            }
        }
        return out;
    }

    private static double maxAbsDiff(double[] got, double[] want) {
        double d = 0;
        for (int i = 0; i < want.length; i++) {
            d = Math.max(d, Math.abs(got[i] - want[i]));
        }
        return d;
    }

    /**
     * Both sides are float64 and exact (no sampling, no sketch), so S_d agrees to rounding: 1e-9 relative to
     * its largest entry, as for case 1 (measured: at most 1.4e-14); diag Σ to 1e-12 as case 1 (measured: 7e-15).
     */
    @Test
    void fourClassDifferenceCovarianceAndSigmaDiagonalMatchTheReference() {
        for (CurvatureConvention conv : CurvatureConvention.values()) {
            LaplacePosterior posterior = posteriors2.get(conv);
            assertThat(posterior.parameterCount(LaplacePosterior.ALL)).isEqualTo(case2.json.get("P").asLong());
            ProjectedJacobians projected = ProjectedJacobians.of(posterior, testJacobians2);
            assertThat(projected.directions()).isEqualTo(3);
            JsonNode want = case2.json.get("predictive").get("methods").get(conv.id()).get("S_diff_to_last");
            for (int n = 0; n < 4; n++) {
                double[] s = projected.covariance(n, PriorPrecision.of(case2.lambda()), LaplacePosterior.ALL);
                assertThat(ReferenceCase.relativeError(s, flatten(want.get(n)))).as("%s test %d", conv, n).isLessThan(1e-9);
            }
            double[] diag = posterior.covarianceDiagonal(PriorPrecision.of(case2.lambda()), LaplacePosterior.ALL);
            assertThat(ReferenceCase.relativeError(diag, case2.doubles("posterior." + conv.id() + ".sigma_diag")))
                    .as("%s diag Σ", conv).isLessThan(1e-12);
        }
    }

    /**
     * The deterministic link against the reference's pairwise probit exactly (1e-9, as case 1; the reference's
     * formula is the same function of the same S_d, so only rounding separates them; measured: 1e-15); Monte Carlo
     * against the reference's quadrature of E[softmax] (exact to 4e-15) within 4 standard errors, the reference's
     * 10⁶-sample SE scaled to 4·10⁵ samples (measured: at most 2.5 SE over 80 values). Two-class rules refuse
     * four classes; AUTO is Monte Carlo here.
     */
    private static void assertLinksMatch(JsonNode method, double[] mu, double[] sd, int n, String what) {
        String id = "t" + n;
        LinearisedPredictive probit = new LinearisedPredictive(Link.PROBIT, 1, 0);
        LinearisedPredictive mc = new LinearisedPredictive(Link.MC, 400_000, 7);
        double[] p = probit.predict(mu, sd, id).probabilities();
        assertThat(maxAbsDiff(p, Fixtures.doubles(method.get("probit_full").get("p").get(n)))).as("%s probit", what).isLessThan(1e-9);
        assertThat(probit.probabilities(mu, sd, id)).containsExactly(p);
        double[] exact = Fixtures.doubles(method.get("quadrature").get("p").get(n));
        double[] se = Fixtures.doubles(method.get("mc").get("standard_error").get(n));
        LinearisedPredictive.Distribution d = mc.predict(mu, sd, id);
        for (int c = 0; c < exact.length; c++) {
            assertThat(Math.abs(d.probabilities()[c] - exact[c])).as("%s MC class %d", what, c)
                    .isLessThan(4 * se[c] * Math.sqrt(1e6 / 400_000));
        }
        assertThat(d.epistemic()).isPositive().isLessThan(d.entropy());
        assertThat(new LinearisedPredictive(Link.AUTO, 400_000, 7).predict(mu, sd, id).probabilities()).containsExactly(d.probabilities());
        assertThatThrownBy(() -> new LinearisedPredictive(Link.BINARY, 1, 0).predict(mu, sd, id))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 classes");
    }

    @Test
    void fourClassLinksGiveTheReferenceProbabilities() {
        for (CurvatureConvention conv : CurvatureConvention.values()) {
            JsonNode method = case2.json.get("predictive").get("methods").get(conv.id());
            ProjectedJacobians projected = ProjectedJacobians.of(posteriors2.get(conv), testJacobians2);
            for (int n = 0; n < 4; n++) {
                double[] sd = projected.covariance(n, PriorPrecision.of(case2.lambda()), LaplacePosterior.ALL);
                assertLinksMatch(method, testJacobians2.mu()[n], sd, n, conv + " test " + n);
            }
        }
    }

    /**
     * The brute-force dense GGN Laplace (no Kronecker factors) gives the reference's dense 3 × 3 S_d (1e-9
     * relative, float64 as above; measured: 1.1e-14) and, through the links, its probabilities. The data directions here carry
     * curvature comparable to the prior (10 of 24 GGN eigenvalues above λ = 1), unlike case 1.
     */
    @Test
    void fourClassDenseGgnLaplaceMatchesTheReference() {
        try (JacobianBatch train = JacobianBatch.compute(case2.llama, case2.adapter, case2.answerIds, case2.train, 0, case2.manager)) {
            double[][] dense = denseVariance(fullJacobians(train), train.mu(), fullJacobians(testJacobians2), case2.lambda(), q -> true);
            JsonNode method = case2.json.get("predictive").get("methods").get("dense");
            for (int n = 0; n < 4; n++) {
                assertThat(ReferenceCase.relativeError(dense[n], flatten(method.get("S_diff_to_last").get(n)))).as("test %d", n)
                        .isLessThan(1e-9);
                assertLinksMatch(method, testJacobians2.mu()[n], dense[n], n, "dense test " + n);
            }
        }
    }

    /**
     * log Z, its derivative and γ_eff at λ = 10⁻³ … 10 for every convention, relative to the reference's values
     * (|log Z| reaches 9.4e4 at λ = 10, where −(λ/2)‖θ‖² dominates): log Z to 1e-10, the derivative and γ_eff
     * to 1e-8, as case 1 (measured: at most 7e-14). The analytic derivative against central differences (step
     * 1e-5 in log λ) relative to max(1, |d log Z/d log λ|), not absolutely as in case 1: rounding in terms of size
     * 1e4–1e5 (P/2 log λ, λ‖θ‖²/2) costs up to ε·|terms|/h ≈ 1e-7 absolute, so 1e-6 (measured: at most 3e-10).
     */
    @Test
    void fourClassEvidenceAndItsGradientMatchTheReference() {
        for (CurvatureConvention conv : CurvatureConvention.values()) {
            LaplacePosterior posterior = posteriors2.get(conv);
            assertThat(rel(posterior.info().trainLogLikelihood(), case2.json.get("LL_train").asDouble())).isLessThan(1e-10);
            assertThat(rel(posterior.info().thetaSquaredTotal(), case2.json.get("theta_sq").asDouble())).isLessThan(1e-12);
            for (JsonNode e : case2.json.get("evidence").get(conv.id())) {
                PriorPrecision p = PriorPrecision.of(e.get("lambda").asDouble());
                double gradient = posterior.logEvidenceGradient(p, LaplacePosterior.ALL);
                assertThat(rel(posterior.logEvidence(p, LaplacePosterior.ALL), e.get("log_evidence").asDouble()))
                        .as("%s log Z at λ = %s", conv, p.lambda()).isLessThan(1e-10);
                assertThat(rel(gradient, e.get("dlogZ_dloglam").asDouble())).as("%s d log Z at λ = %s", conv, p.lambda()).isLessThan(1e-8);
                assertThat(rel(posterior.effectiveParameters(p, LaplacePosterior.ALL), e.get("gamma_eff").asDouble())).isLessThan(1e-8);
                double h = 1e-5;
                double fd = (posterior.logEvidence(p.withLambda(p.lambda() * Math.exp(h)), LaplacePosterior.ALL)
                        - posterior.logEvidence(p.withLambda(p.lambda() * Math.exp(-h)), LaplacePosterior.ALL)) / (2 * h);
                assertThat(Math.abs(fd - gradient) / Math.max(1, Math.abs(gradient))).as("%s FD at λ = %s", conv, p.lambda()).isLessThan(1e-6);
            }
        }
    }
}
