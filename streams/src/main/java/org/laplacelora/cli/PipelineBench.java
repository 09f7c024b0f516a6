package org.laplacelora.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.laplacelora.model.laplace.LinearisedPredictive;
import org.laplacelora.model.laplace.Link;
import org.laplacelora.streams.demo.DemoAssets;
import org.laplacelora.streams.demo.PipelineBenchmark;
import org.laplacelora.streams.demo.SyntheticTask;
import org.laplacelora.streams.scorer.QuestionScorer;
import org.laplacelora.streams.scorer.ScorerTopology;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "pipeline", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Questions per second through Kafka (embedded broker, exactly once, one partition) against the bare "
                + "model at the same batch size, and labelled outcomes per second through the calibrator alone. Uses the "
                + "demo's model, adapter and posterior (built on first use)."})
final class PipelineBench implements Callable<Integer> {
    @Option(names = "--questions", defaultValue = "2000", paramLabel = "N", description = "Default: ${DEFAULT-VALUE}.") int questions;

    @Option(names = "--batch", defaultValue = "32", paramLabel = "B", description = "Micro-batch size of both. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--samples", defaultValue = "20000", paramLabel = "N", description = "Monte Carlo samples per question. Default: ${DEFAULT-VALUE}.")
    int samples;

    @Option(names = "--commit-interval-ms", defaultValue = "100", paramLabel = "MS",
            description = "How often the transactions commit (outputs become visible then): latency against throughput. "
                    + "Default: ${DEFAULT-VALUE}, as the scorer and calibrator run.") long commitIntervalMs;

    @Option(names = "--score-ahead", defaultValue = "" + ScorerTopology.Batching.DEFAULT_SCORE_AHEAD, paramLabel = "N",
            description = "Micro-batches the scorer scores on its own thread while the stream thread polls and commits "
                    + "(0: on the stream thread). Default: ${DEFAULT-VALUE}, as the scorer runs.") int scoreAhead;

    @Option(names = "--cache-dir", paramLabel = "DIR", description = "The demo's cache (default as for demo).") Path cacheDir;

    @Override
    public Integer call() throws Exception {
        Path root = cacheDir != null ? cacheDir : DemoCommand.defaultCacheRoot();
        DemoAssets.Paths assets = DemoAssets.prepare(root, System.out::println);
        try (QuestionScorer scorer = QuestionScorer.load(assets.model(), null, assets.adapter(), assets.posterior(), "cpu",
                new LinearisedPredictive(Link.MC, samples, 0), 64)) {
            PipelineBenchmark.run(scorer, new SyntheticTask(0.1).examples("q", questions, 5, false), batch,
                    Duration.ofMillis(commitIntervalMs), scoreAhead, System.out);
        }
        return 0;
    }
}
