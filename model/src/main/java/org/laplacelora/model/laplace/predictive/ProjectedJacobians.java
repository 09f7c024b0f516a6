package org.laplacelora.model.laplace.predictive;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import java.util.function.Predicate;
import org.laplacelora.model.laplace.curvature.LoraBlock;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.posterior.PosteriorBlock;
import org.laplacelora.model.laplace.posterior.PriorPrecision;

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

    private ProjectedJacobians(int examples, int directions, List<PosteriorBlock> blocks, double[][] rotated, double[][] grams) {
        this.examples = examples;
        this.directions = directions;
        this.blocks = blocks;
        this.rotated = rotated;
        this.grams = grams;
    }

    /** Projects a batch's Jacobians onto a posterior's eigenbases (λ- and τ-independent). */
    public static ProjectedJacobians of(LaplacePosterior posterior, JacobianBatch jacobians) {
        List<PosteriorBlock> blocks = posterior.blocks();
        int n = jacobians.size();
        int k = -1;
        double[][] rotated = new double[blocks.size()][];
        double[][] grams = new double[blocks.size()][];
        for (int b = 0; b < blocks.size(); b++) {
            PosteriorBlock block = blocks.get(b);
            NDArray j = jacobians.blocks().get(block.block().name());
            if (j == null) {
                // a head-only batch (last-layer Laplace) carries no Jacobians for the other blocks
                continue;
            }
            NDManager m = j.getManager();
            k = (int) j.getShape().get(1);
            try (NDArray qg = block.qg(m); NDArray qa = block.qa(m);
                 NDArray jt = qg.transpose().matMul(j).matMul(qa);                          // [B, K, kG, kA]
                 NDArray flat = j.reshape(n, k, -1);
                 NDArray gram = flat.matMul(flat.swapAxes(1, 2))) {                          // [B, K, K]
                rotated[b] = jt.toDoubleArray();
                grams[b] = gram.toDoubleArray();
            }
        }
        if (k < 0) {
            throw new IllegalArgumentException("the Jacobians cover none of the posterior's blocks");
        }
        for (int b = 0; b < blocks.size(); b++) {
            if (rotated[b] == null) {
                rotated[b] = new double[n * k * blocks.get(b).keptPairs()];
                grams[b] = new double[n * k * k];
            }
        }
        return new ProjectedJacobians(n, k, blocks, rotated, grams);
    }

    /** The examples of several projections onto the same posterior, in order, copied once. */
    public static ProjectedJacobians concat(List<ProjectedJacobians> parts) {
        ProjectedJacobians first = parts.get(0);
        int nBlocks = first.blocks.size();
        int examples = 0;
        int[] rotatedLength = new int[nBlocks];
        int[] gramLength = new int[nBlocks];
        for (ProjectedJacobians p : parts) {
            if (p.blocks != first.blocks || p.directions != first.directions) {
                throw new IllegalArgumentException("projections of different posteriors");
            }
            examples += p.examples;
            for (int b = 0; b < nBlocks; b++) {
                rotatedLength[b] += p.rotated[b].length;
                gramLength[b] += p.grams[b].length;
            }
        }
        double[][] rotated = new double[nBlocks][];
        double[][] grams = new double[nBlocks][];
        for (int b = 0; b < nBlocks; b++) {
            rotated[b] = new double[rotatedLength[b]];
            grams[b] = new double[gramLength[b]];
            int r = 0;
            int g = 0;
            for (ProjectedJacobians p : parts) {
                System.arraycopy(p.rotated[b], 0, rotated[b], r, p.rotated[b].length);
                System.arraycopy(p.grams[b], 0, grams[b], g, p.grams[b].length);
                r += p.rotated[b].length;
                g += p.grams[b].length;
            }
        }
        return new ProjectedJacobians(examples, first.directions, first.blocks, rotated, grams);
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
    public double[] covariance(int n, PriorPrecision prior, Predicate<LoraBlock> include) {
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
}
