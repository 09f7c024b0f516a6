package org.laplacelora.model.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.laplacelora.model.Fixtures;
import org.laplacelora.model.llama.ModelLoader;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.lora.LoraConfig;
import org.laplacelora.model.tasks.EncodedExample;

class MapTrainerTest {
    private static ModelLoader.LoadedModel model;
    private static NDManager manager;
    private static List<EncodedExample> train;
    private static final int[] ANSWERS = {447, 445};

    @BeforeAll
    static void load() throws Exception {
        model = ModelLoader.load(Fixtures.stories260kBin(), Fixtures.tok512(), Device.cpu());
        manager = NDManager.newBaseManager(Device.cpu());
        train = new ArrayList<>();
        JsonNode c = Fixtures.json("laplace-case1/case1.json");
        int i = 0;
        for (String split : new String[] {"train", "test"}) {
            for (JsonNode e : c.get(split)) {
                train.add(new EncodedExample("e" + i++, Fixtures.ints(e.get("ids")), e.get("label").asInt()));
            }
        }
    }

    @AfterAll
    static void close() {
        manager.close();
        model.close();
    }

    /** torch.optim.AdamW on f(p) = Σ (p − c)², against a scalar re-implementation of its update. */
    @Test
    void adamwFollowsTorchsUpdateRule() {
        double[] p0 = {0.5, -1.0, 2.0};
        double[] c = {1.0, 1.0, -1.0};
        double lr = 0.05;
        double wd = 0.1;
        NDArray p = manager.create(p0.clone());
        p.setRequiresGradient(true);
        double[] ref = p0.clone();
        double[] m = new double[3];
        double[] v = new double[3];
        try (AdamW adam = new AdamW(List.of(p), wd, manager)) {
            for (int t = 1; t <= 5; t++) {
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    gc.backward(p.sub(manager.create(c)).square().sum());
                }
                adam.step(lr);
                for (int i = 0; i < 3; i++) {
                    double g = 2 * (ref[i] - c[i]);
                    ref[i] *= 1 - lr * wd;
                    m[i] = 0.9 * m[i] + 0.1 * g;
                    v[i] = 0.999 * v[i] + 0.001 * g * g;
                    double denom = Math.sqrt(v[i]) / Math.sqrt(1 - Math.pow(0.999, t)) + 1e-8;
                    ref[i] -= lr / (1 - Math.pow(0.9, t)) * m[i] / denom;
                }
            }
        }
        double[] got = p.toDoubleArray();
        for (int i = 0; i < 3; i++) {
            assertThat(got[i]).isCloseTo(ref[i], org.assertj.core.data.Offset.offset(1e-12));
        }
    }

    private static float[] trainFor(long seed, int steps) throws Exception {
        LoraConfig config = new LoraConfig(4, 8, 0.1, LoraConfig.DEFAULT_TARGETS, "", false);
        try (LoraAdapter adapter = LoraAdapter.initialise(model.llama(), config, seed, manager)) {
            new MapTrainer(model.llama(), adapter, ANSWERS).train(train,
                    new MapTrainer.Settings(2e-3, 0, 4, steps, 0, seed, 0, 0), null, (s, t, l, r) -> {});
            return adapter.weights("model.layers.2.self_attn.v_proj").b().toFloatArray();
        }
    }

    /** A learning rate of 1e30 blows the weights up; training stops at the first non-finite loss and names its step. */
    @Test
    void aLossThatIsNotFiniteStopsTraining() {
        LoraConfig config = new LoraConfig(4, 8, 0, LoraConfig.DEFAULT_TARGETS, "", false);
        try (LoraAdapter adapter = LoraAdapter.initialise(model.llama(), config, 3, manager)) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> new MapTrainer(model.llama(), adapter, ANSWERS).train(train,
                            new MapTrainer.Settings(1e30, 0, 4, 20, 0, 3, 0, 0), null, (s, t, l, r) -> {}))
                    .isInstanceOf(MapTrainer.DivergedException.class).hasMessageMatching("training diverged: the loss at step \\d+ is .*");
        }
    }

    @Test
    void trainingIsDeterministicForASeed() throws Exception {
        float[] a = trainFor(21, 6);
        float[] b = trainFor(21, 6);
        float[] c = trainFor(42, 6);
        assertThat(a).containsExactly(b);
        assertThat(a).isNotEqualTo(c);
    }

    @Test
    void overfitsASmallTrainingSetAndWritesCheckpoints(@TempDir Path dir) throws Exception {
        LoraConfig config = new LoraConfig(8, 16, 0.1, LoraConfig.DEFAULT_TARGETS, "", false);
        try (LoraAdapter adapter = LoraAdapter.initialise(model.llama(), config, 1, manager)) {
            MapTrainer trainer = new MapTrainer(model.llama(), adapter, ANSWERS);
            double before = trainer.accuracy(train, 8, 0);
            List<Integer> checkpoints = new ArrayList<>();
            MapTrainer.Result r = trainer.train(train, new MapTrainer.Settings(2e-3, 0, 4, 0, 40, 7, 30, 0), dir,
                    new MapTrainer.Listener() {
                        @Override
                        public void onStep(int step, int total, double loss, double rate) {}

                        @Override
                        public void onCheckpoint(int step, Path d) {
                            checkpoints.add(step);
                        }
                    });
            assertThat(r.steps()).isEqualTo(40 * 3);
            assertThat(r.epochLosses()).hasSize(40);
            assertThat(r.epochLosses().get(39)).isLessThan(r.epochLosses().get(0) / 4);
            assertThat(trainer.accuracy(train, 16, 0)).isEqualTo(1.0).isGreaterThan(before);
            assertThat(checkpoints).containsExactly(30, 60, 90);
            assertThat(Files.exists(dir.resolve("checkpoint-60/adapter_model.safetensors"))).isTrue();
        }
    }
}
