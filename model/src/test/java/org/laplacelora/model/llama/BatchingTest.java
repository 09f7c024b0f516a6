package org.laplacelora.model.llama;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.laplacelora.model.Fixtures;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.lora.LoraConfig;
import org.laplacelora.model.lora.LoraContext;
import org.laplacelora.model.lora.LoraWeights;

/**
 * Left padding must not change any row: each row's last-token logits equal those of the row alone.
 *
 * <p>In float64 they agree to rounding (about 1e-13). In float32 they cannot agree bit for bit: the
 * GEMM kernels sum in an order that depends on the number of rows, so even one sequence evaluated as
 * "all positions" and as "last position only" differs by up to 8e-6 at |logit| ≈ 17 (4 ulps). The
 * float32 bound is therefore 2e-5 (measured: 1.1e-5, about 6 ulps), and the float64 run is the proof
 * that masking and positions are exact.
 */
class BatchingTest {
    private static ModelLoader.LoadedModel model;
    private static NDManager manager;

    @BeforeAll
    static void load() throws Exception {
        model = ModelLoader.load(Fixtures.stories260kBin(), Fixtures.tok512(), Device.cpu());
        manager = NDManager.newBaseManager(Device.cpu());
    }

    @AfterAll
    static void close() {
        manager.close();
        model.close();
    }

    private static List<int[]> prompts() {
        List<int[]> out = new ArrayList<>();
        for (var c : Fixtures.json("stories260K/reference.json").get("cases")) {
            out.add(Fixtures.ints(c.get("tokens")));  // lengths 1, 5, 31, 33, 11
        }
        return out;
    }

    private static double paddedVersusAlone(Llama llama, Adaptation ctx) {
        List<int[]> prompts = prompts();
        try (NDManager m = manager.newSubManager()) {
            double[] batched = doubles(llama.lastLogits(m, TokenBatch.leftPadded(prompts, 0), ctx));
            int v = llama.config().vocabSize();
            double worst = 0;
            for (int row = 0; row < prompts.size(); row++) {
                double[] alone = doubles(llama.lastLogits(m, TokenBatch.single(prompts.get(row)), ctx));
                for (int i = 0; i < v; i++) {
                    worst = Math.max(worst, Math.abs(batched[row * v + i] - alone[i]));
                }
            }
            System.out.printf("left-padded vs alone (%s): max |logit difference| = %.3g%n", llama.dataType(), worst);
            return worst;
        }
    }

    @Test
    void leftPaddedBatchGivesEachRowsLastLogitsAloneInFloat64() {
        try (Llama llama64 = model.llama().withDataType(DataType.FLOAT64)) {
            assertThat(paddedVersusAlone(llama64, Adaptation.NONE)).isLessThanOrEqualTo(1e-12);
        }
    }

    @Test
    void leftPaddedBatchGivesEachRowsLastLogitsAloneInFloat32() {
        assertThat(paddedVersusAlone(model.llama(), Adaptation.NONE)).isLessThanOrEqualTo(2e-5);
    }

    @Test
    void leftPaddingIsAlsoInvisibleThroughLoraOnEveryModule() {
        try (Llama llama64 = model.llama().withDataType(DataType.FLOAT64)) {
            LoraConfig config = new LoraConfig(4, 8, 0, List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                    "up_proj", "down_proj", "lm_head"), "", false);
            try (LoraAdapter adapter = LoraAdapter.initialise(llama64, config, 7, manager)) {
                for (LoraWeights w : adapter.modules().values()) {
                    w.b().addi(manager.randomNormal(0f, 0.05f, w.b().getShape(), DataType.FLOAT32).toType(DataType.FLOAT64, false));
                }
                assertThat(paddedVersusAlone(llama64, LoraContext.eval(adapter))).isLessThanOrEqualTo(1e-12);
            }
        }
    }

    @Test
    void leftPaddingThroughLoraInFloat32() {
        LoraConfig config = new LoraConfig(4, 8, 0, List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                "up_proj", "down_proj", "lm_head"), "", false);
        try (LoraAdapter adapter = LoraAdapter.initialise(model.llama(), config, 7, manager)) {
            for (LoraWeights w : adapter.modules().values()) {
                w.b().addi(manager.randomNormal(0f, 0.05f, w.b().getShape(), w.b().getDataType()));
            }
            assertThat(paddedVersusAlone(model.llama(), LoraContext.eval(adapter))).isLessThanOrEqualTo(2e-5);
        }
    }

    static double[] doubles(ai.djl.ndarray.NDArray a) {
        return a.toType(DataType.FLOAT64, false).toDoubleArray();
    }

    @Test
    void paddingIdDoesNotMatter() {
        Llama llama = model.llama();
        try (NDManager m = manager.newSubManager()) {
            float[] a = llama.lastLogits(m, TokenBatch.leftPadded(prompts(), 0), Adaptation.NONE).toFloatArray();
            float[] b = llama.lastLogits(m, TokenBatch.leftPadded(prompts(), 300), Adaptation.NONE).toFloatArray();
            assertThat(b).containsExactly(a);
        }
    }
}
