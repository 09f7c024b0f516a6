package org.laplacelora.streams.cli;

import java.io.IOException;
import java.time.Duration;
import org.laplacelora.model.laplace.predictive.Links;
import org.laplacelora.streams.scorer.QuestionScorer;
import org.laplacelora.streams.scorer.ScorerSettings;
import org.laplacelora.streams.scorer.ScorerTopology;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The link, the prompt limit and the micro-batches of a scorer. */
final class ScoringOptions {
    private static final ScorerSettings DEFAULTS = ScorerSettings.defaults();

    @Option(names = "--max-batch", paramLabel = "N") int maxBatch = DEFAULTS.batching().maxBatch();
    @Option(names = "--max-wait-ms", paramLabel = "MS") long maxWaitMs = DEFAULTS.batching().maxWait().toMillis();

    @Option(names = "--commit-interval-ms", paramLabel = "MS", descriptionKey = "scoring.commit-interval-ms")
    long commitIntervalMs = DEFAULTS.commitInterval().toMillis();

    @Option(names = "--score-ahead", paramLabel = "N", descriptionKey = "scoring.score-ahead")
    int scoreAhead = DEFAULTS.batching().scoreAhead();

    @Mixin LinkOptions link = new LinkOptions(Links.SERVING_SAMPLES);
    @Option(names = "--max-length", paramLabel = "N", descriptionKey = "scoring.max-length") int maxLength = 512;

    QuestionScorer load(PosteriorOptions posterior) throws IOException {
        return new QuestionScorer(posterior.serve(maxLength), link.predictive(0));
    }

    ScorerSettings settings() {
        return new ScorerSettings(new ScorerTopology.Batching(maxBatch, Duration.ofMillis(maxWaitMs), scoreAhead),
                Duration.ofMillis(commitIntervalMs));
    }
}
