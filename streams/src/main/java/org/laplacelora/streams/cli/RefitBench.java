package org.laplacelora.streams.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.laplacelora.model.refit.PosteriorRefit;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.model.tasks.Example;
import org.laplacelora.streams.demo.SyntheticTask;
import org.laplacelora.streams.posteriors.ServedModel;
import org.laplacelora.streams.produce.QuestionProducer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "refit")
final class RefitBench extends AppCommand {
    @Option(names = "--buffer-sizes", split = ",", defaultValue = "64,128,256,512,1024", paramLabel = "N,N,...") int[] sizes;
    @Option(names = "--repeats", defaultValue = "3", paramLabel = "R", descriptionKey = "refit.repeats") int repeats;
    @Mixin CacheOptions cache;

    @Override
    public Integer call() throws Exception {
        try (ServedModel served = cache.demoModel()) {
            int largest = Arrays.stream(sizes).max().orElse(0);
            List<EncodedExample> all = new ArrayList<>();
            for (Example e : new SyntheticTask(0.1).examples("r", largest, 3, true)) {
                all.add(served.encode(QuestionProducer.toQuestion(e, Map.of()), e.label()));
            }
            PosteriorRefit.Settings o = PosteriorRefit.Settings.defaults();
            refit(served, all.subList(0, 16), o);   // warm-up
            System.out.printf("%8s %6s %9s %10s %10s  %s%n", "buffer", "fit", "held out", "median s", "min s", "gate (last run)");
            for (int n : sizes) {
                double[] seconds = new double[repeats];
                PosteriorRefit.Outcome last = null;
                for (int r = 0; r < repeats; r++) {
                    last = refit(served, all.subList(0, n), o);
                    seconds[r] = last.seconds();
                }
                Arrays.sort(seconds);
                System.out.printf("%8d %6d %9d %10.2f %10.2f  %s%n", n, last.fitExamples(), last.heldOutExamples(), seconds[repeats / 2],
                        seconds[0], last.accepted() ? "accepted" : "rejected");
            }
            System.out.printf("threads: PyTorch's default on %d cores; model %s%n", Runtime.getRuntime().availableProcessors(),
                    served.model().llama().identity());
        }
        return 0;
    }

    private static PosteriorRefit.Outcome refit(ServedModel served, List<EncodedExample> buffer, PosteriorRefit.Settings o) {
        return PosteriorRefit.refit(served.model().llama(), served.adapter(), served.task(), served.posterior(), buffer, o, served.padId());
    }
}
