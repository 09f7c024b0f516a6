package org.laplacelora.model.laplace.predictive;

import java.util.Locale;

/** How E[softmax(z)], z ~ N(μ, S), is computed. All work on the C − 1 logit differences, so they use the full covariance. */
public enum Link {
    /** Monte Carlo with the full covariance, seeded per question (the same question always gets the same answer). */
    MC,
    /** Pairwise mean-field probit on logit differences (Lu, Ie & Sha 2020); exact σ(m/√(1+πv/8)) for C = 2. */
    PROBIT,
    /** C = 2 only: the one-dimensional expectation E[σ(t)], t ~ N(m, v), by quadrature to ~1e-13. */
    BINARY;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Link parse(String s) {
        return valueOf(s.trim().toUpperCase(Locale.ROOT));
    }
}
