package org.laplacelora.model.laplace.posterior;

import java.util.Map;
import java.util.TreeMap;

/**
 * The posterior's hyperparameters: prior precision λ (one scalar, optionally overridden per module)
 * and the curvature scale τ (precision = τ·H + λ·I; τ = 1 is plain Laplace; τ = 0 drops the curvature and
 * leaves the prior alone, Σ = I/λ: the ablation that shows what the curvature adds over an isotropic Gaussian).
 * λ is the precision of the summed-loss convention (λ_sum = N·λ_mean).
 */
public record PriorPrecision(double lambda, Map<String, Double> perModule, double tau) {
    public PriorPrecision {
        if (!(lambda > 0) || !(tau >= 0)) {
            throw new IllegalArgumentException("prior precision must be positive and curvature scale not negative, got λ=" + lambda
                    + ", τ=" + tau);
        }
        perModule = Map.copyOf(perModule == null ? Map.of() : perModule);
    }

    public static PriorPrecision of(double lambda) {
        return new PriorPrecision(lambda, Map.of(), 1);
    }

    /** The prior alone (τ = 0): an isotropic Gaussian N(θ_MAP, I/λ) around the adapter, no curvature. */
    public static PriorPrecision priorOnly(double lambda) {
        return new PriorPrecision(lambda, Map.of(), 0);
    }

    public double lambda(String module) {
        return perModule.getOrDefault(module, lambda);
    }

    public PriorPrecision withLambda(double l) {
        return new PriorPrecision(l, perModule, tau);
    }

    public PriorPrecision withModule(String module, double l) {
        Map<String, Double> m = new TreeMap<>(perModule);
        m.put(module, l);
        return new PriorPrecision(lambda, m, tau);
    }
}
