package org.laplacelora.model.laplace;

import java.util.List;

/**
 * Per-example Jacobians of the C − 1 answer-logit differences, projected onto every block's factor
 * eigenbases: J̃ = Q_Gᵀ J Q_A (kG × kA) and the Gram ⟨J_k, J_k'⟩ of the raw block. Neither depends on λ
 * or τ, so a prior sweep (Algorithm 3) costs only elementwise work on these.
 *
 * <p>For block b with eigenvalues γ, α: S_b[k, k'] = (1/λ)⟨J_k, J_k'⟩ + Σ_ij J̃_k J̃_k' (1/(τγ_iα_j + λ) − 1/λ):
 * directions outside the kept eigenvectors (zero curvature) keep the prior variance 1/λ.
 */
public final class ProjectedJacobians {
    private final int examples;
    private final int directions;
    private final List<PosteriorBlock> blocks;
    private final double[][] rotated; // per block: [n][K][kG·kA]
    private final double[][] grams;   // per block: [n][K][K]

    ProjectedJacobians(int examples, int directions, List<PosteriorBlock> blocks, double[][] rotated, double[][] grams) {
        this.examples = examples;
        this.directions = directions;
        this.blocks = blocks;
        this.rotated = rotated;
        this.grams = grams;
    }

    public int examples() {
        return examples;
    }

    /** K = C − 1. */
    public int directions() {
        return directions;
    }

    /**
     * Covariance of the logit differences z_k − z_{C−1} of example n, K × K row-major, over the blocks
     * {@code include} accepts (all of them for Laplace-LoRA, the head's for last-layer Laplace).
     */
    public double[] covariance(int n, PriorPrecision prior, java.util.function.Predicate<LoraBlock> include) {
        int k = directions;
        double[] s = new double[k * k];
        for (int b = 0; b < blocks.size(); b++) {
            PosteriorBlock block = blocks.get(b);
            if (!include.test(block.block())) {
                continue;
            }
            double lambda = prior.lambda(block.block().module());
            double[] w = block.weights(lambda, prior.tau());
            int kb = w.length;
            double[] jt = rotated[b];
            double[] gram = grams[b];
            for (int i = 0; i < k; i++) {
                int ri = (n * k + i) * kb;
                for (int j = i; j < k; j++) {
                    int rj = (n * k + j) * kb;
                    double v = gram[(n * k + i) * k + j] / lambda;
                    for (int e = 0; e < kb; e++) {
                        v += jt[ri + e] * jt[rj + e] * w[e];
                    }
                    s[i * k + j] += v;
                    if (j != i) {
                        s[j * k + i] += v;
                    }
                }
            }
        }
        return s;
    }

    /** The examples' covariances concatenated with those of {@code other} (same posterior). */
    public ProjectedJacobians concat(ProjectedJacobians other) {
        if (other.blocks != blocks || other.directions != directions) {
            throw new IllegalArgumentException("projections of different posteriors");
        }
        double[][] r = new double[blocks.size()][];
        double[][] g = new double[blocks.size()][];
        for (int b = 0; b < blocks.size(); b++) {
            r[b] = concat(rotated[b], other.rotated[b]);
            g[b] = concat(grams[b], other.grams[b]);
        }
        return new ProjectedJacobians(examples + other.examples, directions, blocks, r, g);
    }

    private static double[] concat(double[] a, double[] b) {
        double[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
