package org.laplacelora.streams;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.laplacelora.model.Fixtures;
import org.laplacelora.model.core.Categorical;
import org.laplacelora.model.laplace.curvature.CurvatureConvention;
import org.laplacelora.model.laplace.curvature.FisherType;
import org.laplacelora.model.laplace.fit.LaplaceFit;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.posterior.PriorPrecision;
import org.laplacelora.model.laplace.predictive.LinearisedPredictive;
import org.laplacelora.model.laplace.predictive.Link;
import org.laplacelora.model.llama.ModelLoader;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.tasks.Dataset;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.model.tasks.Example;
import org.laplacelora.model.tasks.Task;
import org.laplacelora.model.tasks.TaskKind;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.avro.Question;
import org.laplacelora.streams.posteriors.ServedModel;
import org.laplacelora.streams.scorer.QuestionScorer;

/**
 * A real scorer for the streaming tests: stories260K with the reference case's LoRA adapter and a
 * posterior fitted on 12 WinoGrande rows (about two seconds).
 */
public final class ScorerFixture {
    private ScorerFixture() {}

    public static Path winogrande() {
        return Fixtures.path("data/winogrande-dev-20.jsonl");
    }

    public static LaplacePosterior posterior(ModelLoader.LoadedModel m, LoraAdapter adapter) throws Exception {
        Task task = Task.of(TaskKind.WINOGRANDE, m.tokenizer());
        List<EncodedExample> train = task.encodeAll(Dataset.read(TaskKind.WINOGRANDE, winogrande()).examples().subList(0, 12),
                m.tokenizer(), 512, new AtomicInteger());
        return LaplaceFit.fit(m.llama(), adapter, train, EnumSet.of(CurvatureConvention.REDUCE),
                new LaplaceFit.Settings("winogrande", task.answers(), task.answerIds(), FisherType.EXACT, 16, 4, 1, 0), n -> {})
                .get(CurvatureConvention.REDUCE)
                .withPrior(PriorPrecision.of(3)).withLastLayerPrior(PriorPrecision.of(3)).withTemperature(2);
    }

    public static QuestionScorer scorer() throws Exception {
        ModelLoader.LoadedModel m = ModelLoader.load(Fixtures.stories260kBin(), Fixtures.tok512(), Device.cpu());
        NDManager manager = NDManager.newBaseManager(Device.cpu());
        LoraAdapter adapter = LoraAdapter.load(Fixtures.path("laplace-case1/case1_adapter"), m.llama(), manager);
        return new QuestionScorer(new ServedModel(m, adapter, manager, posterior(m, adapter), 0, 512),
                new LinearisedPredictive(Link.MC, 2000, 0));
    }

    /** The WinoGrande rows of the fixture file as Avro questions. */
    public static List<Question> questions() throws Exception {
        return Dataset.read(TaskKind.WINOGRANDE, winogrande()).examples().stream().map(ScorerFixture::question).toList();
    }

    public static Question question(Example e) {
        return Question.newBuilder().setId(e.question().id()).setTask("winogrande").setText(e.question().text())
                .setChoices(e.question().choices()).setProducedAt(Instant.now()).build();
    }

    /**
     * The fixture's questions scored by {@code scorer} and labelled against the model's own MAP answers: a
     * concept drift that a posterior near the MAP is sure and wrong about (what a refit must correct).
     */
    public static List<LabelledOutcome> driftedOutcomes(QuestionScorer scorer) throws Exception {
        List<Question> questions = questions();
        List<Prediction> predictions = scorer.score(questions.stream().map(scorer::validate).toList(), System.currentTimeMillis());
        List<LabelledOutcome> out = new ArrayList<>();
        for (int i = 0; i < questions.size(); i++) {
            Prediction p = predictions.get(i);
            double[] map = p.getMap().stream().mapToDouble(Double::doubleValue).toArray();
            out.add(LabelledOutcome.newBuilder().setQuestion(questions.get(i)).setPrediction(p)
                    .setLabel(1 - Categorical.argmax(map)).setSequence(i).setJoinedAt(Instant.now()).build());
        }
        return out;
    }

    public static int[] labels() throws Exception {
        return Dataset.read(TaskKind.WINOGRANDE, winogrande()).examples().stream().mapToInt(Example::label).toArray();
    }
}
