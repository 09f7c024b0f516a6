package org.laplacelora.model.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.ejml.data.DMatrixRMaj;
import org.junit.jupiter.api.Test;

class LinalgTest {
    /** A random symmetric matrix with eigenvalues of both signs. */
    private static double[] symmetric(int n, long seed) {
        Random r = new Random(seed);
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                a[i * n + j] = a[j * n + i] = r.nextGaussian();
            }
        }
        return a;
    }

    /** A v = λ v for every pair, eigenvalues descending, vectors orthonormal. */
    private static void assertEigenpairs(double[] a, int n, Linalg.Eigen e) {
        for (int j = 0; j < n; j++) {
            if (j > 0) {
                assertThat(e.values()[j]).isLessThanOrEqualTo(e.values()[j - 1]);
            }
            double norm = 0;
            for (int i = 0; i < n; i++) {
                double av = 0;
                for (int k = 0; k < n; k++) {
                    av += a[i * n + k] * e.vectors()[k * n + j];
                }
                assertThat(av).isCloseTo(e.values()[j] * e.vectors()[i * n + j], within(1e-9));
                norm += e.vectors()[i * n + j] * e.vectors()[i * n + j];
            }
            assertThat(norm).isCloseTo(1, within(1e-9));
        }
    }

    @Test
    void symmetricEigenpairsSatisfyTheirDefinition() {
        double[] a = symmetric(12, 1);
        assertEigenpairs(a, 12, Linalg.symmetricEigen(a, 12));
    }

    /** The fallback for a symmetric QR iteration that does not converge: the same pairs, signs of eigenvalues kept. */
    @Test
    void theSvdFallbackGivesTheSameEigenpairs() {
        double[] a = symmetric(12, 2);
        Linalg.Eigen bySvd = Linalg.bySvd(new DMatrixRMaj(12, 12, true, a), 12, 1);
        assertEigenpairs(a, 12, bySvd);
        assertThat(bySvd.values()).containsExactly(Linalg.symmetricEigen(a, 12).values(), within(1e-9));
        assertThat(bySvd.values()[11]).isNegative();
    }

    @Test
    void aNonFiniteEntryIsNamed() {
        double[] a = symmetric(3, 3);
        a[4] = Double.NaN;
        assertThatThrownBy(() -> Linalg.symmetricEigen(a, 3)).hasMessageContaining("non-finite entry (NaN at 1, 1)");
    }
}
