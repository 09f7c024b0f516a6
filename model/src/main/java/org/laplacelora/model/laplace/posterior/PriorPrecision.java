package org.laplacelora.model.laplace.posterior;

import java.util.Map;
import java.util.TreeMap;

/**
 * The posterior's hyperparameters: prior precision λ (one scalar, optionally overridden per module)
 * and the curvature scale τ (precision = τ·H + λ·I; τ = 1 is plain Laplace). λ is the precision of the
 * summed-loss convention (λ_sum = N·λ_mean).
 */
public record PriorPrecision(double lambda, Map<String, Double> perModule, double tau) {
    public PriorPrecision {
        if (!(lambda > 0) || !(tau > 0)) {
            throw new IllegalArgumentException("prior precision and curvature scale must be positive, got λ=" + lambda + ", τ=" + tau);
        }
        perModule = Map.copyOf(perModule == null ? Map.of() : perModule);
    }

    public static PriorPrecision of(double lambda) {
        return new PriorPrecision(lambda, Map.of(), 1);
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
