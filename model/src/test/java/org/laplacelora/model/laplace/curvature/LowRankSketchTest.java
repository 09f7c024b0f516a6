package org.laplacelora.model.laplace.curvature;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class LowRankSketchTest {
    private static double[] randomRows(Random r, int rows, int dim, double[] scales) {
        double[] x = new double[rows * dim];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < dim; j++) {
                x[i * dim + j] = r.nextGaussian() * scales[j];
            }
        }
        return x;
    }

    /** Rows spanning only a rank-q subspace of R^dim. */
    private static double[] lowRankRows(Random r, int rows, int dim, int q) {
        double[] basis = randomRows(r, q, dim, ones(dim));
        double[] x = new double[rows * dim];
        for (int i = 0; i < rows; i++) {
            for (int k = 0; k < q; k++) {
                double c = r.nextGaussian();
                for (int j = 0; j < dim; j++) {
                    x[i * dim + j] += c * basis[k * dim + j];
                }
            }
        }
        return x;
    }

    private static double[] ones(int n) {
        double[] o = new double[n];
        java.util.Arrays.fill(o, 1);
        return o;
    }

    private static double maxRelativeDifference(double[] a, double[] b) {
        double err = 0;
        double scale = 0;
        for (int i = 0; i < a.length; i++) {
            err = Math.max(err, Math.abs(a[i] - b[i]));
            scale = Math.max(scale, Math.abs(b[i]));
        }
        return err / scale;
    }

    @Test
    void atFullRankTheSketchIsTheExactFactor() {
        Random r = new Random(1);
        int dim = 24;
        LowRankSketch sketch = new LowRankSketch(dim, dim);
        ExactFactor exact = new ExactFactor(dim);
        for (int batch = 0; batch < 7; batch++) {
            double[] x = randomRows(r, 5, dim, ones(dim));
            sketch.add(x, 5);
            exact.add(x, 5);
        }
        assertThat(maxRelativeDifference(sketch.eigen().dense(), exact.dense())).isLessThan(1e-12);
        sketch.scale(0.25);
        exact.scale(0.25);
        assertThat(maxRelativeDifference(sketch.eigen().dense(), exact.dense())).isLessThan(1e-12);
    }

    @Test
    void sketchesOfDisjointDataMergeToTheSketchOfTheirUnion() {
        Random r = new Random(2);
        int dim = 40;
        int rank = 12;
        // Data of rank 10 ≤ k: no truncation error, so the merge must equal the union and the exact factor.
        double[] d1 = lowRankRows(r, 30, dim, 10);
        LowRankSketch s1 = new LowRankSketch(dim, rank);
        LowRankSketch s2 = new LowRankSketch(dim, rank);
        LowRankSketch union = new LowRankSketch(dim, rank);
        ExactFactor exact = new ExactFactor(dim);
        for (int i = 0; i < 30; i += 3) {
            double[] chunk = java.util.Arrays.copyOfRange(d1, i * dim, (i + 3) * dim);
            (i < 15 ? s1 : s2).add(chunk, 3);
            union.add(chunk, 3);
            exact.add(chunk, 3);
        }
        s1.merge(s2);
        assertThat(maxRelativeDifference(s1.eigen().dense(), union.eigen().dense())).isLessThan(1e-10);
        assertThat(maxRelativeDifference(s1.eigen().dense(), exact.dense())).isLessThan(1e-10);
    }

    /**
     * With truncation the sketch is greedy. For a spectrum that decays (the case of real activation
     * factors) its error stays close to the best rank-k approximation's: here within 25% of it in
     * Frobenius norm, and the top eigenvalues within 1e-3 relative.
     */
    @Test
    void truncationErrorIsCloseToTheBestRankKApproximation() {
        Random r = new Random(3);
        int dim = 60;
        int rank = 8;
        double[] scales = new double[dim];
        for (int j = 0; j < dim; j++) {
            scales[j] = Math.pow(0.8, j);
        }
        LowRankSketch sketch = new LowRankSketch(dim, rank);
        ExactFactor exact = new ExactFactor(dim);
        for (int batch = 0; batch < 40; batch++) {
            double[] x = randomRows(r, 4, dim, scales);
            sketch.add(x, 4);
            exact.add(x, 4);
        }
        FactorEigen full = exact.eigen();
        FactorEigen approx = sketch.eigen();
        assertThat(approx.rank()).isEqualTo(rank);
        double bestError = 0;
        for (int j = rank; j < dim; j++) {
            bestError += full.values()[j] * full.values()[j];
        }
        bestError = Math.sqrt(bestError);
        double[] diff = exact.dense();
        double[] sk = approx.dense();
        double err = 0;
        for (int i = 0; i < diff.length; i++) {
            err += (diff[i] - sk[i]) * (diff[i] - sk[i]);
        }
        err = Math.sqrt(err);
        assertThat(err).isLessThan(1.25 * bestError);
        for (int j = 0; j < 3; j++) {
            assertThat(Math.abs(approx.values()[j] - full.values()[j]) / full.values()[j]).isLessThan(1e-3);
        }
    }
}
