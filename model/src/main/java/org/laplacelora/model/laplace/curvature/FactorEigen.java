package org.laplacelora.model.laplace.curvature;

/**
 * A symmetric positive semi-definite Kronecker factor F (dim × dim) as F = Q diag(values) Qᵀ with
 * orthonormal columns Q (dim × m, m ≤ dim). When m < dim, F is zero on the complement of Q's span.
 *
 * @param vectors Q in row-major order: Q[i][j] = vectors[i·m + j]
 */
public record FactorEigen(int dim, double[] values, double[] vectors) {
    public FactorEigen {
        if (vectors.length != dim * values.length) {
            throw new IllegalArgumentException("eigenvectors hold " + vectors.length + " values, expected " + dim + " × " + values.length);
        }
    }

    /** Number of (possibly zero) eigenpairs held. */
    public int rank() {
        return values.length;
    }

    public double trace() {
        double t = 0;
        for (double v : values) {
            t += v;
        }
        return t;
    }

    /** c·F: the same eigenvectors, the eigenvalues times c. */
    public FactorEigen scaled(double c) {
        double[] v = values.clone();
        for (int i = 0; i < v.length; i++) {
            v[i] *= c;
        }
        return new FactorEigen(dim, v, vectors);
    }

    /** Q diag(values) Qᵀ, row-major dim × dim. */
    public double[] dense() {
        int m = values.length;
        double[] out = new double[dim * dim];
        for (int i = 0; i < dim; i++) {
            for (int j = 0; j < dim; j++) {
                double s = 0;
                for (int k = 0; k < m; k++) {
                    s += vectors[i * m + k] * values[k] * vectors[j * m + k];
                }
                out[i * dim + j] = s;
            }
        }
        return out;
    }
}
