package org.laplacelora.model.laplace.curvature;

import java.util.Locale;

/**
 * How a LoRA matrix shared over token positions gets its Kronecker factors (reference §2.3). For
 * example n with real positions t, activation a_{n,t} and output gradient g_{n,t}^(c) of Fisher
 * direction c. In every convention G is a sum over examples and A a mean, so G ⊗ A carries exactly
 * one factor of the data-set size N. The LM head acts on the last position only, so its factors are
 * the same in all four.
 */
public enum CurvatureConvention {
    /**
     * The paper's code (ASDL flattening batch and positions): A = (1/N) Σ_{n,t} a aᵀ over every position
     * including left padding, G = Σ_{n,t,c} g gᵀ. About T times K-FAC-expand: over-counts curvature.
     */
    PAPER,
    /** K-FAC-expand: A = (1/Σ_n T_n) Σ_{n,t} a aᵀ over real positions, G = Σ_{n,t,c} g gᵀ. */
    EXPAND,
    /** K-FAC-reduce: A = (1/N) Σ_n ā ā ᵀ, ā = mean_t a; G = Σ_{n,c} ĝ ĝᵀ, ĝ = Σ_t g. */
    REDUCE,
    /** Last token only: A = (1/N) Σ_n a_{n,T} a_{n,T}ᵀ, G = Σ_{n,c} g_{n,T} g_{n,T}ᵀ. */
    LAST;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static CurvatureConvention parse(String s) {
        return valueOf(s.trim().toUpperCase(Locale.ROOT));
    }
}
