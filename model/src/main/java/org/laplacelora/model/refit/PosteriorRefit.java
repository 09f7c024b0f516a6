package org.laplacelora.model.refit;

import ai.djl.ndarray.NDManager;
import io.soabase.recordbuilder.core.RecordBuilder;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.laplacelora.model.laplace.curvature.CurvatureConvention;
import org.laplacelora.model.laplace.fit.FitSettings;
import org.laplacelora.model.laplace.fit.LaplaceFit;
import org.laplacelora.model.laplace.fit.PriorTuning;
import org.laplacelora.model.laplace.fit.ValidationSet;
import org.laplacelora.model.laplace.posterior.FitReport;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.posterior.PosteriorInfo;
import org.laplacelora.model.laplace.posterior.PriorPrecision;
import org.laplacelora.model.laplace.predictive.LinearisedPredictive;
import org.laplacelora.model.laplace.predictive.Link;
import org.laplacelora.model.laplace.predictive.Links;
import org.laplacelora.model.llama.Llama;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.metrics.CalibrationScores;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.model.tasks.Task;
import org.laplacelora.model.train.MapTrainer;
import org.laplacelora.model.train.MapTrainerSettingsBuilder;

/**
 * Re-fits the served model on recent labelled traffic. The buffer is cut into three disjoint parts
 * ({@link BufferSplit}): fitting, tuning and gating.
 *
 * <ul>
 *   <li>{@link RefitMode#ONLINE}: for each forgetting factor τ_f, the LoRA weights move to the MAP of the fitting
 *       rows under the prior N(θ_current, (τ_f Λ_current)⁻¹) ({@link KfacPenalty}, a bounded number of AdamW
 *       steps; from the strongest prior to the weakest, each starting at the previous mode), the K-FAC curvature at
 *       the new mode is added to τ_f × the current one, and λ is tuned on the tuning rows; the τ_f with the lowest
 *       tuning NLL (and λ inside its range) wins (reference notes §2.8).
 *   <li>{@link RefitMode#CURVATURE}: the adapter stays; the curvature of the fitting rows (optionally blended with
 *       the current one) gets λ tuned on the tuning rows.
 * </ul>
 *
 * Either way the temperature of the TS baseline is re-fitted on the tuning rows, so the baseline always has the
 * same data and chance as the method. The gate compares the candidate with the current version on the gating
 * rows (Laplace-LoRA's NLL must drop by the margin) and refuses a λ on the edge of its search range unless
 * allowed.
 */
public final class PosteriorRefit {
    /**
     * @param fitFraction of the buffer for the mode and the curvature; {@code tuneFraction} for λ, τ_f and the
     *     temperature; the rest gates, at least {@code minGate} rows
     * @param forgetting the τ_f tried by an online refit (each a whole update)
     * @param steps AdamW steps of an online update with the strongest prior (a third of them for each weaker one, which
     *     starts at the previous mode); {@code learningRate} their rate
     * @param blendWeight weight of the current curvature in a curvature refit's (0: none)
     * @param gateMargin the candidate's gating NLL must be lower than the current's by more than this (nats)
     * @param evidence tune λ by the fitting rows' evidence instead (curvature refits only)
     * @param allowBoundary accept a λ on the edge of its search range
     * @param tuningSamples Monte Carlo samples per tuning question with more than two classes
     */
    @RecordBuilder
    public record Settings(RefitMode mode, double fitFraction, double tuneFraction, int minGate, List<Double> forgetting, int steps,
                           double learningRate, double blendWeight, double gateMargin, boolean evidence, boolean allowBoundary,
                           int batchSize, int tuningSamples, long seed) implements PosteriorRefitSettingsBuilder.With {
        public Settings {
            if (!(fitFraction > 0 && tuneFraction > 0 && fitFraction + tuneFraction < 1)) {
                throw new IllegalArgumentException("the fitting and tuning fractions must be positive and leave rows to gate");
            }
            forgetting = List.copyOf(forgetting);
            if (forgetting.isEmpty() || forgetting.stream().anyMatch(f -> !(f > 0 && f <= 1))) {
                throw new IllegalArgumentException("forgetting factors must be in (0, 1], got " + forgetting);
            }
            if (evidence && mode == RefitMode.ONLINE) {
                throw new IllegalArgumentException("evidence tuning is for curvature refits; an online refit tunes λ and τ_f on "
                        + "its tuning rows");
            }
        }

        public static Settings defaults() {
            return new Settings(RefitMode.ONLINE, 0.6, 0.2, 30, List.of(1.0, 0.5, 0.2, 0.1), 120, 1e-2, 0, 0.01, false, false, 32,
                    Links.REFIT_TUNING_SAMPLES, 0);
        }

        /** The smallest buffer a refit accepts. */
        public int minimumBuffer() {
            return BufferSplit.minimumBuffer(fitFraction, tuneFraction, minGate);
        }
    }

    /** Calibration of one method's predictive on the gating rows. */
    public record Scores(long n, double accuracy, double ece, double nll) {
        static Scores of(CalibrationScores m) {
            return new Scores(m.n(), m.accuracy(), m.ece(), m.nll());
        }
    }

    /** Laplace-LoRA, temperature scaling and MAP of one version, side by side. */
    public record MethodScores(Scores laplace, Scores temperature, Scores map) {}

    /**
     * @param adapterFile the candidate's mean as an adapter file ({@link LoraAdapter#toBytes}), or null when the
     *     refit kept the adapter
     * @param before the current version on the gating rows; {@code after} the candidate
     */
    public record Outcome(RefitMode mode, LaplacePosterior candidate, byte[] adapterFile, MethodScores before, MethodScores after,
                          List<FitReport.ForgettingCandidate> candidates, boolean lambdaAtBoundary, boolean accepted, String reason,
                          int fitRows, int tuningRows, int gateRows, double seconds) {}

    /** A candidate tuned on the tuning rows: its posterior (hyperparameters set) and the adapter it is fitted on. */
    private record Tuned(LoraAdapter adapter, LaplacePosterior posterior, PriorTuning.Tuned laplace, double tuningNll) {}

    private PosteriorRefit() {}

    public static Outcome refit(Llama llama, LoraAdapter adapter, Task task, LaplacePosterior current, List<EncodedExample> buffer,
                                Settings o, int padId) throws IOException {
        long start = System.nanoTime();
        BufferSplit split = BufferSplit.of(buffer, o.fitFraction(), o.tuneFraction(), o.minGate(), o.seed());
        // The link a version was fitted with is kept: tuned for, gated with and served with (for two classes it is exact).
        Link kept = LaplacePosterior.AUTO_LINK.equals(current.link()) ? Link.AUTO : Link.parse(current.link());
        LinearisedPredictive link = kept == Link.AUTO ? Links.forTuning(task.numClasses(), o.tuningSamples(), o.seed())
                : new LinearisedPredictive(kept, o.tuningSamples(), o.seed());
        try (NDManager manager = NDManager.newBaseManager(llama.device())) {
            List<FitReport.ForgettingCandidate> candidates = new ArrayList<>();
            List<String> diverged = new ArrayList<>();
            Tuned best;
            double forgetting = Double.NaN;
            if (o.mode() == RefitMode.ONLINE) {
                best = null;
                LoraAdapter from = adapter;
                List<Double> strongestFirst = o.forgetting().stream().sorted(java.util.Comparator.reverseOrder()).toList();
                for (double tf : strongestFirst) {
                    // A continuation: each weaker prior's mode is sought from the stronger one's, so it needs fewer steps.
                    LoraAdapter moved = from.copy(manager);
                    int steps = from == adapter ? o.steps() : Math.max(1, o.steps() / 3);
                    try (KfacPenalty prior = new KfacPenalty(current, adapter, tf, manager)) {
                        new MapTrainer(llama, moved, task.answerIds()).withPrior(prior).train(split.fit(),
                                MapTrainerSettingsBuilder.builder().learningRate(o.learningRate()).weightDecay(0).batchSize(o.batchSize())
                                        .steps(steps).seed(o.seed()).padId(padId).build(), null, (s, t, l, x) -> {});
                    } catch (MapTrainer.DivergedException e) {
                        // A weaker prior may still converge from the last good mode; only when none does is the refit lost.
                        diverged.add(String.format("τ_f %.2g: %s", tf, e.getMessage()));
                        continue;
                    }
                    from = moved;
                    Tuned t = tune(llama, moved, task, fit(llama, moved, current.info(), split, o, padId).blendedWith(current, tf), split, o,
                            padId, link);
                    candidates.add(new FitReport.ForgettingCandidate(tf, t.laplace().prior().lambda(), t.laplace().atBoundary(),
                            t.posterior().temperature(), t.tuningNll()));
                    if (best == null || better(t, best)) {
                        best = t;
                        forgetting = tf;
                    }
                }
                if (best == null) {
                    throw new IllegalStateException("the online update diverged at every forgetting factor tried ("
                            + String.join("; ", diverged) + "); a smaller learning rate or fewer steps may help");
                }
            } else {
                LaplacePosterior fitted = fit(llama, adapter, current.info(), split, o, padId).blendedWith(current, o.blendWeight())
                        .withPrior(current.prior());   // the evidence keeps the current curvature scale τ
                best = tune(llama, adapter, task, fitted, split, o, padId, link);
            }
            // The gating rows at each adapter's weights: once when the refit kept the adapter, for both posteriors.
            ValidationSet gateAfter = best.adapter() == adapter
                    ? gate(llama, adapter, task, List.of(current, best.posterior()), split, o, padId)
                    : gate(llama, best.adapter(), task, List.of(best.posterior()), split, o, padId);
            ValidationSet gateBefore = best.adapter() == adapter ? gateAfter
                    : gate(llama, adapter, task, List.of(current), split, o, padId);
            MethodScores before = scores(gateBefore, current, link);
            MethodScores after = scores(gateAfter, best.posterior(), link);
            boolean boundary = best.laplace().atBoundary();
            boolean beats = after.laplace().nll() < before.laplace().nll() - o.gateMargin();
            boolean accepted = beats && (!boundary || o.allowBoundary());
            boolean weakestPrior = o.mode() == RefitMode.ONLINE && o.forgetting().size() > 1
                    && forgetting == o.forgetting().stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
            String reason = String.format("gate NLL %.4f → %.4f (margin %.4f, %d gating rows)%s%s%s: %s", before.laplace().nll(),
                    after.laplace().nll(), o.gateMargin(), split.gate().size(),
                    boundary ? String.format("; λ %.3g on the edge of its range%s", best.posterior().prior().lambda(),
                            o.allowBoundary() ? " (allowed)" : "") : "",
                    weakestPrior ? String.format("; τ_f %.2g, the smallest tried", forgetting) : "",
                    diverged.isEmpty() ? "" : "; diverged: " + String.join("; ", diverged),
                    accepted ? "accepted" : "rejected");
            LaplacePosterior candidate = best.posterior().withLink(current.link()).withReport(new FitReport.Refit(o.mode().id(),
                    best.laplace().report(), reason, buffer.size(), split.fit().size(), split.tune().size(), split.gate().size(),
                    o.blendWeight(), forgetting, candidates));
            byte[] adapterFile = best.adapter() == adapter ? null : best.adapter().toBytes();
            return new Outcome(o.mode(), candidate, adapterFile, before, after, candidates, boundary, accepted, reason, split.fit().size(),
                    split.tune().size(), split.gate().size(), (System.nanoTime() - start) / 1e9);
        }
    }

    /** Inside-range λ first, then the lower tuning NLL. */
    private static boolean better(Tuned a, Tuned b) {
        if (a.laplace().atBoundary() != b.laplace().atBoundary()) {
            return !a.laplace().atBoundary();
        }
        return a.tuningNll() < b.tuningNll();
    }

    /** The curvature of the fitting rows at the adapter's weights, under the current posterior's convention. */
    private static LaplacePosterior fit(Llama llama, LoraAdapter adapter, PosteriorInfo info, BufferSplit split, Settings o, int padId) {
        LaplaceFit.Settings settings = new LaplaceFit.Settings(info.task(), info.answers(), info.answerIds(), info.fisher(),
                info.sketchRank(), o.batchSize(), padId, o.seed());
        return LaplaceFit.fit(llama, adapter, split.fit(), EnumSet.of(info.convention()), settings, n -> {}).get(info.convention());
    }

    /** λ of Laplace-LoRA and of last-layer Laplace, and the TS temperature, on the tuning rows. */
    private static Tuned tune(Llama llama, LoraAdapter adapter, Task task, LaplacePosterior fitted, BufferSplit split, Settings o,
                              int padId, LinearisedPredictive link) {
        ValidationSet val = ValidationSet.compute(llama, adapter, task.answerIds(), split.tune(), padId, o.batchSize(), List.of(fitted),
                n -> {});
        if (!o.evidence()) {
            Tuning t = tuneOn(val, fitted, link);
            // λ was chosen on exactly this NLL (same rows, blocks and link), so it is the tuning's objective.
            return new Tuned(adapter, t.posterior(), t.laplace(), t.laplace().objective());
        }
        PriorTuning.Tuned la = PriorTuning.byEvidence(fitted, LaplacePosterior.ALL, false, fitted.prior().tau(), 2000);
        PriorTuning.Tuned head = PriorTuning.byEvidence(fitted, LaplacePosterior.HEAD, false, 1, 2000);
        LaplacePosterior tuned = fitted.withPrior(la.prior()).withLastLayerPrior(head.prior()).withTemperature(val.temperature());
        return new Tuned(adapter, tuned, la, val.nll(tuned, la.prior(), LaplacePosterior.ALL, link));
    }

    /** A posterior tuned by validation, and the search that chose its λ. */
    public record Tuning(LaplacePosterior posterior, PriorTuning.Tuned laplace) {}

    /**
     * A refit's tuning by validation on {@code val} (rows projected onto {@code fitted}): λ of Laplace-LoRA (with τ under the
     * paper's convention) and of last-layer Laplace by the validation NLL under {@code link}, and the TS temperature.
     */
    public static Tuning tuneOn(ValidationSet val, LaplacePosterior fitted, LinearisedPredictive link) {
        double[] taus = fitted.info().convention() == CurvatureConvention.PAPER ? FitSettings.PAPER_TAUS : new double[] {1};
        PriorTuning.Tuned la = PriorTuning.byValidation(val, fitted, LaplacePosterior.ALL, link, taus);
        PriorTuning.Tuned head = PriorTuning.byValidation(val, fitted, LaplacePosterior.HEAD, link, new double[] {1});
        return new Tuning(fitted.withPrior(la.prior()).withLastLayerPrior(head.prior()).withTemperature(val.temperature()), la);
    }

    /** The gating rows at the adapter's weights, projected onto the posterior. */
    private static ValidationSet gate(Llama llama, LoraAdapter adapter, Task task, List<LaplacePosterior> posteriors, BufferSplit split,
                                      Settings o, int padId) {
        return ValidationSet.compute(llama, adapter, task.answerIds(), split.gate(), padId, o.batchSize(), posteriors, n -> {});
    }

    private static MethodScores scores(ValidationSet gate, LaplacePosterior p, LinearisedPredictive link) {
        PriorPrecision prior = p.prior();
        return new MethodScores(Scores.of(gate.calibration(p, prior, LaplacePosterior.ALL, link)),
                Scores.of(gate.calibrationAt(p.temperature())), Scores.of(gate.calibrationAt(1)));
    }
}
