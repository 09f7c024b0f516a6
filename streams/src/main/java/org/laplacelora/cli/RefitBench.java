package org.laplacelora.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.laplacelora.model.laplace.LinearisedPredictive;
import org.laplacelora.model.laplace.Link;
import org.laplacelora.model.laplace.PosteriorRefit;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.model.tasks.Example;
import org.laplacelora.streams.demo.DemoAssets;
import org.laplacelora.streams.demo.SyntheticTask;
import org.laplacelora.streams.produce.QuestionProducer;
import org.laplacelora.streams.scorer.QuestionScorer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "refit", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Time of a whole refit (K-FAC curvature on the training part, held-out Jacobians, prior precision "
                + "tuned on the held-out part, the gate) against the buffer size, on the demo's model, adapter and posterior "
                + "(built on first use) and drifted questions of its task."})
final class RefitBench implements Callable<Integer> {
    @Option(names = "--buffer-sizes", split = ",", defaultValue = "64,128,256,512,1024", paramLabel = "N,N,...",
            description = "Default: ${DEFAULT-VALUE}.") int[] sizes;

    @Option(names = "--repeats", defaultValue = "3", paramLabel = "R", description = "Refits per size (the median is reported). Default: ${DEFAULT-VALUE}.")
    int repeats;

    @Option(names = "--cache-dir", paramLabel = "DIR", description = "The demo's cache (default as for demo).") Path cacheDir;

    @Override
    public Integer call() throws Exception {
        DemoAssets.Paths assets = DemoAssets.prepare(cacheDir != null ? cacheDir : DemoCommand.defaultCacheRoot(), System.out::println);
        try (QuestionScorer scorer = QuestionScorer.load(assets.model(), null, assets.adapter(), assets.posterior(), "cpu",
                new LinearisedPredictive(Link.MC, 1000, 0), 64)) {
            int largest = java.util.Arrays.stream(sizes).max().orElse(0);
            List<EncodedExample> all = new ArrayList<>();
            for (Example e : new SyntheticTask(0.1).examples("r", largest, 3, true)) {
                all.add(scorer.encode(QuestionProducer.toQuestion(e, Map.of()), e.label()));
            }
            PosteriorRefit.Options o = PosteriorRefit.Options.defaults();
            PosteriorRefit.refit(scorer.model().llama(), scorer.adapter(), scorer.task(), scorer.posterior(), all.subList(0, 16), o,
                    scorer.model().tokenizer().bos());   // warm-up
            System.out.printf("%8s %6s %9s %10s %10s  %s%n", "buffer", "fit", "held out", "median s", "min s", "gate (last run)");
            for (int n : sizes) {
                double[] seconds = new double[repeats];
                PosteriorRefit.Outcome last = null;
                for (int r = 0; r < repeats; r++) {
                    last = PosteriorRefit.refit(scorer.model().llama(), scorer.adapter(), scorer.task(), scorer.posterior(),
                            all.subList(0, n), o, scorer.model().tokenizer().bos());
                    seconds[r] = last.seconds();
                }
                java.util.Arrays.sort(seconds);
                System.out.printf("%8d %6d %9d %10.2f %10.2f  %s%n", n, last.fitExamples(), last.heldOutExamples(), seconds[repeats / 2],
                        seconds[0], last.accepted() ? "accepted" : "rejected");
            }
            System.out.printf("threads: PyTorch's default on %d cores; model %s%n", Runtime.getRuntime().availableProcessors(),
                    scorer.model().llama().identity());
        }
        return 0;
    }
}
