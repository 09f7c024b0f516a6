package org.laplacelora.model.core;

import java.util.Random;

/** A categorical distribution over C classes as a probability vector: softmax, argmax, entropy. */
public final class Categorical {
    private Categorical() {}

    /** softmax(z), computed after subtracting the maximum so that no exponential overflows. */
    public static double[] softmax(double[] z) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            max = Math.max(max, v);
        }
        double[] p = new double[z.length];
        double sum = 0;
        for (int i = 0; i < z.length; i++) {
            p[i] = Math.exp(z[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < z.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    /** softmax(z / T): temperature scaling. */
    public static double[] softmax(double[] z, double temperature) {
        double[] scaled = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            scaled[i] = z[i] / temperature;
        }
        return softmax(scaled);
    }

    /** The index of the largest value; the first of equal maxima. */
    public static int argmax(double[] p) {
        int best = 0;
        for (int i = 1; i < p.length; i++) {
            if (p[i] > p[best]) {
                best = i;
            }
        }
        return best;
    }

    /** A class drawn from p (the last one if rounding leaves the draw past the end). */
    public static int sample(double[] p, Random random) {
        double u = random.nextDouble();
        for (int c = 0; c < p.length; c++) {
            u -= p[c];
            if (u <= 0) {
                return c;
            }
        }
        return p.length - 1;
    }

    /** −Σ p log p in nats (0 log 0 = 0). */
    public static double entropy(double[] p) {
        double h = 0;
        for (double v : p) {
            h -= v > 0 ? v * Math.log(v) : 0;
        }
        return h;
    }
}
