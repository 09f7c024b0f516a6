package org.laplacelora.model.refit;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.laplacelora.model.laplace.curvature.CurvatureConvention;
import org.laplacelora.model.laplace.curvature.FisherType;
import org.laplacelora.model.laplace.fit.LaplaceFit;
import org.laplacelora.model.laplace.fit.PriorTuning;
import org.laplacelora.model.laplace.fit.ValidationSet;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.predictive.Links;
import org.laplacelora.model.llama.ModelLoader;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.lora.LoraConfig;
import org.laplacelora.model.synthetic.SyntheticTask;
import org.laplacelora.model.synthetic.TinyLlama;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.model.tasks.Task;
import org.laplacelora.model.train.MapTrainer;
import org.laplacelora.model.train.MapTrainerSettingsBuilder;

/**
 * The online refit on the demo's generated task and tiny model: a MAP adapter fine-tuned on the original
 * distribution (creatures → A, fruit → B, in rural settings) with its Laplace posterior, then a buffer from the
 * shifted one (urban settings, the rule reversed), on which the served model is almost always wrong.
 */
class OnlineRefitTest {
    private static Path dir;
    private static ModelLoader.LoadedModel model;
    private static NDManager manager;
    private static LoraAdapter adapter;
    private static Task task;
    private static LaplacePosterior current;
    private static List<EncodedExample> shifted;
    private static List<EncodedExample> original;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory("online-refit");
        TinyLlama.write(dir, SyntheticTask.vocabulary(), TinyLlama.Shape.demo(), 7);
        model = ModelLoader.load(dir, null, Device.cpu());
        manager = NDManager.newBaseManager(Device.cpu());
        task = Task.generic(SyntheticTask.ANSWERS, model.tokenizer());
        SyntheticTask generated = new SyntheticTask(0);
        SyntheticTask noisy = new SyntheticTask(0.1);
        List<EncodedExample> train = encode(noisy.examples("train-", 200, 1, false));
        List<EncodedExample> val = encode(noisy.examples("val-", 100, 2, false));
        original = encode(generated.examples("original-", 200, 4, false));
        shifted = encode(noisy.examples("shifted-", 250, 3, true));
        adapter = LoraAdapter.initialise(model.llama(), new LoraConfig(8, 16, 0.05, LoraConfig.DEFAULT_TARGETS, "", false), 1, manager);
        new MapTrainer(model.llama(), adapter, task.answerIds()).train(train, MapTrainerSettingsBuilder.builder().learningRate(3e-3)
                .weightDecay(0).batchSize(16).epochs(10).seed(1).padId(pad()).build(), null, (s, n, l, x) -> {});
        LaplacePosterior fitted = LaplaceFit.fit(model.llama(), adapter, train, EnumSet.of(CurvatureConvention.LAST),
                new LaplaceFit.Settings(task.kind().id(), task.answers(), task.answerIds(), FisherType.EXACT, 10, 16, pad(), 0), n -> {})
                .get(CurvatureConvention.LAST);
        ValidationSet v = ValidationSet.compute(model.llama(), adapter, task.answerIds(), val, pad(), 16, List.of(fitted), n -> {});
        PriorTuning.Tuned la = PriorTuning.byValidation(v, fitted, LaplacePosterior.ALL, Links.forTuning(2, 1, 0), new double[] {1});
        PriorTuning.Tuned head = PriorTuning.byValidation(v, fitted, LaplacePosterior.HEAD, Links.forTuning(2, 1, 0), new double[] {1});
        current = fitted.withPrior(la.prior()).withLastLayerPrior(head.prior()).withTemperature(v.temperature());
    }

    private static List<EncodedExample> encode(List<org.laplacelora.model.tasks.Example> examples) {
        return task.encodeAll(examples, model.tokenizer(), 64, new AtomicInteger());
    }

    private static int pad() {
        return model.tokenizer().bos();
    }

    @AfterAll
    static void tearDown() throws Exception {
        adapter.close();
        manager.close();
        model.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static PosteriorRefit.Settings settings(RefitMode mode) {
        return PosteriorRefitSettingsBuilder.builder(PosteriorRefit.Settings.defaults()).mode(mode).build();
    }

    @Test
    void anOnlineRefitLearnsTheReversedRuleWhereACurvatureRefitCannot() throws Exception {
        PosteriorRefit.Outcome online = PosteriorRefit.refit(model.llama(), adapter, task, current, shifted, settings(RefitMode.ONLINE), pad());
        PosteriorRefit.Outcome curvature = PosteriorRefit.refit(model.llama(), adapter, task, current, shifted,
                settings(RefitMode.CURVATURE).withAllowBoundary(true), pad());
        String numbers = String.format("gate accuracy before %.2f; online %.2f (τ_f %s); curvature %.2f", online.before().laplace().accuracy(),
                online.after().laplace().accuracy(), online.candidates(), curvature.after().laplace().accuracy());
        System.out.println(numbers);
        assertThat(online.gateRows()).as(numbers).isEqualTo(50);
        assertThat(online.before().laplace().accuracy()).as(numbers).isLessThan(0.2);
        assertThat(online.after().laplace().accuracy()).as(numbers).isGreaterThanOrEqualTo(0.8);
        assertThat(online.accepted()).as(online.reason()).isTrue();
        assertThat(online.adapterFile()).isNotNull();
        assertThat(online.candidates()).hasSize(PosteriorRefit.Settings.defaults().forgetting().size());
        assertThat(curvature.after().laplace().accuracy()).as(numbers).isEqualTo(curvature.before().laplace().accuracy());
        // The new version's mean and posterior belong together.
        try (LoraAdapter moved = LoraAdapter.fromBytes(online.adapterFile(), model.llama(), manager)) {
            assertThat(online.candidate().info().adapterIdentity()).isEqualTo(moved.identity()).isNotEqualTo(adapter.identity());
        }
    }

    @Test
    void thePriorRetainsTheOriginalDistributionBetterThanAPlainFineTune() throws Exception {
        PosteriorRefit.Settings s = settings(RefitMode.ONLINE);
        PosteriorRefit.Outcome online = PosteriorRefit.refit(model.llama(), adapter, task, current, shifted, s, pad());
        BufferSplit split = BufferSplit.of(shifted, s.fitFraction(), s.tuneFraction(), s.minGate(), s.seed());
        try (LoraAdapter moved = LoraAdapter.fromBytes(online.adapterFile(), model.llama(), manager);
             LoraAdapter plain = adapter.copy(manager)) {
            // The same update, the same rows, steps and rate, without the prior term.
            new MapTrainer(model.llama(), plain, task.answerIds()).withPrior((a, scope) -> scope.zeros(new Shape()))
                    .train(split.fit(), MapTrainerSettingsBuilder.builder().learningRate(s.learningRate()).weightDecay(0)
                            .batchSize(s.batchSize()).steps(s.steps()).seed(s.seed()).padId(pad()).build(), null, (x, n, l, r) -> {});
            double before = accuracy(adapter, original);
            double withPrior = accuracy(moved, original);
            double withoutPrior = accuracy(plain, original);
            double shiftedWithPrior = accuracy(moved, split.gate());
            double shiftedWithoutPrior = accuracy(plain, split.gate());
            String numbers = String.format("original-distribution accuracy: before %.3f, online refit %.3f, plain fine-tune %.3f; "
                    + "shifted gate rows: online %.3f, plain %.3f; τ_f %s", before, withPrior, withoutPrior, shiftedWithPrior,
                    shiftedWithoutPrior, online.candidates());
            System.out.println(numbers);
            assertThat(withPrior).as(numbers).isGreaterThan(withoutPrior);
            assertThat(shiftedWithPrior).as("it learnt the new rule too: " + numbers).isGreaterThanOrEqualTo(0.7);
        }
    }

    @Test
    void theFittingTuningAndGatingRowsAreDisjoint() {
        BufferSplit split = BufferSplit.of(shifted, 0.6, 0.2, 30, 5);
        Set<String> fit = ids(split.fit());
        Set<String> tune = ids(split.tune());
        Set<String> gate = ids(split.gate());
        assertThat(fit).doesNotContainAnyElementsOf(tune).doesNotContainAnyElementsOf(gate);
        assertThat(tune).doesNotContainAnyElementsOf(gate);
        Set<String> all = new HashSet<>(fit);
        all.addAll(tune);
        all.addAll(gate);
        assertThat(all).isEqualTo(ids(shifted));
        assertThat(List.of(fit.size(), tune.size(), gate.size())).containsExactly(150, 50, 50);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> BufferSplit.of(shifted.subList(0, 100), 0.6, 0.2, 30, 5))
                .hasMessageContaining("at least " + BufferSplit.minimumBuffer(0.6, 0.2, 30)).hasMessageContaining("has 100");
    }

    private static Set<String> ids(List<EncodedExample> examples) {
        Set<String> out = new HashSet<>();
        examples.forEach(e -> out.add(e.id()));
        assertThat(out).hasSize(examples.size());
        return out;
    }

    private static double accuracy(LoraAdapter a, List<EncodedExample> examples) {
        return new MapTrainer(model.llama(), a, task.answerIds()).accuracy(examples, 32, pad());
    }
}
