package org.laplacelora.model.laplace.predictive;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.laplacelora.model.Fixtures;
import org.laplacelora.model.ReferenceCase;
import org.laplacelora.model.laplace.curvature.CurvatureConvention;
import org.laplacelora.model.laplace.curvature.FactorEigen;
import org.laplacelora.model.laplace.curvature.FisherType;
import org.laplacelora.model.laplace.fit.LaplaceFit;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.posterior.PosteriorBlock;
import org.laplacelora.model.laplace.posterior.PriorPrecision;
import org.laplacelora.model.llama.TokenBatch;
import org.laplacelora.model.lora.LoraContext;
import org.laplacelora.model.lora.LoraWeights;

class JacobianAndFormsTest {
    private static ReferenceCase ref;
    private static ReferenceCase case2;

    @BeforeAll
    static void load() {
        ref = ReferenceCase.case1();
        case2 = ReferenceCase.case2();
    }

    @AfterAll
    static void close() {
        ref.close();
        case2.close();
    }

    private static ReferenceCase named(String caseName) {
        return Map.of("case1", ref, "case2", case2).get(caseName);
    }

    private static double logitDifference(int[] ids) {
        try (NDManager m = ref.manager.newSubManager()) {
            double[] z = ref.llama.lastLogits(m, TokenBatch.single(ids), LoraContext.eval(ref.adapter)).toDoubleArray();
            return z[ref.answerIds[0]] - z[ref.answerIds[1]];
        }
    }

    /** ∂(z_A − z_B)/∂θ from the probes against central finite differences (float64, h = 1e-5), 40 random parameters. */
    @Test
    void jacobiansMatchCentralFiniteDifferences() {
        int[] ids = ref.test.get(0).tokens();
        Random random = new Random(5);
        try (JacobianBatch j = JacobianBatch.compute(ref.llama, ref.adapter, ref.answerIds, ref.test.subList(0, 1), 0, ref.manager)) {
            List<String> blocks = List.copyOf(j.blocks().keySet());
            double worst = 0;
            for (int trial = 0; trial < 40; trial++) {
                String block = blocks.get(random.nextInt(blocks.size()));
                NDArray jac = j.blocks().get(block);                        // [1, 1, g, a]
                int g = (int) jac.getShape().get(2);
                int a = (int) jac.getShape().get(3);
                int row = random.nextInt(g);
                int col = random.nextInt(a);
                double analytic = jac.getDouble(0, 0, row, col);
                String module = block.substring(0, block.length() - 2);
                LoraWeights w = ref.adapter.weights(module);
                NDArray param = block.endsWith(".A") ? w.a() : w.b();
                int paramRow = block.equals("lm_head.B") ? ref.answerIds[row] : row;
                double original = param.getDouble(paramRow, col);
                double h = 1e-5;
                param.set(new NDIndex(paramRow, col), original + h);
                double plus = logitDifference(ids);
                param.set(new NDIndex(paramRow, col), original - h);
                double minus = logitDifference(ids);
                param.set(new NDIndex(paramRow, col), original);
                double fd = (plus - minus) / (2 * h);
                double scale = Math.max(1e-3, Math.abs(fd));
                worst = Math.max(worst, Math.abs(analytic - fd) / scale);
            }
            assertThat(worst).isLessThan(1e-6);
        }
    }

    /**
     * ∂(z_k − z_{C−1})/∂θ, k = 0..2, against the four-class reference's float64 Jacobians (themselves checked
     * against finite differences to 7e-9), one test example at a time and as one left-padded batch of 4.
     * Both sides are float64, so every block and direction agrees to rounding (measured: at most 5e-14); so do the logits.
     */
    @Test
    void fourClassJacobiansMatchTheReferenceUnpaddedAndLeftPadded() {
        int p = case2.json.get("P").asInt();
        int k = case2.classes() - 1;
        try (JacobianBatch padded = JacobianBatch.compute(case2.llama, case2.adapter, case2.answerIds, case2.test, 0, case2.manager)) {
            for (int n = 0; n < case2.test.size(); n++) {
                double[] want = case2.doubles("test." + n + ".J");                                    // [C, P]
                try (JacobianBatch single = JacobianBatch.compute(case2.llama, case2.adapter, case2.answerIds,
                        case2.test.subList(n, n + 1), 0, case2.manager)) {
                    for (JsonNode block : case2.json.get("param_layout")) {
                        String name = block.get("name").asText() + "." + block.get("which").asText();
                        int offset = block.get("offset").asInt();
                        int size = block.get("size").asInt();
                        double[] one = single.blocks().get(name).toDoubleArray();                      // [1, K, g, a]
                        double[] batch = padded.blocks().get(name).toDoubleArray();                    // [4, K, g, a]
                        for (int d = 0; d < k; d++) {
                            double[] diff = new double[size];
                            for (int q = 0; q < size; q++) {
                                diff[q] = want[d * p + offset + q] - want[k * p + offset + q];
                            }
                            double[] got = Arrays.copyOfRange(one, d * size, (d + 1) * size);
                            double[] gotPadded = Arrays.copyOfRange(batch, (n * k + d) * size, (n * k + d + 1) * size);
                            assertThat(ReferenceCase.relativeError(got, diff)).as("%s test %d direction %d", name, n, d).isLessThan(1e-9);
                            assertThat(ReferenceCase.relativeError(gotPadded, diff)).as("%s test %d direction %d, padded", name, n, d)
                                    .isLessThan(1e-9);
                        }
                    }
                    assertThat(ReferenceCase.relativeError(single.mu()[0], Fixtures.doubles(case2.json.get("test").get(n).get("z"))))
                            .isLessThan(1e-12);
                    assertThat(ReferenceCase.relativeError(padded.mu()[n], single.mu()[0])).isLessThan(1e-12);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"case1", "case2"})
    void closedFormLastLayerJacobiansEqualTheBackwardPasses(String caseName) {
        ReferenceCase ref = named(caseName);
        try (JacobianBatch full = JacobianBatch.compute(ref.llama, ref.adapter, ref.answerIds, ref.test, 0, ref.manager);
             JacobianBatch head = LastLayerJacobians.compute(ref.llama, ref.adapter, ref.answerIds, ref.test, 0, ref.manager)) {
            assertThat(head.blocks().keySet()).containsExactly("lm_head.A", "lm_head.B");
            for (String b : head.blocks().keySet()) {
                assertThat(ReferenceCase.relativeError(head.blocks().get(b).toDoubleArray(), full.blocks().get(b).toDoubleArray()))
                        .as(b).isLessThan(1e-12);
            }
            for (int n = 0; n < 4; n++) {
                assertThat(ReferenceCase.relativeError(head.mu()[n], full.mu()[n])).isLessThan(1e-12);
            }
        }
    }

    /** Dense (τ G ⊗ A + λ I)⁻¹ of a small block, row-major vec. */
    private static double[] denseCovariance(FactorEigen g, FactorEigen a, double lambda, double tau) {
        double[] gd = g.dense();
        double[] ad = a.dense();
        int n = g.dim() * a.dim();
        double[] p = new double[n * n];
        for (int i = 0; i < g.dim(); i++) {
            for (int j = 0; j < a.dim(); j++) {
                for (int k = 0; k < g.dim(); k++) {
                    for (int l = 0; l < a.dim(); l++) {
                        int row = i * a.dim() + j;
                        int col = k * a.dim() + l;
                        p[row * n + col] = tau * gd[i * g.dim() + k] * ad[j * a.dim() + l] + (row == col ? lambda : 0);
                    }
                }
            }
        }
        return DenseLinalg.inverseSpd(p, n);
    }

    /**
     * The eigenbasis form, the Woodbury form and a dense inverse of the block precision agree, for
     * full-rank factors and for rank-3 sketches of the large factor (the rest of the space prior-only).
     */
    @Test
    void eigenbasisWoodburyAndDenseInverseAgree() {
        for (int rank : new int[] {1 << 20, 3}) {
            LaplaceFit.Settings settings = new LaplaceFit.Settings("winogrande", List.of("A", "B"), ref.answerIds,
                    FisherType.EXACT, rank, 4, 0, 0);
            LaplacePosterior posterior = LaplaceFit.fit(ref.llama, ref.adapter, ref.train, EnumSet.of(CurvatureConvention.EXPAND),
                    settings, n -> {}).get(CurvatureConvention.EXPAND);
            double lambda = 0.05;
            double tau = 7;
            try (JacobianBatch j = JacobianBatch.compute(ref.llama, ref.adapter, ref.answerIds, ref.test.subList(0, 1), 0, ref.manager)) {
                ProjectedJacobians projected = ProjectedJacobians.of(posterior, j);
                for (PosteriorBlock block : posterior.blocks()) {
                    if (block.block().size() > 300) {
                        continue; // dense inverses only for the small blocks
                    }
                    double[] jac = j.blocks().get(block.block().name()).toDoubleArray();
                    double eigen = projected.covariance(0, new PriorPrecision(lambda, java.util.Map.of(), tau),
                            b -> b.equals(block.block()))[0];
                    WoodburyBlock woodbury = new WoodburyBlock(block.g().dim(), block.g().rank(), WoodburyBlock.root(block.g(), tau),
                            block.a().dim(), block.a().rank(), WoodburyBlock.root(block.a(), 1), lambda);
                    double[] sigma = denseCovariance(block.g(), block.a(), lambda, tau);
                    int n = jac.length;
                    double dense = 0;
                    for (int p = 0; p < n; p++) {
                        for (int q = 0; q < n; q++) {
                            dense += jac[p] * sigma[p * n + q] * jac[q];
                        }
                    }
                    String what = block.block().name() + " rank " + rank;
                    assertThat(Math.abs(eigen - dense) / dense).as(what).isLessThan(1e-9);
                    assertThat(Math.abs(woodbury.quadraticForm(jac, jac) - dense) / dense).as(what).isLessThan(1e-9);
                    assertThat(woodbury.logDetRatio()).as(what).isCloseTo(block.logDetRatio(lambda, tau),
                            org.assertj.core.data.Offset.offset(1e-9 * Math.max(1, Math.abs(woodbury.logDetRatio()))));
                }
            }
        }
    }
}
