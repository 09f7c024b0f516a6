package org.laplacelora.model.laplace.predictive;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.laplacelora.model.core.Categorical;
import org.laplacelora.model.core.Linalg;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;

/**
 * The linearised (GLM) predictive of a Laplace posterior: z ≈ z(θ*) + J(θ − θ*), so z ~ N(μ, S) with μ the
 * MAP logits and S = J Σ Jᵀ, and p(y | x) = E[softmax(z)]. Softmax depends on logit differences only, so
 * everything here takes the differences m_k = μ_k − μ_{C−1} and their covariance S_d (K × K, K = C − 1).
 *
 * <p>Also returns the predictive entropy and its epistemic part, the mutual information
 * I = H(E[p]) − E[H(p)] between the label and the weights.
 */
public final class LinearisedPredictive {
    /** One question's predictive distribution: its probabilities, their entropy and the epistemic part of it (nats). */
    public record Distribution(double[] probabilities, double entropy, double epistemic) {}

    private static final double X_RANGE = 10;      // φ(10) ≈ 8e-23
    private static final double MAX_STEP = 0.25;   // the Gaussian factor alone: trapezoid error ~ exp(−2π²/h²)
    private static final double WIDE_RANGE = 40;   // logistic density and H(σ(t)) below 1e-15 beyond
    private static final double WIDE_STEP = 0.125;

    private final Link link;
    private final int samples;
    private final long seed;

    /**
     * @param samples Monte Carlo samples per question (for {@link Link#MC}, and for the epistemic part of
     *     {@link Link#PROBIT} with C > 2)
     * @param seed mixed with each question's id into that question's sample stream
     */
    public LinearisedPredictive(Link link, int samples, long seed) {
        if (samples <= 0) {
            throw new IllegalArgumentException("Monte Carlo samples must be positive");
        }
        this.link = link;
        this.samples = samples;
        this.seed = seed;
    }

    public Link link() {
        return link;
    }

    /** The same samples and seed with another link. */
    public LinearisedPredictive withLink(Link other) {
        return new LinearisedPredictive(other, samples, seed);
    }

    /**
     * This predictive for a posterior: the automatic link becomes the one chosen on validation when the posterior was
     * fitted (stored with it); an explicit link is kept.
     */
    public LinearisedPredictive forPosterior(LaplacePosterior posterior) {
        return link == Link.AUTO && !posterior.link().equals(LaplacePosterior.AUTO_LINK) ? withLink(Link.parse(posterior.link())) : this;
    }

    /**
     * @param mu MAP answer logits (C)
     * @param sd covariance of the differences to the last class (K × K row-major)
     * @param questionId seeds the Monte Carlo draws of this question
     */
    public Distribution predict(double[] mu, double[] sd, String questionId) {
        int c = mu.length;
        Link link = this.link.forClasses(c);
        double[] m = differences(mu);
        if (link == Link.BINARY || (c == 2 && link != Link.MC)) {
            if (c != 2) {
                throw new IllegalArgumentException("the binary link needs 2 classes, got " + c);
            }
            double[] p = link == Link.BINARY ? binaryExact(m[0], sd[0]) : probit(mu, sd);
            return new Distribution(p, Categorical.entropy(p), binaryMutualInformation(m[0], sd[0]));
        }
        if (link == Link.MC) {
            return monteCarlo(m, sd, c, questionId);
        }
        double[] p = probit(mu, sd);
        Distribution sampled = monteCarlo(m, sd, c, questionId);
        return new Distribution(p, Categorical.entropy(p), sampled.epistemic());
    }

    /** The predictive probabilities alone (no entropy terms): what prior tuning scores. */
    public double[] probabilities(double[] mu, double[] sd, String questionId) {
        Link link = this.link.forClasses(mu.length);
        if (mu.length == 2 && link != Link.MC) {
            double m = mu[0] - mu[1];
            return link == Link.BINARY ? binaryExact(m, sd[0]) : probit(mu, sd);
        }
        if (link == Link.PROBIT) {
            return probit(mu, sd);
        }
        return predict(mu, sd, questionId).probabilities();
    }

    static double[] differences(double[] mu) {
        int k = mu.length - 1;
        double[] m = new double[k];
        for (int i = 0; i < k; i++) {
            m[i] = mu[i] - mu[k];
        }
        return m;
    }

    /** Draws d = m + L ε (S_d = Q W Qᵀ, L = Q √max(W, 0)), logits (d, 0); averages probabilities, never logits. */
    private Distribution monteCarlo(double[] m, double[] sd, int c, String questionId) {
        int k = c - 1;
        double[] l = Linalg.psdSquareRoot(sd, k);
        SplittableRandom random = new SplittableRandom(seedFor(questionId));
        double[] mean = new double[c];
        double[] eps = new double[k];
        double[] z = new double[c];
        double expectedEntropy = 0;
        for (int s = 0; s < samples; s++) {
            for (int j = 0; j < k; j++) {
                eps[j] = random.nextGaussian();
            }
            double max = 0;
            for (int i = 0; i < k; i++) {
                double v = m[i];
                for (int j = 0; j < k; j++) {
                    v += l[i * k + j] * eps[j];
                }
                z[i] = v;
                max = Math.max(max, v);
            }
            z[k] = 0;
            double sum = 0;
            for (int i = 0; i < c; i++) {
                z[i] = Math.exp(z[i] - max);
                sum += z[i];
            }
            double h = 0;
            for (int i = 0; i < c; i++) {
                double p = z[i] / sum;
                mean[i] += p;
                h -= p > 0 ? p * Math.log(p) : 0;
            }
            expectedEntropy += h;
        }
        for (int i = 0; i < c; i++) {
            mean[i] /= samples;
        }
        double total = Categorical.entropy(mean);
        return new Distribution(mean, total, Math.max(0, total - expectedEntropy / samples));
    }

    /** q_c = 1 / Σ_k exp(−(μ_c − μ_k)/√(1 + (π/8) var(z_c − z_k))), normalised. */
    static double[] probit(double[] mu, double[] sd) {
        int c = mu.length;
        int k = c - 1;
        double[] q = new double[c];
        double total = 0;
        for (int a = 0; a < c; a++) {
            double s = 0;
            for (int b = 0; b < c; b++) {
                double var = differenceVariance(sd, k, a, b);
                s += Math.exp(-(mu[a] - mu[b]) / Math.sqrt(1 + Math.PI / 8 * var));
            }
            q[a] = 1 / s;
            total += q[a];
        }
        for (int a = 0; a < c; a++) {
            q[a] /= total;
        }
        return q;
    }

    /** var(z_a − z_b) from the covariance of the differences to the last class (the last class has difference 0). */
    private static double differenceVariance(double[] sd, int k, int a, int b) {
        double saa = a < k ? sd[a * k + a] : 0;
        double sbb = b < k ? sd[b * k + b] : 0;
        double sab = a < k && b < k ? sd[a * k + b] : 0;
        return saa + sbb - 2 * sab;
    }

    /**
     * p_0 = E[σ(t)], t ~ N(m, v) (m = μ_0 − μ_1), to about 1e-13, by the trapezoidal rule — which converges
     * exponentially for integrands analytic in a strip — in whichever variable keeps the integrand smooth:
     * for v ≤ 1 in x = (t − m)/√v on [−10, 10] (step 0.49/√v, at most 0.25, since σ's poles at t = ±iπ sit
     * π/√v away in x); for v > 1 through E[σ(T)] = P(L < T) with L standard logistic, i.e.
     * ∫ Φ((m − l)/√v) σ′(l) dl on [−40, 40] with step 0.25, whatever the size of v (a near-prior LoRA
     * posterior gives variances in the thousands). Gauss–Hermite is not this accurate here.
     */
    static double[] binaryExact(double m, double v) {
        double p0 = expectation(m, v, Sigmoid.P);
        return new double[] {p0, 1 - p0};
    }

    /** H(E[σ(t)]) − E[H(σ(t))], by the same kind of quadrature. */
    static double binaryMutualInformation(double m, double v) {
        double[] p = binaryExact(m, v);
        return Math.max(0, Categorical.entropy(p) - expectation(m, v, Sigmoid.ENTROPY));
    }

    enum Sigmoid { P, ENTROPY }

    static double expectation(double m, double v, Sigmoid f) {
        if (!(v > 0)) {
            return value(m, f);
        }
        double sd = Math.sqrt(v);
        if (v <= 1) {
            double h = Math.min(MAX_STEP, 0.49 / sd);
            int n = (int) Math.ceil(2 * X_RANGE / h);
            h = 2 * X_RANGE / n;
            double sum = 0;
            for (int i = 0; i <= n; i++) {
                double x = -X_RANGE + i * h;
                double w = (i == 0 || i == n) ? 0.5 : 1;
                sum += w * value(m + sd * x, f) * Math.exp(-0.5 * x * x);
            }
            return sum * h / Math.sqrt(2 * Math.PI);
        }
        double h = WIDE_STEP;
        int n = (int) Math.round(2 * WIDE_RANGE / h);
        double sum = 0;
        for (int i = 0; i <= n; i++) {
            double u = -WIDE_RANGE + i * h;
            double w = (i == 0 || i == n) ? 0.5 : 1;
            if (f == Sigmoid.P) {
                // u is the logistic variable l: Φ((m − l)/√v) σ'(l)
                double s = value(u, Sigmoid.P);
                sum += w * normalCdf((m - u) / sd) * s * (1 - s);
            } else {
                // u is t itself: H(σ(t)) N(t; m, v); H(σ(t)) < 1e-15 beyond |t| = 40
                double z = (u - m) / sd;
                sum += w * value(u, Sigmoid.ENTROPY) * Math.exp(-0.5 * z * z) / (sd * Math.sqrt(2 * Math.PI));
            }
        }
        return sum * h;
    }

    private static double normalCdf(double z) {
        return 0.5 * org.apache.commons.numbers.gamma.Erfc.value(-z / Math.sqrt(2));
    }

    private static double value(double t, Sigmoid f) {
        double p = t >= 0 ? 1 / (1 + Math.exp(-t)) : Math.exp(t) / (1 + Math.exp(t));
        if (f == Sigmoid.P) {
            return p;
        }
        double q = 1 - p;
        return -(p > 0 ? p * Math.log(p) : 0) - (q > 0 ? q * Math.log(q) : 0);
    }

    /** A 64-bit seed from the global seed and the question id (FNV-1a, then SplitMix64's finaliser). */
    long seedFor(String questionId) {
        long h = 0xcbf29ce484222325L;
        for (byte b : questionId.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        long z = h ^ seed;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
