package org.laplacelora.streams.cli;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.DoubleFunction;
import java.util.function.DoubleUnaryOperator;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.laplacelora.model.core.Categorical;
import org.laplacelora.model.laplace.fit.PriorTuning;
import org.laplacelora.model.laplace.fit.ValidationSet;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.predictive.LinearisedPredictive;
import org.laplacelora.model.laplace.predictive.Links;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.metrics.Calibration;
import org.laplacelora.model.metrics.CalibrationScores;
import org.laplacelora.model.refit.BufferSplit;
import org.laplacelora.model.refit.PosteriorRefit;
import org.laplacelora.model.refit.RefitMode;
import org.laplacelora.model.synthetic.SyntheticTask;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.model.tasks.Example;
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
    @Option(names = "--fit-fraction", defaultValue = "0.6", paramLabel = "F") double fitFraction;
    @Option(names = "--tune-fraction", defaultValue = "0.2", paramLabel = "F") double tuneFraction;
    @Option(names = "--held-out", defaultValue = "0", paramLabel = "N") int heldOut;
    @Option(names = "--label-noise", defaultValue = "0.1", paramLabel = "P") double labelNoise;
    @Option(names = "--data-seed", defaultValue = "3", paramLabel = "S") long dataSeed;
    @Option(names = "--extra-tuning", defaultValue = "0", paramLabel = "N") int extraTuning;
    @Option(names = "--reliability") boolean reliability;
    @Option(names = "--noise-floor") boolean noiseFloor;
    @Option(names = "--brier") boolean brier;
    @Option(names = "--by-ece") boolean byEce;
    @Option(names = "--curvature-scales", split = ",", paramLabel = "T,T,...") double[] curvatureScales;
    @Option(names = "--return") boolean returnShift;
    @Option(names = "--forgetting", split = ",", paramLabel = "T,T,...") List<Double> forgetting = PosteriorRefit.Settings.defaults().forgetting();
    @Option(names = "--online-steps", paramLabel = "N") int steps = PosteriorRefit.Settings.defaults().steps();
    @Option(names = "--online-lr", paramLabel = "X") double learningRate = PosteriorRefit.Settings.defaults().learningRate();
    @Mixin CacheOptions cache;

    @Override
    public Integer call() throws Exception {
        if (heldOut <= 0 && (reliability || noiseFloor || brier || byEce || curvatureScales != null || extraTuning > 0 || returnShift)) {
            throw new IllegalArgumentException("--reliability, --noise-floor, --brier, --by-ece, --curvature-scales, --extra-tuning and --return score candidates on held-out "
                    + "questions: give --held-out N as well");
        }
        if (curvatureScales != null && Arrays.stream(curvatureScales).anyMatch(t -> !(t >= 0))) {
            throw new IllegalArgumentException("--curvature-scales takes scales τ ≥ 0 (0 is the prior alone), got "
                    + Arrays.toString(curvatureScales));
        }
        modes.forEach(RefitMode::parse);   // an unknown mode fails before the demo model is built
        try (ServedModel served = cache.demoModel(); ServedModel.Lease version = served.lease()) {
            int largest = Arrays.stream(sizes).max().orElse(0);
            List<EncodedExample> all = questions(served, "r", largest, dataSeed, true);
            List<EncodedExample> test = heldOut > 0 ? questions(served, "h", heldOut, 1000 + dataSeed, true) : List.of();
            List<EncodedExample> extra = extraTuning > 0 ? questions(served, "x", extraTuning, 2000 + dataSeed, true) : List.of();
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
                    if (!test.isEmpty()) {
                        BufferSplit split = split(all.subList(0, n), settings(mode, n));
                        try (NDManager candidate = NDManager.newBaseManager()) {
                            LoraAdapter adapter = last.adapterFile() == null ? version.adapter()
                                    : LoraAdapter.fromBytes(last.adapterFile(), served.model().llama(), candidate);
                            score(served, adapter, last.candidate(), split, test, extra);
                            if (returnShift) {
                                returnRefit(served, mode, n, last, adapter, candidate);
                            }
                        }
                    }
                    out().flush();
                }
            }
            out().printf("threads: PyTorch's default on %d cores; model %s; label noise %.2f%n", Runtime.getRuntime().availableProcessors(),
                    served.model().llama().identity(), labelNoise);
        }
        return 0;
    }

    /** A refit candidate on its own fitting, tuning and gating rows and on the held-out questions, with the analyses asked for. */
    private void score(ServedModel served, LoraAdapter adapter, LaplacePosterior candidate, BufferSplit split, List<EncodedExample> test,
                       List<EncodedExample> extra) {
        calibration(served, adapter, candidate, "fitting rows", split.fit());
        ValidationSet tune = calibration(served, adapter, candidate, "tuning rows", split.tune());
        calibration(served, adapter, candidate, "gating rows", split.gate());
        ValidationSet held = calibration(served, adapter, candidate, "held out", test);
        if (noiseFloor) {
            noiseFloor(served, candidate, tune, held);
        }
        if (brier) {
            brier(served, candidate, tune, held);
        }
        if (byEce) {
            byEce(served, candidate, tune, held);
        }
        if (curvatureScales != null) {
            curvatureScaled(served, candidate, tune, held);
        }
        if (!extra.isEmpty()) {
            List<EncodedExample> rows = new ArrayList<>(split.tune());
            rows.addAll(extra);
            calibration(served, adapter, retuned(served, adapter, candidate, rows), "held out, λ and T re-tuned on " + rows.size() + " rows",
                    test);
        }
    }

    /**
     * The demo's second shift: the candidate of the first refit, as the version in service, refitted on a buffer of the same
     * size from the original distribution (the return), and scored like the first on held-out questions from it.
     */
    private void returnRefit(ServedModel served, RefitMode mode, int n, PosteriorRefit.Outcome first, LoraAdapter adapter, NDManager manager)
            throws IOException {
        if (!first.accepted()) {
            out().printf("%-9s %6d  the first refit was rejected, so there is no version to return from%n", mode.id() + " ↩", n);
            return;
        }
        List<EncodedExample> buffer = questions(served, "b", n, 3000 + dataSeed, false);
        List<EncodedExample> test = questions(served, "g", heldOut, 4000 + dataSeed, false);
        List<EncodedExample> extra = extraTuning > 0 ? questions(served, "y", extraTuning, 5000 + dataSeed, false) : List.of();
        PosteriorRefit.Settings o = settings(mode, n);
        PosteriorRefit.Outcome back = PosteriorRefit.refit(served.model().llama(), adapter, served.task(), first.candidate(), buffer, o,
                served.padId());
        out().printf("%-9s %6d %4d %4d %4d %10.2f %10s  the return to the original distribution, from that candidate: %s%n", mode.id() + " ↩",
                n, back.fitRows(), back.tuningRows(), back.gateRows(), back.seconds(), "", back.reason());
        LoraAdapter returned = back.adapterFile() == null ? adapter : LoraAdapter.fromBytes(back.adapterFile(), served.model().llama(), manager);
        score(served, returned, back.candidate(), split(buffer, o), test, extra);
    }

    /** The fitting, tuning and gating rows a refit with settings {@code o} made of {@code buffer}. */
    private static BufferSplit split(List<EncodedExample> buffer, PosteriorRefit.Settings o) {
        return BufferSplit.of(buffer, o.fitFraction(), o.tuneFraction(), o.minGate(), o.seed());
    }

    /** {@code n} questions of the demo's task, of the drifted distribution or the original one. */
    private List<EncodedExample> questions(ServedModel served, String prefix, int n, long seed, boolean drifted) {
        List<EncodedExample> rows = new ArrayList<>();
        for (Example e : new SyntheticTask(labelNoise).examples(prefix, n, seed, drifted)) {
            rows.add(served.encode(QuestionProducer.toQuestion(e, Map.of()), e.label()));
        }
        return rows;
    }

    /**
     * The candidate with λ (and the last layer's) and the temperature tuned again, as the refit tunes them, on more rows: its
     * tuning rows and rows labelled later. What a larger tuning split would buy, with the mean and the curvature unchanged.
     */
    private static LaplacePosterior retuned(ServedModel served, LoraAdapter adapter, LaplacePosterior p, List<EncodedExample> rows) {
        return PosteriorRefit.tuneOn(validation(served, adapter, p, rows), p, link(served)).posterior();
    }

    /** A candidate's three predictives on some rows (where the tuning's NLL optimum leaves the confidence); returns those rows' set. */
    private ValidationSet calibration(ServedModel served, LoraAdapter adapter, LaplacePosterior p, String what, List<EncodedExample> rows) {
        ValidationSet v = validation(served, adapter, p, rows);
        CalibrationScores la = v.calibration(p, p.prior(), LaplacePosterior.ALL, link(served));
        CalibrationScores ts = v.calibrationAt(p.temperature());
        CalibrationScores map = v.calibrationAt(1);
        out().printf("    %-12s %5d: acc %5.1f%% | %s | %s | %s%n", what, rows.size(), 100 * map.accuracy(), row("LA", la), row("TS", ts),
                row("MAP", map));
        if (reliability) {
            printBins("LA", la);
            printBins("TS", ts);
            printBins("MAP", map);
        }
        return v;
    }

    /**
     * Laplace-LoRA and temperature scaling with a floor ε under every probability, (1 − ε)·p + ε/K — the predictive of a
     * likelihood in which a label is replaced by a uniformly random one with probability ε — with ε tuned jointly with λ
     * (or T) on the tuning rows by their NLL, on a grid, and scored on the held-out rows. An analysis of what one more
     * scalar of that shape would buy; the refitter has no such floor.
     */
    private void noiseFloor(ServedModel served, LaplacePosterior p, ValidationSet tune, ValidationSet held) {
        Scales g = new Scales(served, p);
        Floor laFloor = Floor.tuned(g.lambdas, l -> g.laplace(tune, l), tune.labels());
        Floor tsFloor = Floor.tuned(g.temperatures, t -> g.temperature(tune, t), tune.labels());
        out().printf("    %-12s %5d: acc %5.1f%% | %s | %s   (LA: λ %.3g%s, ε %.2f; TS: T %.3g%s, ε %.2f; tuned on the %d tuning rows)%n",
                "held out, with a noise floor", held.size(), 100 * held.calibrationAt(1).accuracy(),
                row("LA", Calibration.of(laFloor.applied(g.laplace(held, laFloor.scale())), held.labels())),
                row("TS", Calibration.of(tsFloor.applied(g.temperature(held, tsFloor.scale())), held.labels())),
                laFloor.scale(), edge(g.lambdas, laFloor.scale()), laFloor.epsilon(), tsFloor.scale(), edge(g.temperatures, tsFloor.scale()),
                tsFloor.epsilon(), tune.size());
    }

    /**
     * λ and the temperature chosen on the tuning rows by their Brier score instead of their NLL, and scored on the held-out
     * rows. The NLL's optimum of one scale is weighted by the logits' size, so it calibrates the most confident questions
     * first; the Brier score weights each question by how much its confidence can still move. An analysis only.
     */
    private void brier(ServedModel served, LaplacePosterior p, ValidationSet tune, ValidationSet held) {
        Scales g = new Scales(served, p);
        CalibrationScores[] chosen = tunedBy("Brier", CalibrationScores::brier, g, p, tune, held);
        if (reliability) {
            printBins("LA", chosen[0]);
            printBins("TS", chosen[1]);
        }
    }

    /**
     * Chooses λ and the temperature on the tuning rows by {@code loss} instead of their NLL, prints both scored on the
     * held-out rows, and returns those scores (Laplace-LoRA's, the temperature's).
     */
    private CalibrationScores[] tunedBy(String lossName, ToDoubleFunction<CalibrationScores> loss, Scales g, LaplacePosterior p,
                                        ValidationSet tune, ValidationSet held) {
        double lambda = Scales.minimising(g.lambdas, l -> loss.applyAsDouble(Calibration.of(g.laplace(tune, l), tune.labels())));
        double t = Scales.minimising(g.temperatures, x -> loss.applyAsDouble(Calibration.of(g.temperature(tune, x), tune.labels())));
        CalibrationScores la = Calibration.of(g.laplace(held, lambda), held.labels());
        CalibrationScores ts = Calibration.of(g.temperature(held, t), held.labels());
        out().printf("    %-12s %5d: acc %5.1f%% | %s | %s   (LA: λ %.3g%s, NLL-tuned %.3g; TS: T %.3g%s, NLL-tuned %.3g; on the %d tuning rows)%n",
                "held out, tuned by " + lossName, held.size(), 100 * held.calibrationAt(1).accuracy(), row("LA", la), row("TS", ts),
                lambda, edge(g.lambdas, lambda), p.prior().lambda(), t, edge(g.temperatures, t), p.temperature(), tune.size());
        return new CalibrationScores[] {la, ts};
    }

    /**
     * λ and the temperature chosen by their ECE: on the tuning rows, as a refit could; and on the held-out rows themselves,
     * which is the lowest ECE any one λ or T reaches there (a bound found in hindsight, not a method). Then what a demo
     * phase would read at that best λ: the ECE of {@value #PHASE_OUTCOMES} outcomes drawn with replacement from the
     * held-out ones, {@value #PHASE_DRAWS} times. An analysis only.
     */
    private void byEce(ServedModel served, LaplacePosterior p, ValidationSet tune, ValidationSet held) {
        Scales g = new Scales(served, p);
        tunedBy("ECE", CalibrationScores::ece, g, p, tune, held);
        // Each λ's held-out predictive once: the search, the best λ's line and the served λ's phases (a grid point) share them.
        Map<Double, List<double[]>> heldAt = new HashMap<>();
        DoubleFunction<List<double[]>> laplaceHeld = l -> heldAt.computeIfAbsent(l, x -> g.laplace(held, x));
        double bestLambda = Scales.minimising(g.lambdas, l -> Calibration.of(laplaceHeld.apply(l), held.labels()).ece());
        double bestT = Scales.minimising(g.temperatures, x -> Calibration.of(g.temperature(held, x), held.labels()).ece());
        List<double[]> best = laplaceHeld.apply(bestLambda);
        out().printf("    %-12s %5d: acc %5.1f%% | %s | %s   (LA: λ %.3g%s; TS: T %.3g%s; chosen on these rows)%n",
                "held out, lowest ECE of any λ or T", held.size(), 100 * held.calibrationAt(1).accuracy(),
                row("LA", Calibration.of(best, held.labels())), row("TS", Calibration.of(g.temperature(held, bestT), held.labels())),
                bestLambda, edge(g.lambdas, bestLambda), bestT, edge(g.temperatures, bestT));
        out().printf("    %-12s %5d: LA as served: %s; LA at the lowest-ECE λ: %s%n", "a phase's reading", PHASE_OUTCOMES,
                PhaseReadings.of(laplaceHeld.apply(p.prior().lambda()), held.labels()), PhaseReadings.of(best, held.labels()));
    }

    /** The demo's after-swap phases hold 513–599 labelled outcomes in the runs since its refits take 4–6 s. */
    static final int PHASE_OUTCOMES = 550;
    static final int PHASE_DRAWS = 2000;
    /** One seed for every reading, so that the served λ and the best one are read on the same resampled phases. */
    private static final long PHASE_SEED = 2000;

    /** The median ECE of phases of {@value #PHASE_OUTCOMES} outcomes resampled from some rows, and the share of them above 8 %. */
    record PhaseReadings(double medianEce, double shareAbove8) {
        static PhaseReadings of(List<double[]> probabilities, int[] labels) {
            Random random = new Random(PHASE_SEED);
            double[] ece = new double[PHASE_DRAWS];
            for (int d = 0; d < PHASE_DRAWS; d++) {
                Calibration phase = new Calibration();
                for (int i = 0; i < PHASE_OUTCOMES; i++) {
                    int k = random.nextInt(labels.length);
                    phase.add(probabilities.get(k), labels[k]);
                }
                ece[d] = phase.metrics().ece();
            }
            Arrays.sort(ece);
            return new PhaseReadings(ece[PHASE_DRAWS / 2], (double) Arrays.stream(ece).filter(e -> e > 0.08).count() / PHASE_DRAWS);
        }

        @Override
        public String toString() {
            return String.format("ECE median %.1f %%, above 8 %% in %.0f %% of draws", 100 * medianEce, 100 * shareAbove8);
        }
    }

    /**
     * λ tuned jointly with a scale τ of the curvature, Λ = τ·(G ⊗ A) + λ·I (the reference's two-dimensional grid of
     * Algorithm 3), on the tuning rows by their NLL, and scored on the held-out rows. An analysis only; the refit keeps τ = 1.
     */
    private void curvatureScaled(ServedModel served, LaplacePosterior p, ValidationSet tune, ValidationSet held) {
        LinearisedPredictive link = link(served);
        PriorTuning.Tuned t = PriorTuning.byValidation(tune, p, LaplacePosterior.ALL, link, curvatureScales);
        CalibrationScores la = held.calibration(p, t.prior(), LaplacePosterior.ALL, link);
        double tau = t.prior().tau();
        boolean tauEdge = tau == Arrays.stream(curvatureScales).min().orElseThrow() || tau == Arrays.stream(curvatureScales).max().orElseThrow();
        out().printf("    %-12s %5d: acc %5.1f%% | %s   (λ %.3g%s, τ %.3g%s; as served: λ %.3g, τ %.3g; on the %d tuning rows)%n",
                "held out, λ and τ tuned", held.size(), 100 * la.accuracy(), row("LA", la), t.prior().lambda(),
                t.atBoundary() ? " (the edge of its range)" : "", tau, tauEdge ? " (the edge of its grid)" : "", p.prior().lambda(),
                p.prior().tau(), tune.size());
        if (reliability) {
            printBins("LA", la);
        }
    }

    /** The grids of λ and T that the analyses search, and each method's predictive at one of their points. */
    private static final class Scales {
        final double[] lambdas = new double[33];
        final double[] temperatures = new double[61];
        private final LaplacePosterior posterior;
        private final LinearisedPredictive link;

        Scales(ServedModel served, LaplacePosterior posterior) {
            this.posterior = posterior;
            this.link = link(served);
            for (int j = 0; j < lambdas.length; j++) {
                lambdas[j] = posterior.prior().lambda() * Math.pow(10, (j - 8) / 4.0);    // the tuned λ / 100 … × 10⁶
            }
            for (int j = 0; j < temperatures.length; j++) {
                temperatures[j] = 0.05 * Math.pow(100, j / 60.0);                 // 0.05 … 5, the temperature's own range
            }
        }

        List<double[]> laplace(ValidationSet v, double lambda) {
            return IntStream.range(0, v.size())
                    .mapToObj(n -> v.probabilities(n, posterior, posterior.prior().withLambda(lambda), LaplacePosterior.ALL, link)).toList();
        }

        List<double[]> temperature(ValidationSet v, double t) {
            return Arrays.stream(v.mu()).map(mu -> Categorical.softmax(mu, t)).toList();
        }

        static double minimising(double[] grid, DoubleUnaryOperator loss) {
            double best = grid[0];
            double bestLoss = Double.POSITIVE_INFINITY;
            for (double x : grid) {
                double l = loss.applyAsDouble(x);
                if (l < bestLoss) {
                    best = x;
                    bestLoss = l;
                }
            }
            return best;
        }
    }

    /** A scale of a predictive (λ or T) and the floor ε under its probabilities, (1 − ε)·p + ε/K. */
    record Floor(double scale, double epsilon) {
        /** The scale of {@code scales} and ε ∈ {0, 0.01, …, 0.5} with the lowest NLL of the floored predictive of the labels. */
        static Floor tuned(double[] scales, DoubleFunction<List<double[]>> predictive, int[] labels) {
            Floor best = null;
            double bestNll = Double.POSITIVE_INFINITY;
            for (double scale : scales) {
                List<double[]> probabilities = predictive.apply(scale);
                for (int e = 0; e <= 50; e++) {
                    Floor f = new Floor(scale, e / 100.0);
                    double nll = 0;
                    for (int n = 0; n < labels.length; n++) {
                        nll -= Math.log(f.applied(probabilities.get(n))[labels[n]]);
                    }
                    if (nll < bestNll) {
                        best = f;
                        bestNll = nll;
                    }
                }
            }
            return best;
        }

        double[] applied(double[] p) {
            return Arrays.stream(p).map(x -> (1 - epsilon) * x + epsilon / p.length).toArray();
        }

        List<double[]> applied(List<double[]> probabilities) {
            return probabilities.stream().map(this::applied).toList();
        }
    }

    private static String edge(double[] grid, double chosen) {
        return chosen == grid[0] || chosen == grid[grid.length - 1] ? " (the edge of its grid)" : "";
    }

    private static ValidationSet validation(ServedModel served, LoraAdapter adapter, LaplacePosterior p, List<EncodedExample> rows) {
        return ValidationSet.compute(served.model().llama(), adapter, served.task().answerIds(), rows, served.padId(), 32, List.of(p), x -> {});
    }

    private static LinearisedPredictive link(ServedModel served) {
        return Links.forTuning(served.task().numClasses(), Links.REFIT_TUNING_SAMPLES, 0);
    }

    /** One method's line of non-empty bins, each as "mean confidence → accuracy (count)", in percent. */
    private void printBins(String method, CalibrationScores s) {
        out().printf("      %-3s by confidence: %s%n", method, s.bins().stream().filter(b -> b.count() > 0)
                .map(b -> String.format("%.0f→%.0f (%d)", 100 * b.meanConfidence(), 100 * b.accuracy(), b.count()))
                .collect(Collectors.joining(" | ")));
    }

    private static String row(String method, CalibrationScores s) {
        return String.format("%-3s conf−acc %+5.1f ECE %4.1f NLL %.3f", method, 100 * s.meanConfidenceMinusAccuracy(), 100 * s.ece(), s.nll());
    }

    /** The refitter's defaults with this bench's fractions; the gate's minimum lowered to a fifth of the buffer so that small buffers can be timed. */
    private PosteriorRefit.Settings settings(RefitMode mode, int buffer) {
        PosteriorRefit.Settings d = PosteriorRefit.Settings.defaults().withFitFraction(fitFraction).withTuneFraction(tuneFraction)
                .withForgetting(forgetting).withSteps(steps).withLearningRate(learningRate);
        return d.withMode(mode).withMinGate(Math.min(d.minGate(), buffer / 5)).withAllowBoundary(mode == RefitMode.CURVATURE);
    }

    private static PosteriorRefit.Outcome refit(ServedModel served, ServedModel.Lease version, List<EncodedExample> buffer,
                                                PosteriorRefit.Settings o) throws IOException {
        return PosteriorRefit.refit(served.model().llama(), version.adapter(), served.task(), version.posterior(), buffer, o, served.padId());
    }
}
