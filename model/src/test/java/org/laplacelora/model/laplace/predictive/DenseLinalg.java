package org.laplacelora.model.laplace.predictive;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.CholeskyDecomposition_F64;

/** Dense inverses for the oracles the tests compare the factored forms with (main code never inverts). */
final class DenseLinalg {
    private DenseLinalg() {}

    /** Inverse of a symmetric positive-definite matrix (n × n, row-major). */
    static double[] inverseSpd(double[] a, int n) {
        DMatrixRMaj m = new DMatrixRMaj(n, n, true, a);
        DMatrixRMaj inv = new DMatrixRMaj(n, n);
        if (!CommonOps_DDRM.invertSPD(m, inv)) {
            throw new ArithmeticException("matrix is not positive definite");
        }
        return inv.data;
    }

    /** Lower-triangular L with L Lᵀ = A, A symmetric positive definite (n × n, row-major). */
    static double[] cholesky(double[] a, int n) {
        CholeskyDecomposition_F64<DMatrixRMaj> chol = DecompositionFactory_DDRM.chol(n, true);
        if (!chol.decompose(new DMatrixRMaj(n, n, true, a))) {
            throw new ArithmeticException("matrix is not positive definite");
        }
        return chol.getT(null).data;
    }
}
