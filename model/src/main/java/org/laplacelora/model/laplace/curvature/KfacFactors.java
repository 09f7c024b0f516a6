package org.laplacelora.model.laplace.curvature;

/**
 * The two Kronecker factors of one LoRA matrix under one convention: G (output-gradient side, a sum
 * over examples) and A (activation side, accumulated as a sum and divided by {@code activationCount}).
 */
public final class KfacFactors {
    private final LoraBlock block;
    private final KronFactor g;
    private final KronFactor a;
    private double activationCount;

    KfacFactors(LoraBlock block, int sketchRank) {
        this.block = block;
        this.g = KronFactor.create(block.gDim(), sketchRank);
        this.a = KronFactor.create(block.aDim(), sketchRank);
    }

    public LoraBlock block() {
        return block;
    }

    KronFactor g() {
        return g;
    }

    KronFactor a() {
        return a;
    }

    void countActivations(double n) {
        activationCount += n;
    }

    /** The divisor of the activation factor: N, or Σ_n T_n for K-FAC-expand. */
    public double activationCount() {
        return activationCount;
    }

    /** Adds the factors of disjoint data (same block, convention and rank). */
    public void merge(KfacFactors other) {
        g.merge(other.g);
        a.merge(other.a);
        activationCount += other.activationCount;
    }

    /** G's eigenpairs (the sum over examples). */
    public FactorEigen gEigen() {
        return g.eigen();
    }

    /** A's eigenpairs, normalised by the activation count. */
    public FactorEigen aEigen() {
        return a.eigen().scaled(activationCount > 0 ? 1 / activationCount : 0);
    }
}
