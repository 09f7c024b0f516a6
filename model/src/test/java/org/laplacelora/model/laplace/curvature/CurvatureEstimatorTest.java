package org.laplacelora.model.laplace.curvature;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.laplacelora.model.ReferenceCase;
import org.laplacelora.model.tasks.EncodedExample;

/**
 * K-FAC factors under the four conventions against the reference cases (float64 model, exact Fisher): two
 * classes (one Fisher direction per example) and four (three).
 */
class CurvatureEstimatorTest {
    private static Map<String, ReferenceCase> refs;

    @BeforeAll
    static void load() {
        refs = Map.of("case1", ReferenceCase.case1(), "case2", ReferenceCase.case2());
    }

    @AfterAll
    static void close() {
        refs.values().forEach(ReferenceCase::close);
    }

    private static CurvatureEstimator estimate(ReferenceCase ref, int batchSize) {
        CurvatureEstimator est = new CurvatureEstimator(ref.llama, ref.adapter, ref.answerIds,
                EnumSet.allOf(CurvatureConvention.class), FisherType.EXACT, 1 << 20, 0);
        for (int i = 0; i < ref.train.size(); i += batchSize) {
            List<EncodedExample> batch = ref.train.subList(i, Math.min(i + batchSize, ref.train.size()));
            est.add(batch, 0, ref.manager);
        }
        return est;
    }

    /** Both cases are float64 end to end, so the factors agree to rounding (measured: at most 1e-13 in case 1, 2e-14 in case 2). */
    @ParameterizedTest
    @ValueSource(strings = {"case1", "case2"})
    void factorsMatchTheReferenceUnderEveryConvention(String caseName) {
        ReferenceCase ref = refs.get(caseName);
        CurvatureEstimator est = estimate(ref, 1); // one sequence per batch: no padding, as in the reference
        for (CurvatureConvention conv : CurvatureConvention.values()) {
            Curvature c = est.result(conv);
            assertThat(c.examples()).isEqualTo(8);
            for (JsonNode block : ref.json.get("kfac").get(conv.id()).get("blocks")) {
                String name = block.get("name").asText() + "." + block.get("which").asText();
                KfacFactors f = c.blocks().get(name);
                assertThat(f).as(name).isNotNull();
                assertThat(f.activationCount()).as(name).isEqualTo(block.get("act_norm").asDouble());
                FactorEigen g = f.gEigen();
                FactorEigen a = f.aEigen();
                assertThat(relativeDiff(g.trace(), block.get("trace_G").asDouble())).as("%s %s trace G", conv, name).isLessThan(1e-9);
                assertThat(relativeDiff(a.trace(), block.get("trace_A").asDouble())).as("%s %s trace A", conv, name).isLessThan(1e-9);
                String prefix = "kfac." + conv.id() + "." + name + ".";
                if (ref.arrays.contains(prefix + "G")) {
                    assertThat(ReferenceCase.relativeError(g.dense(), ref.doubles(prefix + "G"))).as(prefix + "G").isLessThan(1e-9);
                    assertThat(ReferenceCase.relativeError(a.dense(), ref.doubles(prefix + "A"))).as(prefix + "A").isLessThan(1e-9);
                }
            }
        }
    }

    private static double relativeDiff(double got, double want) {
        return Math.abs(got - want) / Math.max(Math.abs(want), 1e-300);
    }

    /** Left padding must not leak into expand, reduce or last (the paper's convention does include it). */
    @ParameterizedTest
    @ValueSource(strings = {"case1", "case2"})
    void paddedBatchesGiveTheSameFactorsExceptForThePapersConvention(String caseName) {
        ReferenceCase ref = refs.get(caseName);
        CurvatureEstimator one = estimate(ref, 1);
        CurvatureEstimator four = estimate(ref, 4);
        for (CurvatureConvention conv : List.of(CurvatureConvention.EXPAND, CurvatureConvention.REDUCE, CurvatureConvention.LAST)) {
            for (var e : one.result(conv).blocks().entrySet()) {
                KfacFactors padded = four.result(conv).blocks().get(e.getKey());
                assertThat(ReferenceCase.relativeError(padded.gEigen().dense(), e.getValue().gEigen().dense())).isLessThan(1e-9);
                assertThat(ReferenceCase.relativeError(padded.aEigen().dense(), e.getValue().aEigen().dense())).isLessThan(1e-9);
            }
        }
        KfacFactors paperOne = one.result(CurvatureConvention.PAPER).blocks().get("model.layers.0.self_attn.q_proj.A");
        KfacFactors paperFour = four.result(CurvatureConvention.PAPER).blocks().get("model.layers.0.self_attn.q_proj.A");
        assertThat(paperFour.aEigen().trace()).isGreaterThan(paperOne.aEigen().trace() * 1.01);
    }

    /**
     * A sampled label per example gives an unbiased estimate of the exact Fisher: over repeated passes
     * the mean of the sampled G stays within 4 standard errors of the exact G.
     */
    @ParameterizedTest
    @ValueSource(strings = {"case1", "case2"})
    void sampledFisherIsAnUnbiasedEstimateOfTheExactOne(String caseName) {
        ReferenceCase ref = refs.get(caseName);
        String name = "lm_head.B";
        double want = estimate(ref, 8).result(CurvatureConvention.LAST).blocks().get(name).gEigen().trace();
        CurvatureEstimator sampled = new CurvatureEstimator(ref.llama, ref.adapter, ref.answerIds,
                EnumSet.of(CurvatureConvention.LAST), FisherType.SAMPLED, 1 << 20, 11);
        int rounds = 40;
        double previous = 0;
        double sum = 0;
        double sumSq = 0;
        for (int r = 0; r < rounds; r++) {
            sampled.add(ref.train, 0, ref.manager);
            double total = sampled.result(CurvatureConvention.LAST).blocks().get(name).gEigen().trace();
            double round = total - previous;
            previous = total;
            sum += round;
            sumSq += round * round;
        }
        double mean = sum / rounds;
        double standardError = Math.sqrt((sumSq / rounds - mean * mean) / (rounds - 1));
        assertThat(standardError).isPositive();
        assertThat(Math.abs(mean - want)).isLessThan(4 * standardError);
    }
}
