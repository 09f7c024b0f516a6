package org.laplacelora.model.laplace;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;
import java.util.function.Predicate;

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
    private static final double TEMPERATURE_CAP = 5;

    private PriorTuning() {}

    /** Result of a search, with the numbers that justify it. */
    public record Tuned(PriorPrecision prior, double objective, boolean atBoundary, Map<String, Object> report) {}

    // ------------------------------------------------------------------ Algorithm 2

    /**
     * Adam on ρ = log λ (lr 0.1, from λ = 1) maximising log Z, until the gradient vanishes (|d log Z/dρ| < 1e-8
     * relative) or {@code steps} run out. Per module when {@code perModule}: log Z separates over modules
     * given the fixed data term, so each module's λ is a one-dimensional search of its own.
     */
    public static Tuned byEvidence(LaplacePosterior posterior, Predicate<LoraBlock> include, boolean perModule, double tau,
                                   int steps) {
        PriorPrecision start = new PriorPrecision(1, Map.of(), tau);
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("method", "evidence");
        if (!perModule) {
            double lambda = adam(l -> posterior.logEvidenceGradient(start.withLambda(l), include), steps);
            PriorPrecision p = start.withLambda(lambda);
            report.put("lambda", lambda);
            report.put("log_evidence", posterior.logEvidence(p, include));
            report.put("effective_parameters", posterior.effectiveParameters(p, include));
            report.put("mackay_lambda", posterior.effectiveParameters(p, include) / posterior.thetaSquared(include, p, false));
            return new Tuned(p, posterior.logEvidence(p, include), false, report);
        }
        PriorPrecision p = start;
        Map<String, Double> chosen = new LinkedHashMap<>();
        for (String module : modules(posterior, include)) {
            Predicate<LoraBlock> only = b -> include.test(b) && b.module().equals(module);
            double lambda = adam(l -> posterior.logEvidenceGradient(start.withLambda(l), only), steps);
            p = p.withModule(module, lambda);
            chosen.put(module, lambda);
        }
        report.put("lambda_per_module", chosen);
        report.put("log_evidence", posterior.logEvidence(p, include));
        return new Tuned(p, posterior.logEvidence(p, include), false, report);
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

    /** What the validation search scores: mean NLL of the labels under the given predictive. */
    public record Validation(ProjectedJacobians jacobians, double[][] mu, int[] labels, String[] ids) {}

    /**
     * Grid search over log10 λ ∈ [−6, 6] (step 0.25) × the τ values, refined by golden-section search in
     * log λ around the best grid point; the objective is the validation mean NLL under {@code predictive}.
     */
    public static Tuned byValidation(Validation val, Predicate<LoraBlock> include, LinearisedPredictive predictive,
                                     double[] taus) {
        double bestNll = Double.POSITIVE_INFINITY;
        double bestLog = 0;
        double bestTau = 1;
        List<Map<String, Object>> grid = new ArrayList<>();
        for (double tau : taus) {
            for (double lg = LOG10_LAMBDA_MIN; lg <= LOG10_LAMBDA_MAX + 1e-9; lg += GRID_STEP) {
                double nll = nll(val, include, predictive, new PriorPrecision(Math.pow(10, lg), Map.of(), tau));
                grid.add(Map.of("log10_lambda", lg, "tau", tau, "nll", nll));
                if (nll < bestNll) {
                    bestNll = nll;
                    bestLog = lg;
                    bestTau = tau;
                }
            }
        }
        boolean atBoundary = bestLog <= LOG10_LAMBDA_MIN + 1e-9 || bestLog >= LOG10_LAMBDA_MAX - 1e-9;
        final double tau = bestTau;
        double refined = goldenSection(lg -> nll(val, include, predictive, new PriorPrecision(Math.pow(10, lg), Map.of(), tau)),
                Math.max(LOG10_LAMBDA_MIN, bestLog - GRID_STEP), Math.min(LOG10_LAMBDA_MAX, bestLog + GRID_STEP), 30);
        PriorPrecision p = new PriorPrecision(Math.pow(10, refined), Map.of(), tau);
        double nll = nll(val, include, predictive, p);
        if (nll > bestNll) {
            p = new PriorPrecision(Math.pow(10, bestLog), Map.of(), tau);
            nll = bestNll;
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("method", "validation");
        report.put("link", predictive.link().id());
        report.put("lambda", p.lambda());
        report.put("tau", p.tau());
        report.put("validation_nll", nll);
        report.put("lambda_at_range_boundary", atBoundary);
        report.put("grid", grid);
        return new Tuned(p, nll, atBoundary, report);
    }

    static double nll(Validation val, Predicate<LoraBlock> include, LinearisedPredictive predictive, PriorPrecision p) {
        double s = 0;
        for (int n = 0; n < val.labels().length; n++) {
            double[] sd = val.jacobians().covariance(n, p, include);
            double[] prob = predictive.probabilities(val.mu()[n], sd, val.ids()[n]);
            s -= Math.log(Math.max(prob[val.labels()[n]], 1e-12));
        }
        return s / val.labels().length;
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
        DoubleUnaryOperator nll = logT -> {
            double t = Math.exp(logT);
            double s = 0;
            for (int n = 0; n < labels.length; n++) {
                double[] z = mu[n].clone();
                for (int c = 0; c < z.length; c++) {
                    z[c] /= t;
                }
                s -= Math.log(Math.max(CurvatureEstimator.softmax(z)[labels[n]], 1e-12));
            }
            return s / labels.length;
        };
        double lo = Math.log(0.05);
        double hi = Math.log(TEMPERATURE_CAP);
        double best = lo;
        double bestValue = Double.POSITIVE_INFINITY;
        for (int i = 0; i <= 60; i++) {
            double x = lo + (hi - lo) * i / 60;
            double v = nll.applyAsDouble(x);
            if (v < bestValue) {
                bestValue = v;
                best = x;
            }
        }
        double step = (hi - lo) / 60;
        return Math.exp(goldenSection(nll, Math.max(lo, best - step), Math.min(hi, best + step), 40));
    }
}
