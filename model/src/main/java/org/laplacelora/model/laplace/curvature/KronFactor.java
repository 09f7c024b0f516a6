package org.laplacelora.model.laplace.curvature;

/**
 * One side of a Kronecker-factored curvature block: Σ x xᵀ over the vectors fed in (activations, or
 * output gradients), kept exactly ({@link ExactFactor}) or as a rank-k sketch ({@link LowRankSketch}).
 * Both merge: the factor of two disjoint data sets is the merge of their factors.
 */
public sealed interface KronFactor permits ExactFactor, LowRankSketch {
    int dim();

    /** Adds Σ_i x_i x_iᵀ for the {@code rows} vectors stored row-major in {@code vectors} (rows × dim). */
    void add(double[] vectors, int rows);

    /** Adds Q diag(values) Qᵀ of a factor in eigen form (another factor's, or a saved posterior's). */
    void add(FactorEigen factor);

    /** Adds the other factor (of disjoint data) to this one. */
    default void merge(KronFactor other) {
        add(other.eigen());
    }

    /** Multiplies the factor by c ≥ 0 (the 1/N normalisation of activation factors). */
    void scale(double c);

    FactorEigen eigen();

    /** A new factor of the same kind: exact when the side is at most {@code rank}, else a rank-{@code rank} sketch. */
    static KronFactor create(int dim, int rank) {
        return dim <= rank ? new ExactFactor(dim) : new LowRankSketch(dim, rank);
    }
}
