package org.laplacelora.model.refit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.laplacelora.model.Fixtures;
import org.laplacelora.model.FreedMemory;
import org.laplacelora.model.core.Autograd;
import org.laplacelora.model.core.Tensors;
import org.laplacelora.model.laplace.curvature.CurvatureConvention;
import org.laplacelora.model.laplace.curvature.FisherType;
import org.laplacelora.model.laplace.fit.LaplaceFit;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.posterior.PosteriorBlock;
import org.laplacelora.model.laplace.posterior.PriorPrecision;
import org.laplacelora.model.llama.ModelLoader;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.lora.LoraWeights;
import org.laplacelora.model.tasks.Dataset;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.model.tasks.Task;
import org.laplacelora.model.tasks.TaskKind;

/**
 * The online update's prior penalty against brute force: for the stories260K reference adapter and a posterior
 * with low-rank factors (rank 3, so most factors are truncated), ½ τ_f Δᵀ Λ Δ and its gradient τ_f Λ Δ with Λ
 * formed densely per block — τ·kron(G, A) + λ_module·I from the factors' dense matrices — in float64.
 */
class KfacPenaltyTest {
    private static ModelLoader.LoadedModel model;
    private static NDManager manager;
    private static LoraAdapter previous;
    private static LaplacePosterior posterior;

    @BeforeAll
    static void setUp() throws Exception {
        model = ModelLoader.load(Fixtures.stories260kBin(), Fixtures.tok512(), Device.cpu());
        manager = NDManager.newBaseManager(Device.cpu());
        previous = LoraAdapter.load(Fixtures.path("laplace-case1/case1_adapter"), model.llama(), manager);
        Task task = Task.of(TaskKind.WINOGRANDE, model.tokenizer());
        List<EncodedExample> data = task.encodeAll(Dataset.read(TaskKind.WINOGRANDE, Fixtures.path("data/winogrande-dev-20.jsonl"))
                .examples(), model.tokenizer(), 512, new AtomicInteger());
        posterior = LaplaceFit.fit(model.llama(), previous, data.subList(0, 6), EnumSet.of(CurvatureConvention.REDUCE),
                new LaplaceFit.Settings("winogrande", task.answers(), task.answerIds(), FisherType.EXACT, 3, 3, 1, 0), n -> {})
                .get(CurvatureConvention.REDUCE)
                .withPrior(new PriorPrecision(0.7, java.util.Map.of(), 1.9).withModule(org.laplacelora.model.llama.Llama.LM_HEAD, 2.5));
    }

    @AfterAll
    static void tearDown() {
        previous.close();
        manager.close();
        model.close();
    }

    @Test
    void penaltyAndGradientMatchTheDensePrecision() {
        penaltyAndGradientAgainstTheDensePrecision(() -> {});
    }

    /**
     * Autograd keeps every scalar factor of the penalty for its backward. A scalar that lived in a Java buffer which
     * DJL freed after the product (what {@code NDArray.mul(number)} does) comes back from the backward as whatever
     * has been written over that memory since.
     */
    @Test
    void theGradientIsRightWhenMemoryIsCollectedAndReusedBeforeTheBackward() {
        penaltyAndGradientAgainstTheDensePrecision(FreedMemory::collectAndOverwrite);
    }

    private void penaltyAndGradientAgainstTheDensePrecision(Runnable beforeTheBackward) {
        double forgetting = 0.4;
        try (NDManager scope = manager.newSubManager();
             KfacPenalty penalty = new KfacPenalty(posterior, previous, forgetting, scope)) {
            LoraAdapter moved = previous.copy(scope);
            Random random = new Random(3);
            for (NDArray p : moved.parameters()) {
                float[] v = p.toFloatArray();
                for (int i = 0; i < v.length; i++) {
                    v[i] += (float) (0.05 * random.nextGaussian());
                }
                p.set(v);
            }
            moved.setRequiresGradient(true);
            double got;
            try (GradientCollector gc = Autograd.collector()) {
                NDArray value = penalty.penalty(moved, scope);
                beforeTheBackward.run();
                gc.backward(value);
                got = value.toType(ai.djl.ndarray.types.DataType.FLOAT64, false).getDouble();
            }
            double expected = 0;
            int checkedBlocks = 0;
            for (PosteriorBlock b : posterior.blocks()) {
                double[] delta = block(moved, b, false);
                double[] deltaPrev = block(previous, b, false);
                for (int i = 0; i < delta.length; i++) {
                    delta[i] -= deltaPrev[i];
                }
                double[] lambdaDelta = denseTimes(b, posterior.prior(), delta);
                double quad = 0;
                for (int i = 0; i < delta.length; i++) {
                    quad += delta[i] * lambdaDelta[i];
                }
                expected += 0.5 * forgetting * quad;
                double[] grad = block(moved, b, true);
                for (int i = 0; i < grad.length; i++) {
                    assertThat(grad[i]).as(b.block().name() + "[" + i + "]")
                            .isCloseTo(forgetting * lambdaDelta[i], within(2e-4 * (1 + Math.abs(forgetting * lambdaDelta[i]))));
                }
                checkedBlocks++;
            }
            assertThat(checkedBlocks).isEqualTo(posterior.blocks().size());
            assertThat(posterior.blocks()).anySatisfy(b -> assertThat(b.g().rank()).isLessThan(b.g().dim()));
            assertThat(got).isCloseTo(expected, within(1e-4 * expected));
            assertThat(expected).isGreaterThan(0);
        }
    }

    @Test
    void thePenaltyIsZeroAtThePreviousMean() {
        try (NDManager scope = manager.newSubManager();
             KfacPenalty penalty = new KfacPenalty(posterior, previous, 1, scope)) {
            assertThat(penalty.penalty(previous, scope).getFloat()).isZero();
        }
    }

    /** The block's weight (or its gradient) in the posterior's row-major order, the head's B on its answer rows. */
    private static double[] block(LoraAdapter adapter, PosteriorBlock b, boolean gradient) {
        LoraWeights w = adapter.weights(b.block().module());
        NDArray m = b.block().which() == 'A' ? w.a() : w.b();
        if (gradient) {
            m = m.getGradient();
        }
        if (b.block().isHead() && b.block().which() == 'B') {
            m = m.get(new NDIndex("{}", manager.create(Tensors.toLongs(posterior.info().answerIds()))));
        }
        float[] f = m.toFloatArray();
        double[] out = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = f[i];
        }
        assertThat(out).hasSize(b.block().size());
        return out;
    }

    /** (τ·kron(G, A) + λ·I) Δ with G and A as dense matrices. */
    private static double[] denseTimes(PosteriorBlock b, PriorPrecision prior, double[] delta) {
        int gd = b.block().gDim();
        int ad = b.block().aDim();
        double[] g = b.g().dense();
        double[] a = b.a().dense();
        double lambda = prior.lambda(b.block().module());
        double[] out = new double[delta.length];
        for (int p = 0; p < gd; p++) {
            for (int q = 0; q < ad; q++) {
                double s = lambda * delta[p * ad + q];
                for (int r = 0; r < gd; r++) {
                    for (int t = 0; t < ad; t++) {
                        s += prior.tau() * g[p * gd + r] * a[q * ad + t] * delta[r * ad + t];
                    }
                }
                out[p * ad + q] = s;
            }
        }
        return out;
    }
}
