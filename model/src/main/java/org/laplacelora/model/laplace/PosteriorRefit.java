package org.laplacelora.model.laplace;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.laplacelora.model.llama.Llama;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.metrics.Calibration;
import org.laplacelora.model.metrics.CalibrationMetrics;
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
     */
    public record Options(double heldOutFraction, double blendWeight, double gateMargin, boolean evidence, int batchSize,
                          int tuningSamples, long seed) {
        public Options {
            if (!(heldOutFraction > 0 && heldOutFraction < 1)) {
                throw new IllegalArgumentException("held-out fraction must be in (0, 1)");
            }
        }

        public static Options defaults() {
            return new Options(0.3, 0, 0.01, false, 16, 1000, 0);
        }
    }

    /** Calibration of a posterior's Laplace-LoRA predictive on the held-out part of the buffer. */
    public record HeldOut(long n, double accuracy, double ece, double nll) {
        static HeldOut of(CalibrationMetrics m) {
            return new HeldOut(m.n(), m.accuracy(), m.ece(), m.nll());
        }
    }

    public record Outcome(LaplacePosterior candidate, HeldOut before, HeldOut after, boolean accepted, String reason,
                          int fitExamples, int heldOutExamples, double seconds) {}

    private PosteriorRefit() {}

    public static Outcome refit(Llama llama, LoraAdapter adapter, Task task, LaplacePosterior current, List<EncodedExample> buffer,
                                Options o, int padId) {
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
        LaplacePosterior candidate = LaplaceFit.fit(llama, adapter, train, EnumSet.of(info.convention()), settings, n -> {})
                .get(info.convention()).blendedWith(current, o.blendWeight());

        // Held-out Jacobians once, projected onto both posteriors' eigenbases.
        ProjectedJacobians now = null;
        ProjectedJacobians next = null;
        List<double[]> mu = new ArrayList<>();
        try (NDManager m = NDManager.newBaseManager(llama.device())) {
            for (int i = 0; i < heldOut.size(); i += o.batchSize()) {
                List<EncodedExample> batch = heldOut.subList(i, Math.min(i + o.batchSize(), heldOut.size()));
                try (JacobianBatch j = JacobianBatch.compute(llama, adapter, task.answerIds(), batch, padId, m)) {
                    now = now == null ? current.project(j) : now.concat(current.project(j));
                    next = next == null ? candidate.project(j) : next.concat(candidate.project(j));
                    mu.addAll(List.of(j.mu()));
                }
            }
        }
        double[][] mus = mu.toArray(new double[0][]);
        int[] labels = heldOut.stream().mapToInt(EncodedExample::label).toArray();
        String[] ids = heldOut.stream().map(EncodedExample::id).toArray(String[]::new);
        LinearisedPredictive link = task.numClasses() == 2 ? new LinearisedPredictive(Link.BINARY, 1, o.seed())
                : new LinearisedPredictive(Link.MC, o.tuningSamples(), o.seed());
        PriorTuning.Validation valNext = new PriorTuning.Validation(next, mus, labels, ids);
        double[] taus = info.convention() == CurvatureConvention.PAPER ? PosteriorFitting.PAPER_TAUS : new double[] {1};
        PriorTuning.Tuned la = o.evidence()
                ? PriorTuning.byEvidence(candidate, LaplacePosterior.ALL, false, current.prior().tau(), 2000)
                : PriorTuning.byValidation(valNext, LaplacePosterior.ALL, link, taus);
        PriorTuning.Tuned head = o.evidence()
                ? PriorTuning.byEvidence(candidate, LaplacePosterior.HEAD, false, 1, 2000)
                : PriorTuning.byValidation(valNext, LaplacePosterior.HEAD, link, new double[] {1});
        candidate.setPrior(la.prior());
        candidate.setLastLayerPrior(head.prior());
        candidate.setTemperature(current.temperature());
        HeldOut before = heldOut(new PriorTuning.Validation(now, mus, labels, ids), current.prior(), link);
        HeldOut after = heldOut(valNext, candidate.prior(), link);
        boolean accepted = after.nll() < before.nll() - o.gateMargin();
        String reason = String.format("held-out NLL %.4f → %.4f (margin %.4f, %d held-out examples): %s", before.nll(), after.nll(),
                o.gateMargin(), heldOut.size(), accepted ? "accepted" : "rejected");
        candidate.setReport(Map.of("protocol", "refit", "tuning", la.report(), "gate", reason,
                "buffer", buffer.size(), "held_out", heldOut.size(), "blend_weight", o.blendWeight()));
        return new Outcome(candidate, before, after, accepted, reason, train.size(), heldOut.size(), (System.nanoTime() - start) / 1e9);
    }

    private static HeldOut heldOut(PriorTuning.Validation v, PriorPrecision prior, LinearisedPredictive link) {
        Calibration c = new Calibration();
        for (int n = 0; n < v.labels().length; n++) {
            c.add(link.probabilities(v.mu()[n], v.jacobians().covariance(n, prior, LaplacePosterior.ALL), v.ids()[n]), v.labels()[n]);
        }
        return HeldOut.of(c.metrics());
    }
}
