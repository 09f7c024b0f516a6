package org.laplacelora.model.lora;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.laplacelora.model.Fixtures;
import org.laplacelora.model.core.Autograd;
import org.laplacelora.model.io.Safetensors;
import org.laplacelora.model.llama.Llama;
import org.laplacelora.model.llama.ModelLoader;
import org.laplacelora.model.llama.TokenBatch;

/**
 * The capture exposes what curvature and Jacobians need. Checked against the reference cases' float64
 * quantities (activations, per-position ∂z/∂output, the full Jacobian of the answer logits; two classes and
 * four) and against autograd's own parameter gradients.
 */
class LoraCaptureTest {
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

    /** max |got - want| / max |want| */
    private static double relativeError(double[] got, double[] want) {
        double err = 0;
        double scale = 0;
        for (int i = 0; i < want.length; i++) {
            err = Math.max(err, Math.abs(got[i] - want[i]));
            scale = Math.max(scale, Math.abs(want[i]));
        }
        return err / scale;
    }

    private static double[] doubles(NDArray a) {
        return a.toType(DataType.FLOAT64, false).toDoubleArray();
    }

    /** A float32 forward and backward against float64: the README's relative 1e-4 (activations 1e-5), for both cases. */
    @ParameterizedTest
    @ValueSource(strings = {"case1", "case2"})
    void jacobianOfTheAnswerLogitsFromProbesMatchesTheReference(String caseName) throws Exception {
        JsonNode reference = Fixtures.json("laplace-" + caseName + "/" + caseName + ".json");
        Safetensors arrays = Safetensors.open(Fixtures.path("laplace-" + caseName + "/" + caseName + "_arrays_subset.safetensors"));
        int[] answers = Fixtures.ints(reference.get("answer_tokens").get("ids"));
        int[] ids = Fixtures.ints(reference.get("test").get(0).get("ids"));
        double[] want = arrays.loadDoubles("test.0.J");   // [C, P], θ in the reference's parameter order
        int p = reference.get("P").asInt();
        double[] got = new double[want.length];
        Llama llama = model.llama();
        try (LoraAdapter adapter = LoraAdapter.load(Fixtures.path("laplace-" + caseName + "/" + caseName + "_adapter"), llama, manager);
             NDManager scope = manager.newSubManager();
             LoraCapture capture = new LoraCapture(scope);
             GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray logits = llama.lastLogits(scope, TokenBatch.single(ids), LoraContext.capturing(adapter, capture));
            for (int c = 0; c < answers.length; c++) {
                capture.zeroGradients();
                NDArray cotangent = scope.zeros(logits.getShape());
                cotangent.set(new ai.djl.ndarray.index.NDIndex(0, answers[c]), 1f);
                Autograd.vjp(logits, cotangent, true);
                for (JsonNode block : reference.get("param_layout")) {
                    String module = block.get("name").asText();
                    boolean isA = block.get("which").asText().equals("A");
                    NDArray g = isA ? capture.gradientA(scope, module, adapter) : capture.gradientB(scope, module, adapter);
                    double[] values = doubles(g);                 // [1, r, in] or [1, out, r]
                    if (module.equals("lm_head") && !isA) {
                        values = answerRows(values, answers, (int) adapter.config().rank()); // the paper's C-row head
                    }
                    System.arraycopy(values, 0, got, c * p + block.get("offset").asInt(), block.get("size").asInt());
                }
            }
            // Per-position ∂z/∂(module output) and LoRA inputs of the kept modules.
            capture.zeroGradients();
            NDArray cotangent = scope.zeros(logits.getShape());
            cotangent.set(new ai.djl.ndarray.index.NDIndex(0, answers[1]), 1f);
            Autograd.vjp(logits, cotangent, false);
            for (String module : List.of("model.layers.0.self_attn.q_proj", "model.layers.4.self_attn.v_proj")) {
                double[] dz = arrays.loadDoubles("test.0.dz_doutput." + module);   // [C, T, out]
                double[] dz1 = java.util.Arrays.copyOfRange(dz, dz.length / answers.length, 2 * dz.length / answers.length);
                assertThat(relativeError(doubles(capture.record(module).outputGradient()), dz1)).as(module).isLessThan(1e-4);
                assertThat(relativeError(doubles(capture.record(module).input()), arrays.loadDoubles("test.0.acts." + module)))
                        .as(module).isLessThan(1e-5);
            }
        }
        for (JsonNode block : reference.get("param_layout")) {
            int off = block.get("offset").asInt();
            int size = block.get("size").asInt();
            for (int c = 0; c < answers.length; c++) {
                double[] g = java.util.Arrays.copyOfRange(got, c * p + off, c * p + off + size);
                double[] w = java.util.Arrays.copyOfRange(want, c * p + off, c * p + off + size);
                assertThat(relativeError(g, w)).as("J block %s %s, class %d", block.get("name"), block.get("which"), c)
                        .isLessThan(1e-4);
            }
        }
    }

    private static double[] answerRows(double[] full, int[] answers, int rank) {
        double[] out = new double[answers.length * rank];
        for (int k = 0; k < answers.length; k++) {
            System.arraycopy(full, answers[k] * rank, out, k * rank, rank);
        }
        return out;
    }

    /** Summed over a padded batch, the per-example gradients from the probes are autograd's parameter gradients. */
    @Test
    void perExampleGradientsSumToAutogradsParameterGradients() throws Exception {
        Llama llama = model.llama().withDataType(DataType.FLOAT64);
        LoraConfig config = new LoraConfig(4, 8, 0, List.of("q_proj", "v_proj", "down_proj", "lm_head"), "", false);
        try (llama; LoraAdapter adapter = LoraAdapter.initialise(llama, config, 5, manager);
             NDManager scope = manager.newSubManager();
             LoraCapture capture = new LoraCapture(scope);
             GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            for (LoraWeights w : adapter.modules().values()) {
                w.b().addi(scope.randomNormal(0f, 0.1f, w.b().getShape(), DataType.FLOAT32).toType(DataType.FLOAT64, false));
            }
            adapter.setRequiresGradient(true);
            TokenBatch batch = TokenBatch.leftPadded(List.of(new int[] {1, 403, 407, 261, 378}, new int[] {1, 291}), 0);
            NDArray logits = llama.lastLogits(scope, batch, LoraContext.capturing(adapter, capture));
            NDArray weights = scope.randomNormal(0f, 1f, logits.getShape(), DataType.FLOAT32).toType(DataType.FLOAT64, false);
            Autograd.vjp(logits, weights, false);
            for (String module : adapter.modules().keySet()) {
                double[] perExampleA = doubles(capture.gradientA(scope, module, adapter).sum(new int[] {0}));
                double[] perExampleB = doubles(capture.gradientB(scope, module, adapter).sum(new int[] {0}));
                assertThat(relativeError(perExampleA, doubles(adapter.weights(module).a().getGradient()))).as(module).isLessThan(1e-12);
                assertThat(relativeError(perExampleB, doubles(adapter.weights(module).b().getGradient()))).as(module).isLessThan(1e-12);
            }
        }
    }
}
