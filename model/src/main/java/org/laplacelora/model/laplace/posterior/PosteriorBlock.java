package org.laplacelora.model.laplace.posterior;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.laplacelora.model.laplace.curvature.FactorEigen;
import org.laplacelora.model.laplace.curvature.LoraBlock;

/**
 * One LoRA matrix's posterior precision τ·(G ⊗ A) + λ·I, kept as the eigenpairs of G and A. Kept
 * eigenvectors may be fewer than the side (low-rank factors); the rest of the space has curvature 0.
 */
public final class PosteriorBlock {
    private final LoraBlock block;
    private final FactorEigen g;
    private final FactorEigen a;
    private double cachedLambda = Double.NaN;
    private double cachedTau = Double.NaN;
    private double[] cachedWeights;

    PosteriorBlock(LoraBlock block, FactorEigen g, FactorEigen a) {
        if (g.dim() != block.gDim() || a.dim() != block.aDim()) {
            throw new IllegalArgumentException(block.name() + ": factor sides " + g.dim() + ", " + a.dim()
                    + " do not fit a " + block.gDim() + " × " + block.aDim() + " matrix");
        }
        this.block = block;
        this.g = g;
        this.a = a;
    }

    public LoraBlock block() {
        return block;
    }

    public FactorEigen g() {
        return g;
    }

    public FactorEigen a() {
        return a;
    }

    /** Number of kept eigenvalue products γ_i α_j. */
    public int keptPairs() {
        return g.rank() * a.rank();
    }

    /** 1/(τγ_iα_j + λ) − 1/λ for every kept pair, row-major over (i, j). */
    public synchronized double[] weights(double lambda, double tau) {
        if (lambda != cachedLambda || tau != cachedTau) {
            double[] w = new double[keptPairs()];
            int ka = a.rank();
            for (int i = 0; i < g.rank(); i++) {
                for (int j = 0; j < ka; j++) {
                    w[i * ka + j] = 1 / (tau * g.values()[i] * a.values()[j] + lambda) - 1 / lambda;
                }
            }
            cachedWeights = w;
            cachedLambda = lambda;
            cachedTau = tau;
        }
        return cachedWeights;
    }

    /** Σ_ij log(1 + τγ_iα_j/λ) = log det(precision) − P·log λ over this block. */
    public double logDetRatio(double lambda, double tau) {
        double s = 0;
        for (double gi : g.values()) {
            for (double aj : a.values()) {
                s += Math.log1p(tau * gi * aj / lambda);
            }
        }
        return s;
    }

    /** Σ_ij h/(h + λ), h = τγ_iα_j: the block's effective number of parameters. */
    public double effectiveParameters(double lambda, double tau) {
        double s = 0;
        for (double gi : g.values()) {
            for (double aj : a.values()) {
                double h = tau * gi * aj;
                s += h / (h + lambda);
            }
        }
        return s;
    }

    /** Diagonal of the block's covariance Σ, in the weight's row-major order (gDim·aDim values). */
    double[] covarianceDiagonal(double lambda, double tau) {
        double[] w = weights(lambda, tau);
        int kg = g.rank();
        int ka = a.rank();
        double[] out = new double[block.size()];
        for (int p = 0; p < block.gDim(); p++) {
            for (int q = 0; q < block.aDim(); q++) {
                double v = 1 / lambda;
                for (int i = 0; i < kg; i++) {
                    double gi = g.vectors()[p * kg + i];
                    for (int j = 0; j < ka; j++) {
                        double aj = a.vectors()[q * ka + j];
                        v += gi * gi * aj * aj * w[i * ka + j];
                    }
                }
                out[p * block.aDim() + q] = v;
            }
        }
        return out;
    }

    /** Q_G as a float64 array [gDim, kG] on the manager's device. */
    public NDArray qg(NDManager m) {
        return m.create(g.vectors(), new Shape(g.dim(), g.rank()));
    }

    /** Q_A as a float64 array [aDim, kA]. */
    public NDArray qa(NDManager m) {
        return m.create(a.vectors(), new Shape(a.dim(), a.rank()));
    }
}
