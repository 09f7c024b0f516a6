package org.laplacelora.model.refit;

import io.soabase.recordbuilder.core.RecordBuilder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import org.laplacelora.model.laplace.curvature.CurvatureConvention;
import org.laplacelora.model.laplace.fit.FitSettings;
import org.laplacelora.model.laplace.fit.LaplaceFit;
import org.laplacelora.model.laplace.fit.PriorTuning;
import org.laplacelora.model.laplace.fit.ValidationSet;
import org.laplacelora.model.laplace.posterior.FitReport;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.posterior.PosteriorInfo;
import org.laplacelora.model.laplace.predictive.LinearisedPredictive;
import org.laplacelora.model.laplace.predictive.Links;
import org.laplacelora.model.llama.Llama;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.metrics.CalibrationScores;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.model.tasks.Task;

/**
 * Re-fits a posterior on recent labelled traffic, without touching the adapter: K-FAC curvature over the
 * training part of the buffer (optionally blended with the current posterior's), prior precision tuned on
 * the held-out part, and a validation gate — the candidate is accepted only if its held-out NLL beats the
 * current posterior's by the margin. The temperature of the TS baseline is kept: it is fitted once, as a
 * global temperature is in practice.
 */
public final class PosteriorRefit {
    /**
     * @param heldOutFraction of the buffer kept out of the curvature, for tuning λ and for the gate
     * @param blendWeight weight of the current posterior's curvature in the new one (0: none)
     * @param gateMargin the candidate's held-out NLL must be lower than the current's by more than this (nats)
     * @param evidence tune λ by the training evidence instead of the held-out likelihood
     * @param tuningSamples Monte Carlo samples per held-out question when tuning with more than two classes
     */
    @RecordBuilder
    public record Settings(double heldOutFraction, double blendWeight, double gateMargin, boolean evidence, int batchSize,
                           int tuningSamples, long seed) implements PosteriorRefitSettingsBuilder.With {
        public Settings {
            if (!(heldOutFraction > 0 && heldOutFraction < 1)) {
                throw new IllegalArgumentException("held-out fraction must be in (0, 1)");
            }
        }

        public static Settings defaults() {
            return new Settings(0.3, 0, 0.01, false, 16, Links.REFIT_TUNING_SAMPLES, 0);
        }
    }

    /** Calibration of a posterior's Laplace-LoRA predictive on the held-out part of the buffer. */
    public record HeldOut(long n, double accuracy, double ece, double nll) {
        static HeldOut of(CalibrationScores m) {
            return new HeldOut(m.n(), m.accuracy(), m.ece(), m.nll());
        }
    }

    public record Outcome(LaplacePosterior candidate, HeldOut before, HeldOut after, boolean accepted, String reason,
                          int fitExamples, int heldOutExamples, double seconds) {}

    private PosteriorRefit() {}

    public static Outcome refit(Llama llama, LoraAdapter adapter, Task task, LaplacePosterior current, List<EncodedExample> buffer,
                                Settings o, int padId) {
        long start = System.nanoTime();
        if (buffer.size() < 4) {
            throw new IllegalArgumentException("a refit needs at least 4 labelled examples, the buffer has " + buffer.size());
        }
        List<EncodedExample> shuffled = new ArrayList<>(buffer);
        Collections.shuffle(shuffled, new Random(o.seed()));
        int heldOutCount = Math.max(2, (int) Math.round(o.heldOutFraction() * shuffled.size()));
        List<EncodedExample> heldOut = shuffled.subList(0, heldOutCount);
        List<EncodedExample> train = shuffled.subList(heldOutCount, shuffled.size());
        PosteriorInfo info = current.info();
        LaplaceFit.Settings settings = new LaplaceFit.Settings(info.task(), info.answers(), info.answerIds(), info.fisher(),
                info.sketchRank(), o.batchSize(), padId, o.seed());
        LaplacePosterior fitted = LaplaceFit.fit(llama, adapter, train, EnumSet.of(info.convention()), settings, n -> {})
                .get(info.convention()).blendedWith(current, o.blendWeight());

        ValidationSet held = ValidationSet.compute(llama, adapter, task.answerIds(), heldOut, padId, o.batchSize(),
                List.of(current, fitted), n -> {});
        LinearisedPredictive link = Links.forTuning(task.numClasses(), o.tuningSamples(), o.seed());
        double[] taus = info.convention() == CurvatureConvention.PAPER ? FitSettings.PAPER_TAUS : new double[] {1};
        PriorTuning.Tuned la = o.evidence()
                ? PriorTuning.byEvidence(fitted, LaplacePosterior.ALL, false, current.prior().tau(), 2000)
                : PriorTuning.byValidation(held, fitted, LaplacePosterior.ALL, link, taus);
        PriorTuning.Tuned head = o.evidence()
                ? PriorTuning.byEvidence(fitted, LaplacePosterior.HEAD, false, 1, 2000)
                : PriorTuning.byValidation(held, fitted, LaplacePosterior.HEAD, link, new double[] {1});
        HeldOut before = HeldOut.of(held.calibration(current, current.prior(), LaplacePosterior.ALL, link));
        HeldOut after = HeldOut.of(held.calibration(fitted, la.prior(), LaplacePosterior.ALL, link));
        boolean accepted = after.nll() < before.nll() - o.gateMargin();
        String reason = String.format("held-out NLL %.4f → %.4f (margin %.4f, %d held-out examples): %s", before.nll(), after.nll(),
                o.gateMargin(), heldOut.size(), accepted ? "accepted" : "rejected");
        LaplacePosterior candidate = fitted.withPrior(la.prior()).withLastLayerPrior(head.prior()).withTemperature(current.temperature())
                .withReport(new FitReport.Refit(la.report(), reason, buffer.size(), heldOut.size(), o.blendWeight()));
        return new Outcome(candidate, before, after, accepted, reason, train.size(), heldOut.size(), (System.nanoTime() - start) / 1e9);
    }
}
