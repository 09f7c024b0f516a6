package org.laplacelora.model.laplace.predictive;

import org.laplacelora.model.core.Linalg;
import org.laplacelora.model.laplace.curvature.FactorEigen;

/**
 * The paper's memory-efficient form of one block's posterior (its Eq. 32; {@code calc_M} and
 * {@code variance} of bayesian_lora), built from factor roots instead of eigenbases: with
 * τG = U Uᵀ, A = R Rᵀ (U gDim × kG, R aDim × kA) and V = U ⊗ R,
 *
 * <pre>
 *   Σ = s²I − s⁴ V M⁻¹ Vᵀ,   M = I + s² (UᵀU) ⊗ (RᵀR)   (kG·kA square),   s² = 1/λ
 *   J Σ J'ᵀ = s² ⟨J, J'⟩ − s⁴ vec(Uᵀ J R)ᵀ M⁻¹ vec(Uᵀ J' R),   log det(precision) − P log λ = log det M
 * </pre>
 *
 * No eigendecomposition: cost O(C·gDim·aDim·k + (kG·kA)³) per block.
 */
final class WoodburyBlock {
    private final int gDim;
    private final int aDim;
    private final int kg;
    private final int ka;
    private final double[] u;      // gDim × kg, row-major
    private final double[] r;      // aDim × ka
    private final double lambda;
    private final double[] mInverse;
    private final double logDetM;

    /** @param u a root of τ·G; @param r a root of A (row-major, any columns: orthogonality is not needed) */
    WoodburyBlock(int gDim, int kg, double[] u, int aDim, int ka, double[] r, double lambda) {
        this.gDim = gDim;
        this.aDim = aDim;
        this.kg = kg;
        this.ka = ka;
        this.u = u.clone();
        this.r = r.clone();
        this.lambda = lambda;
        double[] utu = Linalg.gramOfColumns(this.u, gDim, kg);
        double[] rtr = Linalg.gramOfColumns(this.r, aDim, ka);
        int n = kg * ka;
        double[] m = new double[n * n];
        for (int i = 0; i < kg; i++) {
            for (int j = 0; j < ka; j++) {
                for (int p = 0; p < kg; p++) {
                    for (int q = 0; q < ka; q++) {
                        m[(i * ka + j) * n + (p * ka + q)] = utu[i * kg + p] * rtr[j * ka + q] / lambda + (i == p && j == q ? 1 : 0);
                    }
                }
            }
        }
        this.mInverse = DenseLinalg.inverseSpd(m, n);
        Linalg.Eigen e = Linalg.symmetricEigen(m, n);
        double ld = 0;
        for (double v : e.values()) {
            ld += Math.log(v);
        }
        this.logDetM = ld;
    }

    /** Roots from eigenpairs: Q diag(√(scale·values)). */
    static double[] root(FactorEigen e, double scale) {
        int k = e.rank();
        double[] out = new double[e.dim() * k];
        for (int i = 0; i < e.dim(); i++) {
            for (int j = 0; j < k; j++) {
                out[i * k + j] = e.vectors()[i * k + j] * Math.sqrt(scale * e.values()[j]);
            }
        }
        return out;
    }

    /** J Σ J'ᵀ for two gDim × aDim matrices (row-major). */
    double quadraticForm(double[] j, double[] jPrime) {
        double s2 = 1 / lambda;
        double frob = 0;
        for (int i = 0; i < j.length; i++) {
            frob += j[i] * jPrime[i];
        }
        double[] w = project(j);
        double[] wp = project(jPrime);
        int n = kg * ka;
        double quad = 0;
        for (int i = 0; i < n; i++) {
            double row = 0;
            for (int t = 0; t < n; t++) {
                row += mInverse[i * n + t] * wp[t];
            }
            quad += w[i] * row;
        }
        return s2 * frob - s2 * s2 * quad;
    }

    /** vec(Uᵀ J R), kg × ka. */
    private double[] project(double[] j) {
        double[] jr = new double[gDim * ka];
        for (int p = 0; p < gDim; p++) {
            for (int q = 0; q < ka; q++) {
                double s = 0;
                for (int t = 0; t < aDim; t++) {
                    s += j[p * aDim + t] * r[t * ka + q];
                }
                jr[p * ka + q] = s;
            }
        }
        double[] out = new double[kg * ka];
        for (int i = 0; i < kg; i++) {
            for (int q = 0; q < ka; q++) {
                double s = 0;
                for (int p = 0; p < gDim; p++) {
                    s += u[p * kg + i] * jr[p * ka + q];
                }
                out[i * ka + q] = s;
            }
        }
        return out;
    }

    /** log det(precision) − gDim·aDim·log λ = log det M. */
    double logDetRatio() {
        return logDetM;
    }
}
