package org.laplacelora.model.laplace.predictive;

import java.util.Locale;

/** How E[softmax(z)], z ~ N(μ, S), is computed. All work on the C − 1 logit differences, so they use the full covariance. */
public enum Link {
    /** Monte Carlo with the full covariance, seeded per question (the same question always gets the same answer). */
    MC,
    /** Pairwise mean-field probit on logit differences (Lu, Ie & Sha 2020); exact σ(m/√(1+πv/8)) for C = 2. */
    PROBIT,
    /** C = 2 only: the one-dimensional expectation E[σ(t)], t ~ N(m, v), by quadrature to ~1e-13. */
    BINARY,
    /**
     * BINARY for two classes, MC for more: Monte Carlo noise would flip the argmax of near-50/50 two-class
     * predictions, so the same accuracy as MAP would not even hold by construction.
     */
    AUTO;

    /** The link used for {@code classes} classes (AUTO resolved). */
    public Link forClasses(int classes) {
        return this == AUTO ? (classes == 2 ? BINARY : MC) : this;
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Link parse(String s) {
        return valueOf(s.trim().toUpperCase(Locale.ROOT));
    }
}
