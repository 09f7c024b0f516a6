package org.laplacelora.streams.cli;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.laplacelora.model.refit.PosteriorRefit;
import org.laplacelora.model.refit.RefitMode;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.model.tasks.Example;
import org.laplacelora.model.synthetic.SyntheticTask;
import org.laplacelora.streams.posteriors.ServedModel;
import org.laplacelora.streams.produce.QuestionProducer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "refit")
final class RefitBench extends AppCommand {
    @Option(names = "--buffer-sizes", split = ",", defaultValue = "64,128,256,512,1024", paramLabel = "N,N,...") int[] sizes;
    @Option(names = "--modes", split = ",", defaultValue = "online,curvature", paramLabel = "M,M") List<String> modes;
    @Option(names = "--repeats", defaultValue = "3", paramLabel = "R", descriptionKey = "refit.repeats") int repeats;
    @Mixin CacheOptions cache;

    @Override
    public Integer call() throws Exception {
        try (ServedModel served = cache.demoModel(); ServedModel.Lease version = served.lease()) {
            int largest = Arrays.stream(sizes).max().orElse(0);
            List<EncodedExample> all = new ArrayList<>();
            for (Example e : new SyntheticTask(0.1).examples("r", largest, 3, true)) {
                all.add(served.encode(QuestionProducer.toQuestion(e, Map.of()), e.label()));
            }
            out().printf("%-9s %6s %4s %4s %4s %10s %10s  %s%n", "mode", "buffer", "fit", "tune", "gate", "median s", "min s",
                    "gate (last run)");
            for (String m : modes) {
                RefitMode mode = RefitMode.parse(m);
                refit(served, version, all.subList(0, Math.min(all.size(), 64)), settings(mode, 64));   // warm-up
                for (int n : sizes) {
                    double[] seconds = new double[repeats];
                    PosteriorRefit.Outcome last = null;
                    for (int r = 0; r < repeats; r++) {
                        last = refit(served, version, all.subList(0, n), settings(mode, n));
                        seconds[r] = last.seconds();
                    }
                    Arrays.sort(seconds);
                    out().printf("%-9s %6d %4d %4d %4d %10.2f %10.2f  %s%n", mode.id(), n, last.fitRows(), last.tuningRows(), last.gateRows(),
                            seconds[repeats / 2], seconds[0], last.reason());
                    out().flush();
                }
            }
            out().printf("threads: PyTorch's default on %d cores; model %s%n", Runtime.getRuntime().availableProcessors(),
                    served.model().llama().identity());
        }
        return 0;
    }

    /** The refitter's defaults, with the gate's minimum lowered to a fifth of the buffer so that small buffers can be timed. */
    private static PosteriorRefit.Settings settings(RefitMode mode, int buffer) {
        PosteriorRefit.Settings d = PosteriorRefit.Settings.defaults();
        return d.withMode(mode).withMinGate(Math.min(d.minGate(), buffer / 5)).withAllowBoundary(mode == RefitMode.CURVATURE);
    }

    private static PosteriorRefit.Outcome refit(ServedModel served, ServedModel.Lease version, List<EncodedExample> buffer,
                                                PosteriorRefit.Settings o) throws IOException {
        return PosteriorRefit.refit(served.model().llama(), version.adapter(), served.task(), version.posterior(), buffer, o, served.padId());
    }
}
