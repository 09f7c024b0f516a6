package org.laplacelora.streams.cli;

import java.time.Duration;
import org.laplacelora.model.laplace.predictive.LinearisedPredictive;
import org.laplacelora.model.laplace.predictive.Link;
import org.laplacelora.model.laplace.predictive.Links;
import org.laplacelora.streams.bench.PipelineBenchmark;
import org.laplacelora.model.synthetic.SyntheticTask;
import org.laplacelora.streams.scorer.QuestionScorer;
import org.laplacelora.streams.scorer.ScorerSettings;
import org.laplacelora.streams.scorer.ScorerTopology;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "pipeline")
final class PipelineBench extends AppCommand {
    private static final ScorerSettings DEFAULTS = ScorerSettings.defaults();

    @Option(names = "--questions", defaultValue = "2000", paramLabel = "N", descriptionKey = "pipeline.questions") int questions;
    @Option(names = "--batch", defaultValue = "32", paramLabel = "B") int batch;
    @Mixin SamplesOption samples = new SamplesOption(Links.SERVING_SAMPLES);
    @Option(names = "--commit-interval-ms", paramLabel = "MS") long commitIntervalMs = DEFAULTS.commitInterval().toMillis();
    @Option(names = "--score-ahead", paramLabel = "N") int scoreAhead = DEFAULTS.batching().scoreAhead();
    @Mixin CacheOptions cache;

    @Override
    public Integer call() throws Exception {
        try (QuestionScorer scorer = new QuestionScorer(cache.demoModel(), new LinearisedPredictive(Link.MC, samples.samples, 0))) {
            PipelineBenchmark.run(scorer, new SyntheticTask(0.1).examples("q", questions, 5, false),
                    new ScorerSettings(new ScorerTopology.Batching(batch, Duration.ofMillis(50), scoreAhead), Duration.ofMillis(commitIntervalMs)),
                    System.out);
        }
        return 0;
    }
}
