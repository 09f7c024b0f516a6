package org.laplacelora.model.refit;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.laplacelora.model.Fixtures;
import org.laplacelora.model.core.Categorical;
import org.laplacelora.model.laplace.curvature.CurvatureConvention;
import org.laplacelora.model.laplace.curvature.FisherType;
import org.laplacelora.model.laplace.fit.LaplaceFit;
import org.laplacelora.model.laplace.fit.ValidationSet;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.posterior.PriorPrecision;
import org.laplacelora.model.laplace.predictive.JacobianBatch;
import org.laplacelora.model.llama.ModelLoader;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.tasks.Dataset;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.model.tasks.Task;
import org.laplacelora.model.tasks.TaskKind;

/**
 * The curvature refit and its gate on stories260K with the reference adapter: 20 WinoGrande questions
 * relabelled against the model's own MAP answers (a concept drift: the model is now wrong where it is
 * sure). The posterior in service is nearly the MAP (λ = 10⁴), so a refit that tunes λ on held-out data
 * must beat it; refitting again from that result has nothing left to gain and must be rejected.
 */
class PosteriorRefitTest {
    private static ModelLoader.LoadedModel model;
    private static NDManager manager;
    private static LoraAdapter adapter;
    private static Task task;
    private static LaplacePosterior current;
    private static List<EncodedExample> drifted;

    @BeforeAll
    static void setUp() throws Exception {
        model = ModelLoader.load(Fixtures.stories260kBin(), Fixtures.tok512(), Device.cpu());
        manager = NDManager.newBaseManager(Device.cpu());
        adapter = LoraAdapter.load(Fixtures.path("laplace-case1/case1_adapter"), model.llama(), manager);
        task = Task.of(TaskKind.WINOGRANDE, model.tokenizer());
        List<EncodedExample> all = task.encodeAll(Dataset.read(TaskKind.WINOGRANDE, Fixtures.path("data/winogrande-dev-20.jsonl"))
                .examples(), model.tokenizer(), 512, new AtomicInteger());
        current = LaplaceFit.fit(model.llama(), adapter, all.subList(0, 12), EnumSet.of(CurvatureConvention.REDUCE),
                new LaplaceFit.Settings("winogrande", task.answers(), task.answerIds(), FisherType.EXACT, 16, 4, 1, 0), n -> {})
                .get(CurvatureConvention.REDUCE)
                .withPrior(PriorPrecision.of(1e4)).withLastLayerPrior(PriorPrecision.of(1e4)).withTemperature(1.7);
        drifted = new ArrayList<>();
        try (JacobianBatch j = JacobianBatch.compute(model.llama(), adapter, task.answerIds(), all, 1, manager)) {
            for (int n = 0; n < all.size(); n++) {
                EncodedExample e = all.get(n);
                drifted.add(new EncodedExample(e.id(), e.tokens(), 1 - Categorical.argmax(j.mu()[n])));
            }
        }
    }

    @AfterAll
    static void tearDown() {
        adapter.close();
        manager.close();
        model.close();
    }

    /**
     * 12 fitting, 4 tuning and 4 gating rows. The best a curvature refit can do for answers that are all wrong is
     * to make them 50/50, with λ at the bottom of its range: allowed here, where the gate's arithmetic is tested.
     */
    private static PosteriorRefit.Settings options(double margin) {
        return PosteriorRefitSettingsBuilder.builder(PosteriorRefit.Settings.defaults()).mode(RefitMode.CURVATURE).minGate(4)
                .gateMargin(margin).batchSize(4).tuningSamples(2000).allowBoundary(true).build();
    }

    @Test
    void aLambdaOnTheEdgeOfItsRangeIsReportedAndRefusedUnlessAllowed() throws Exception {
        PosteriorRefit.Outcome o = PosteriorRefit.refit(model.llama(), adapter, task, current, drifted,
                options(0.01).withAllowBoundary(false), 1);
        assertThat(o.lambdaAtBoundary()).isTrue();
        assertThat(o.after().laplace().nll()).as("it would beat the current posterior").isLessThan(o.before().laplace().nll() - 0.01);
        assertThat(o.accepted()).isFalse();
        assertThat(o.reason()).contains("on the edge of its range").endsWith("rejected");
    }

    @Test
    void theGateAcceptsARefitThatBeatsTheCurrentPosteriorOnItsOwnRows() throws Exception {
        PosteriorRefit.Outcome o = PosteriorRefit.refit(model.llama(), adapter, task, current, drifted, options(0.01), 1);
        assertThat(o.accepted()).as(o.reason()).isTrue();
        assertThat(o.after().laplace().nll()).isLessThan(o.before().laplace().nll() - 0.01);
        assertThat(o.gateRows()).isEqualTo(4);
        assertThat(o.tuningRows()).isEqualTo(4);
        assertThat(o.fitRows()).isEqualTo(12);
        assertThat(o.candidate().info().examples()).isEqualTo(12);
        assertThat(o.candidate().prior().lambda()).as("more spread than the near-MAP posterior").isLessThan(1e4);
        assertThat(o.candidate().info().adapterIdentity()).isEqualTo(current.info().adapterIdentity());
        assertThat(o.adapterFile()).as("a curvature refit keeps the adapter").isNull();
        assertThat(o.reason()).contains("accepted");
        // The TS baseline is re-fitted with the posterior, on the same tuning rows.
        BufferSplit split = BufferSplit.of(drifted, 0.6, 0.2, 4, 0);
        double temperature = ValidationSet.compute(model.llama(), adapter, task.answerIds(), split.tune(), 1, 4, List.of(), n -> {})
                .temperature();
        assertThat(o.candidate().temperature()).isEqualTo(temperature).isNotEqualTo(1.7);
    }

    /** A version fitted with a chosen link (here probit, not the exact two-class rule) is tuned, gated and served with it. */
    @Test
    void aRefitKeepsTheLinkItsVersionWasFittedWith() throws Exception {
        PosteriorRefit.Outcome exact = PosteriorRefit.refit(model.llama(), adapter, task, current, drifted, options(0.01), 1);
        PosteriorRefit.Outcome probit = PosteriorRefit.refit(model.llama(), adapter, task, current.withLink("probit"), drifted,
                options(0.01), 1);
        assertThat(exact.candidate().link()).isEqualTo(LaplacePosterior.AUTO_LINK);
        assertThat(probit.candidate().link()).isEqualTo("probit");
        assertThat(probit.before().laplace().nll()).as("the gate scored the current version with its own link")
                .isNotCloseTo(exact.before().laplace().nll(), org.assertj.core.data.Offset.offset(1e-9));
        assertThat(probit.before().map().nll()).as("the same rows and mean").isCloseTo(exact.before().map().nll(),
                org.assertj.core.data.Offset.offset(1e-12));
    }

    @Test
    void theGateRejectsARefitWithNothingToGainAndOneThatMissesTheMargin() throws Exception {
        PosteriorRefit.Outcome first = PosteriorRefit.refit(model.llama(), adapter, task, current, drifted, options(0.01), 1);
        PosteriorRefit.Outcome again = PosteriorRefit.refit(model.llama(), adapter, task, first.candidate(), drifted, options(0.01), 1);
        assertThat(again.accepted()).as(again.reason()).isFalse();
        assertThat(again.reason()).contains("rejected");
        assertThat(again.before().laplace().nll()).isCloseTo(first.after().laplace().nll(), org.assertj.core.data.Offset.offset(1e-9));

        double gain = first.before().laplace().nll() - first.after().laplace().nll();
        PosteriorRefit.Outcome strict = PosteriorRefit.refit(model.llama(), adapter, task, current, drifted, options(gain + 0.01), 1);
        assertThat(strict.accepted()).isFalse();
        assertThat(strict.after().laplace().nll()).isCloseTo(first.after().laplace().nll(), org.assertj.core.data.Offset.offset(1e-9));
    }

    @Test
    void blendingAddsThePreviousCurvatureDownWeighted() {
        LaplacePosterior twice = current.blendedWith(current, 1);
        assertThat(twice.info().examples()).isEqualTo(2 * current.info().examples());
        for (int b = 0; b < current.blocks().size(); b++) {
            double[] g = current.blocks().get(b).g().values();
            double[] g2 = twice.blocks().get(b).g().values();
            double[] a = current.blocks().get(b).a().values();
            double[] a2 = twice.blocks().get(b).a().values();
            assertThat(sum(g2)).as("G adds").isCloseTo(2 * sum(g), org.assertj.core.data.Offset.offset(1e-9 * (1 + sum(g))));
            assertThat(sum(a2)).as("A averages").isCloseTo(sum(a), org.assertj.core.data.Offset.offset(1e-9 * (1 + sum(a))));
        }
        assertThat(current.blendedWith(current, 0)).isSameAs(current);
    }

    private static double sum(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s;
    }
}
