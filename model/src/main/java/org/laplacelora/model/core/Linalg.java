package org.laplacelora.model.core;

import java.util.Arrays;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;

/** Float64 linear algebra on row-major arrays (EJML underneath): DJL 0.36 has no eigh, SVD or Cholesky. */
public final class Linalg {
    private Linalg() {}

    /** Eigenpairs of a symmetric n × n matrix, eigenvalues descending; vectors row-major n × n, column j = pair j. */
    public record Eigen(double[] values, double[] vectors) {}

    public static Eigen symmetricEigen(double[] a, int n) {
        DMatrixRMaj m = new DMatrixRMaj(n, n);
        double largest = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double v = 0.5 * (a[i * n + j] + a[j * n + i]); // exact symmetry for the symmetric solver
                if (!Double.isFinite(v)) {
                    throw new ArithmeticException("symmetric eigendecomposition of a " + n + " × " + n + " matrix with a non-finite "
                            + "entry (" + v + " at " + i + ", " + j + ")");
                }
                m.set(i, j, v);
                largest = Math.max(largest, Math.abs(v));
            }
        }
        EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_DDRM.eig(n, true, true);
        if (!eig.decompose(m.copy())) {
            // EJML's symmetric QR iteration can stop short of convergence (seen on a 288 × 288 Gram matrix of a sketch);
            // the SVD of a symmetric matrix has its eigenvectors, and each eigenvalue is vᵀ A v.
            return bySvd(m, n, largest);
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (x, y) -> Double.compare(eig.getEigenvalue(y).real, eig.getEigenvalue(x).real));
        double[] values = new double[n];
        double[] vectors = new double[n * n];
        for (int j = 0; j < n; j++) {
            values[j] = eig.getEigenvalue(order[j]).real;
            DMatrixRMaj v = eig.getEigenVector(order[j]);
            for (int i = 0; i < n; i++) {
                vectors[i * n + j] = v.get(i, 0);
            }
        }
        return new Eigen(values, vectors);
    }

    static Eigen bySvd(DMatrixRMaj m, int n, double largest) {
        org.ejml.interfaces.decomposition.SingularValueDecomposition_F64<DMatrixRMaj> svd =
                DecompositionFactory_DDRM.svd(n, n, true, false, false);
        if (!svd.decompose(m.copy())) {
            throw new ArithmeticException("symmetric eigendecomposition of a " + n + " × " + n + " matrix failed (largest entry "
                    + largest + "), and so did its SVD");
        }
        DMatrixRMaj u = svd.getU(null, false);
        double[] values = new double[n];
        for (int j = 0; j < n; j++) {
            double q = 0;
            for (int i = 0; i < n; i++) {
                double av = 0;
                for (int k = 0; k < n; k++) {
                    av += m.get(i, k) * u.get(k, j);
                }
                q += u.get(i, j) * av;
            }
            values[j] = q;
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (x, y) -> Double.compare(values[y], values[x]));
        double[] sorted = new double[n];
        double[] vectors = new double[n * n];
        for (int j = 0; j < n; j++) {
            sorted[j] = values[order[j]];
            for (int i = 0; i < n; i++) {
                vectors[i * n + j] = u.get(i, order[j]);
            }
        }
        return new Eigen(sorted, vectors);
    }

    /**
     * L with L Lᵀ = S for a symmetric positive semi-definite n × n matrix S (row-major): L = Q √max(W, 0) from
     * S = Q W Qᵀ, so rounding that makes S slightly indefinite costs nothing.
     */
    public static double[] psdSquareRoot(double[] s, int n) {
        Eigen e = symmetricEigen(s, n);
        double[] root = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                root[i * n + j] = e.vectors()[i * n + j] * Math.sqrt(Math.max(e.values()[j], 0));
            }
        }
        return root;
    }

    /** Y Yᵀ of a row-major rows × cols matrix: rows × rows. */
    public static double[] gramOfRows(double[] y, int rows, int cols) {
        DMatrixRMaj m = DMatrixRMaj.wrap(rows, cols, y);
        DMatrixRMaj out = new DMatrixRMaj(rows, rows);
        CommonOps_DDRM.multTransB(m, m, out);
        return out.data;
    }

    /** YᵀY of a row-major rows × cols matrix: cols × cols. */
    public static double[] gramOfColumns(double[] y, int rows, int cols) {
        DMatrixRMaj m = DMatrixRMaj.wrap(rows, cols, y);
        DMatrixRMaj out = new DMatrixRMaj(cols, cols);
        CommonOps_DDRM.multTransA(m, m, out);
        return out.data;
    }
}
