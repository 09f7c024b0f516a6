package org.laplacelora.model.laplace.curvature;

import java.util.Arrays;
import org.laplacelora.model.core.Linalg;

/**
 * The paper's Algorithm 1: a rank-k estimate L Lᵀ of a large factor Σ x xᵀ that never forms the
 * dim × dim matrix. Each update takes the top-k left singular directions of [L | X], scaled by their
 * singular values; without truncation [L | X][L | X]ᵀ = L Lᵀ + X Xᵀ, so each step adds the batch's Gram
 * matrix and keeps its best rank-k approximation. Two sketches of disjoint data merge the same way.
 * Everything is float64: the factor's eigenvalues span many orders of magnitude.
 *
 * <p>The directions beyond k are treated as eigenvalue 0 (prior-only in the posterior).
 */
public final class LowRankSketch implements KronFactor {
    private final int dim;
    private final int rank;
    private double[] root = new double[0]; // L, row-major dim × cols
    private int cols;

    public LowRankSketch(int dim, int rank) {
        if (rank <= 0) {
            throw new IllegalArgumentException("sketch rank must be positive");
        }
        this.dim = dim;
        this.rank = rank;
    }

    @Override
    public int dim() {
        return dim;
    }

    public int rank() {
        return rank;
    }

    @Override
    public void add(double[] vectors, int rows) {
        // Y = [L | Xᵀ], dim × (cols + rows)
        int m = cols + rows;
        double[] y = new double[dim * m];
        for (int i = 0; i < dim; i++) {
            System.arraycopy(root, i * cols, y, i * m, cols);
            for (int r = 0; r < rows; r++) {
                y[i * m + cols + r] = vectors[r * dim + i];
            }
        }
        truncate(y, m);
    }

    @Override
    public void add(FactorEigen factor) {
        if (factor.dim() != dim) {
            throw new IllegalArgumentException("cannot merge factors of sides " + dim + " and " + factor.dim());
        }
        int k = factor.rank();
        double[] rows = new double[k * dim]; // rows = (Q diag(√values))ᵀ
        for (int j = 0; j < k; j++) {
            double s = Math.sqrt(factor.values()[j]);
            for (int i = 0; i < dim; i++) {
                rows[j * dim + i] = factor.vectors()[i * k + j] * s;
            }
        }
        add(rows, k);
    }

    @Override
    public void scale(double c) {
        double s = Math.sqrt(c);
        for (int i = 0; i < root.length; i++) {
            root[i] *= s;
        }
    }

    /** L ← top-k of Y (dim × m), via whichever Gram matrix is smaller. */
    private void truncate(double[] y, int m) {
        if (m == 0) {
            return;
        }
        int keep;
        double[] newRoot;
        if (dim <= m) {
            // Y Yᵀ = Q diag(σ²) Qᵀ, L = Q_k diag(σ_k)
            double[] gram = Linalg.gramOfRows(y, dim, m);
            Linalg.Eigen e = Linalg.symmetricEigen(gram, dim);
            keep = positive(e.values(), Math.min(rank, dim));
            newRoot = new double[dim * keep];
            for (int i = 0; i < dim; i++) {
                for (int j = 0; j < keep; j++) {
                    newRoot[i * keep + j] = e.vectors()[i * dim + j] * Math.sqrt(e.values()[j]);
                }
            }
        } else {
            // YᵀY = V diag(σ²) Vᵀ, then Y V_k = U_k diag(σ_k) = L
            double[] gram = Linalg.gramOfColumns(y, dim, m);
            Linalg.Eigen e = Linalg.symmetricEigen(gram, m);
            keep = positive(e.values(), Math.min(rank, m));
            newRoot = new double[dim * keep];
            for (int i = 0; i < dim; i++) {
                for (int j = 0; j < keep; j++) {
                    double s = 0;
                    for (int t = 0; t < m; t++) {
                        s += y[i * m + t] * e.vectors()[t * m + j];
                    }
                    newRoot[i * keep + j] = s;
                }
            }
        }
        root = newRoot;
        cols = keep;
    }

    /** How many of the leading (descending) eigenvalues, at most {@code max}, are meaningfully positive. */
    private static int positive(double[] descending, int max) {
        double top = descending.length == 0 ? 0 : Math.max(descending[0], 0);
        int k = 0;
        while (k < max && descending[k] > top * 1e-14 && descending[k] > 0) {
            k++;
        }
        return k;
    }

    @Override
    public FactorEigen eigen() {
        if (cols == 0) {
            return new FactorEigen(dim, new double[0], new double[0]);
        }
        // L = U diag(σ) Wᵀ: eigenpairs of L Lᵀ from the small Gram LᵀL = W diag(σ²) Wᵀ, U = L W / σ
        double[] gram = Linalg.gramOfColumns(root, dim, cols);
        Linalg.Eigen e = Linalg.symmetricEigen(gram, cols);
        int k = positive(e.values(), cols);
        double[] q = new double[dim * k];
        for (int j = 0; j < k; j++) {
            double sigma = Math.sqrt(e.values()[j]);
            for (int i = 0; i < dim; i++) {
                double s = 0;
                for (int t = 0; t < cols; t++) {
                    s += root[i * cols + t] * e.vectors()[t * cols + j];
                }
                q[i * k + j] = s / sigma;
            }
        }
        return new FactorEigen(dim, Arrays.copyOf(e.values(), k), q);
    }
}
