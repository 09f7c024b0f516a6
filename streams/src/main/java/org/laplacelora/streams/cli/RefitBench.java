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
    @Option(names = "--held-out", defaultValue = "0", paramLabel = "N") int heldOut;
    @Option(names = "--fit-fraction", defaultValue = "0.6", paramLabel = "F") double fitFraction;
    @Option(names = "--tune-fraction", defaultValue = "0.2", paramLabel = "F") double tuneFraction;
    @Option(names = "--steps", defaultValue = "120", paramLabel = "S") int steps;
    @Option(names = "--lr", defaultValue = "0.01", paramLabel = "LR") double lr;
    @Option(names = "--data-seed", defaultValue = "3", paramLabel = "S") long dataSeed;
    @Mixin CacheOptions cache;

    @Override
    public Integer call() throws Exception {
        try (ServedModel served = cache.demoModel(); ServedModel.Lease version = served.lease()) {
            int largest = Arrays.stream(sizes).max().orElse(0);
            List<EncodedExample> all = new ArrayList<>();
            for (Example e : new SyntheticTask(0.1).examples("r", largest, dataSeed, true)) {
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
                    if (heldOut > 0) {
                        heldOut(served, version, last);
                    }
                    out().flush();
                }
            }
            out().printf("threads: PyTorch's default on %d cores; model %s%n", Runtime.getRuntime().availableProcessors(),
                    served.model().llama().identity());
        }
        return 0;
    }

    /** The refitter's defaults, with the gate's minimum lowered to a fifth of the buffer so that small buffers can be timed. */
    private void heldOut(ServedModel served, ServedModel.Lease version, PosteriorRefit.Outcome o) throws IOException {
        List<EncodedExample> test = new ArrayList<>();
        for (Example e : new SyntheticTask(0.1).examples("h", heldOut, 1000 + dataSeed, true)) {
            test.add(served.encode(QuestionProducer.toQuestion(e, Map.of()), e.label()));
        }
        try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager()) {
            org.laplacelora.model.lora.LoraAdapter a = o.adapterFile() == null ? version.adapter()
                    : org.laplacelora.model.lora.LoraAdapter.fromBytes(o.adapterFile(), served.model().llama(), m);
            org.laplacelora.model.laplace.posterior.LaplacePosterior p = o.candidate();
            var v = org.laplacelora.model.laplace.fit.ValidationSet.compute(served.model().llama(), a, served.task().answerIds(), test,
                    served.padId(), 32, List.of(p), x -> {});
            var link = org.laplacelora.model.laplace.predictive.Links.forTuning(2, 64, 0);
            var la = v.calibration(p, p.prior(), org.laplacelora.model.laplace.posterior.LaplacePosterior.ALL, link);
            var ts = v.calibrationAt(p.temperature());
            var map = v.calibrationAt(1);
            out().printf("   held-out %d: LA acc %.1f ECE %.1f NLL %.3f | TS acc %.1f ECE %.1f NLL %.3f (T %.2f) | MAP ECE %.1f NLL %.3f | λ %.3g%n",
                    heldOut, 100 * la.accuracy(), 100 * la.ece(), la.nll(), 100 * ts.accuracy(), 100 * ts.ece(), ts.nll(), p.temperature(),
                    100 * map.ece(), map.nll(), p.prior().lambda());
        }
    }

    private PosteriorRefit.Settings settings(RefitMode mode, int buffer) {
        PosteriorRefit.Settings d = PosteriorRefit.Settings.defaults().withFitFraction(fitFraction).withTuneFraction(tuneFraction)
                .withSteps(steps).withLearningRate(lr);
        return d.withMode(mode).withMinGate(Math.min(d.minGate(), buffer / 5)).withAllowBoundary(mode == RefitMode.CURVATURE);
    }

    private static PosteriorRefit.Outcome refit(ServedModel served, ServedModel.Lease version, List<EncodedExample> buffer,
                                                PosteriorRefit.Settings o) throws IOException {
        return PosteriorRefit.refit(served.model().llama(), version.adapter(), served.task(), version.posterior(), buffer, o, served.padId());
    }
}
