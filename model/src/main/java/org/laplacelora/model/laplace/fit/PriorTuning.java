package org.laplacelora.model.laplace.fit;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;
import java.util.function.Predicate;
import org.laplacelora.model.core.Categorical;
import org.laplacelora.model.laplace.curvature.LoraBlock;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.posterior.PosteriorBlock;
import org.laplacelora.model.laplace.posterior.PriorPrecision;
import org.laplacelora.model.laplace.posterior.TuningReport;
import org.laplacelora.model.laplace.predictive.LinearisedPredictive;

/**
 * Choosing the posterior's hyperparameters.
 *
 * <ul>
 *   <li>{@link #byEvidence}: the paper's Algorithm 2, Adam on log λ maximising the Laplace evidence of the
 *       training data (no data pass: the evidence is a function of the factor eigenvalues);
 *   <li>{@link #byValidation}: Algorithm 3, λ (and the curvature scale τ) maximising the validation
 *       log-likelihood under the predictive actually used, on Jacobians projected once and cached; a
 *       deterministic grid in log λ refined by golden-section search, with the optimum flagged when it
 *       sits at the edge of the range (the signature of mis-scaled curvature);
 *   <li>{@link #temperature}: the temperature-scaling baseline on the same validation data.
 * </ul>
 */
public final class PriorTuning {
    /** Grid of log10 λ for the validation search. */
    public static final double LOG10_LAMBDA_MIN = -6;
    public static final double LOG10_LAMBDA_MAX = 6;
    private static final double GRID_STEP = 0.25;
    /** The temperature-scaling baseline's range, [0.05, 5], as it has always been fitted. */
    public static final double TEMPERATURE_CAP = 5;
    /**
     * The uncapped fit's range ends here. A model without signal has no finite NLL-optimal temperature (the
     * NLL falls towards ln C as T grows), so an "uncapped" search still has an end, and reaching it is flagged.
     */
    public static final double UNCAPPED_TEMPERATURE_END = 1e4;

    private PriorTuning() {}

    /** Result of a search, with the numbers that justify it. */
    public record Tuned(PriorPrecision prior, double objective, boolean atBoundary, TuningReport report) {}

    /** A fitted temperature, and whether it sits on the upper end of its range. */
    public record Temperature(double value, double cap, boolean atCap) {}

    // ------------------------------------------------------------------ Algorithm 2

    /**
     * Adam on ρ = log λ (lr 0.1, from λ = 1) maximising log Z, until the gradient vanishes (|d log Z/dρ| < 1e-8
     * relative) or {@code steps} run out. Per module when {@code perModule}: log Z separates over modules
     * given the fixed data term, so each module's λ is a one-dimensional search of its own.
     */
    public static Tuned byEvidence(LaplacePosterior posterior, Predicate<LoraBlock> include, boolean perModule, double tau,
                                   int steps) {
        PriorPrecision start = new PriorPrecision(1, Map.of(), tau);
        if (!perModule) {
            double lambda = adam(l -> posterior.logEvidenceGradient(start.withLambda(l), include), steps);
            PriorPrecision p = start.withLambda(lambda);
            double logEvidence = posterior.logEvidence(p, include);
            double effective = posterior.effectiveParameters(p, include);
            return new Tuned(p, logEvidence, false, new TuningReport.Evidence(lambda, null, logEvidence, effective,
                    effective / posterior.thetaSquared(include)));
        }
        PriorPrecision p = start;
        Map<String, Double> chosen = new LinkedHashMap<>();
        for (String module : modules(posterior, include)) {
            Predicate<LoraBlock> only = b -> include.test(b) && b.module().equals(module);
            double lambda = adam(l -> posterior.logEvidenceGradient(start.withLambda(l), only), steps);
            p = p.withModule(module, lambda);
            chosen.put(module, lambda);
        }
        double logEvidence = posterior.logEvidence(p, include);
        return new Tuned(p, logEvidence, false, new TuningReport.Evidence(null, chosen, logEvidence, null, null));
    }

    private static List<String> modules(LaplacePosterior posterior, Predicate<LoraBlock> include) {
        List<String> out = new ArrayList<>();
        for (PosteriorBlock b : posterior.blocks()) {
            if (include.test(b.block()) && !out.contains(b.block().module())) {
                out.add(b.block().module());
            }
        }
        return out;
    }

    /** Maximises a function of ρ = log λ given its derivative, with Adam (β 0.9/0.999, lr 0.1). */
    static double adam(DoubleUnaryOperator gradientAtLambda, int steps) {
        double rho = 0;
        double m = 0;
        double v = 0;
        for (int t = 1; t <= steps; t++) {
            double g = gradientAtLambda.applyAsDouble(Math.exp(rho));
            if (Math.abs(g) < 1e-10) {
                break;
            }
            m = 0.9 * m + 0.1 * g;
            v = 0.999 * v + 0.001 * g * g;
            double mHat = m / (1 - Math.pow(0.9, t));
            double vHat = v / (1 - Math.pow(0.999, t));
            rho += 0.1 * mHat / (Math.sqrt(vHat) + 1e-8);
            rho = Math.max(-40, Math.min(40, rho));
        }
        return Math.exp(rho);
    }

    // ------------------------------------------------------------------ Algorithm 3

    /**
     * Grid search over log10 λ ∈ [−6, 6] (step 0.25) × the τ values, refined by golden-section search in
     * log λ around the best grid point; the objective is the validation mean NLL of {@code posterior}'s
     * predictive under {@code link}, over the blocks {@code include} accepts.
     */
    public static Tuned byValidation(ValidationSet val, LaplacePosterior posterior, Predicate<LoraBlock> include,
                                     LinearisedPredictive link, double[] taus) {
        double bestNll = Double.POSITIVE_INFINITY;
        double bestLog = 0;
        double bestTau = 1;
        List<TuningReport.GridPoint> grid = new ArrayList<>();
        for (double tau : taus) {
            for (double lg = LOG10_LAMBDA_MIN; lg <= LOG10_LAMBDA_MAX + 1e-9; lg += GRID_STEP) {
                double nll = val.nll(posterior, new PriorPrecision(Math.pow(10, lg), Map.of(), tau), include, link);
                grid.add(new TuningReport.GridPoint(lg, tau, nll));
                if (nll < bestNll) {
                    bestNll = nll;
                    bestLog = lg;
                    bestTau = tau;
                }
            }
        }
        boolean atBoundary = bestLog <= LOG10_LAMBDA_MIN + 1e-9 || bestLog >= LOG10_LAMBDA_MAX - 1e-9;
        final double tau = bestTau;
        double refined = goldenSection(lg -> val.nll(posterior, new PriorPrecision(Math.pow(10, lg), Map.of(), tau), include, link),
                Math.max(LOG10_LAMBDA_MIN, bestLog - GRID_STEP), Math.min(LOG10_LAMBDA_MAX, bestLog + GRID_STEP), 30);
        PriorPrecision p = new PriorPrecision(Math.pow(10, refined), Map.of(), tau);
        double nll = val.nll(posterior, p, include, link);
        if (nll > bestNll) {
            p = new PriorPrecision(Math.pow(10, bestLog), Map.of(), tau);
            nll = bestNll;
        }
        return new Tuned(p, nll, atBoundary, new TuningReport.Validation(link.link().id(), p.lambda(), p.tau(), nll, atBoundary, grid));
    }

    static double goldenSection(DoubleUnaryOperator f, double lo, double hi, int iterations) {
        double phi = (Math.sqrt(5) - 1) / 2;
        double a = lo;
        double b = hi;
        double c = b - phi * (b - a);
        double d = a + phi * (b - a);
        double fc = f.applyAsDouble(c);
        double fd = f.applyAsDouble(d);
        for (int i = 0; i < iterations; i++) {
            if (fc < fd) {
                b = d;
                d = c;
                fd = fc;
                c = b - phi * (b - a);
                fc = f.applyAsDouble(c);
            } else {
                a = c;
                c = d;
                fc = fd;
                d = a + phi * (b - a);
                fd = f.applyAsDouble(d);
            }
        }
        return (a + b) / 2;
    }

    // ------------------------------------------------------------------ temperature scaling

    /** T in [0.05, 5] minimising the validation NLL of softmax(μ/T) (grid in log T, then golden section). */
    public static double temperature(double[][] mu, int[] labels) {
        return temperature(mu, labels, TEMPERATURE_CAP).value();
    }

    /** T in [0.05, cap] minimising the validation NLL of softmax(μ/T), flagged when it is the cap. */
    public static Temperature temperature(double[][] mu, int[] labels, double cap) {
        DoubleUnaryOperator nll = logT -> {
            double t = Math.exp(logT);
            double s = 0;
            for (int n = 0; n < labels.length; n++) {
                s -= Math.log(Math.max(Categorical.softmax(mu[n], t)[labels[n]], 1e-12));
            }
            return s / labels.length;
        };
        double lo = Math.log(0.05);
        double hi = Math.log(cap);
        int points = (int) Math.ceil(60 * (hi - lo) / (Math.log(TEMPERATURE_CAP) - lo));   // the capped grid's spacing
        double best = lo;
        double bestValue = Double.POSITIVE_INFINITY;
        for (int i = 0; i <= points; i++) {
            double x = lo + (hi - lo) * i / points;
            double v = nll.applyAsDouble(x);
            if (v < bestValue) {
                bestValue = v;
                best = x;
            }
        }
        double step = (hi - lo) / points;
        double t = Math.exp(goldenSection(nll, Math.max(lo, best - step), Math.min(hi, best + step), 40));
        return new Temperature(t, cap, onCap(t, cap));
    }

    /** Whether a fitted temperature is its range's end (the search converges to within a millionth of it). */
    public static boolean onCap(double temperature, double cap) {
        return temperature >= cap * (1 - 1e-6);
    }
}
