package org.laplacelora.streams.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.laplacelora.model.laplace.predictive.Links;
import org.laplacelora.streams.posteriors.ServedModel;
import org.laplacelora.streams.scorer.QuestionScorer;
import org.laplacelora.streams.scorer.ScorerSettings;
import org.laplacelora.streams.scorer.ScorerTopology;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The posterior, the link and the micro-batch limits of a scorer. */
final class ScoringOptions {
    private static final ScorerSettings DEFAULTS = ScorerSettings.defaults();

    @Option(names = "--posterior", required = true, paramLabel = "FILE", description = "The posterior (fit-posterior) to serve.")
    Path posterior;

    @Option(names = "--max-batch", paramLabel = "N", description = "Largest micro-batch. Default: ${DEFAULT-VALUE}.")
    int maxBatch = DEFAULTS.batching().maxBatch();

    @Option(names = "--max-wait-ms", paramLabel = "MS",
            description = "Longest a question waits for its micro-batch to fill. Default: ${DEFAULT-VALUE}.")
    long maxWaitMs = DEFAULTS.batching().maxWait().toMillis();

    @Option(names = "--commit-interval-ms", paramLabel = "MS",
            description = "How often the scorer's transactions commit; predictions become visible then. Longer intervals "
                    + "raise throughput (docs/benchmarks.md) and add latency. Default: ${DEFAULT-VALUE}.")
    long commitIntervalMs = DEFAULTS.commitInterval().toMillis();

    @Option(names = "--score-ahead", paramLabel = "N",
            description = "Micro-batches scored on a thread of their own while the stream thread polls and commits; "
                    + "0 scores on the stream thread. Default: ${DEFAULT-VALUE}.")
    int scoreAhead = DEFAULTS.batching().scoreAhead();

    @Mixin
    LinkOptions link = new LinkOptions(Links.SERVING_SAMPLES);

    @Option(names = "--max-length", paramLabel = "N",
            description = "Longest prompt in tokens (capped at the model's context); longer ones are dead-lettered TOO_LONG. Default: ${DEFAULT-VALUE}.")
    int maxLength = 512;

    QuestionScorer load(ModelOptions model, AdapterOptions adapter) throws IOException {
        model.configureEngine();
        return new QuestionScorer(ServedModel.load(model.model, model.tokenizer, adapter.adapter, posterior, model.device, maxLength),
                link.predictive(0));
    }

    ScorerSettings settings() {
        return new ScorerSettings(new ScorerTopology.Batching(maxBatch, Duration.ofMillis(maxWaitMs), scoreAhead),
                Duration.ofMillis(commitIntervalMs));
    }
}
