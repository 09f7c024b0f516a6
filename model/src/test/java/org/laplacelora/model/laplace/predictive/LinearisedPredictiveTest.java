package org.laplacelora.model.laplace.predictive;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.laplacelora.model.core.Categorical;

class LinearisedPredictiveTest {
    /** E[f(σ(t))], t ~ N(m, v), by brute force: trapezoid on [−16, 16] in x with a step far below 1/√v. */
    private static double fine(double m, double v, boolean entropy) {
        double sd = Math.sqrt(v);
        int n = (int) Math.max(320_000, 200 * 32 * sd);   // a step of 0.005 in t
        double h = 32.0 / n;
        double s = 0;
        double carry = 0;   // Kahan summation: millions of terms
        for (int i = 0; i <= n; i++) {
            double x = -16 + i * h;
            double t = m + sd * x;
            double p = t >= 0 ? 1 / (1 + Math.exp(-t)) : Math.exp(t) / (1 + Math.exp(t));
            double q = 1 - p;
            double f = entropy ? -(p > 0 ? p * Math.log(p) : 0) - (q > 0 ? q * Math.log(q) : 0) : p;
            double y = (i == 0 || i == n ? 0.5 : 1) * f * Math.exp(-0.5 * x * x) - carry;
            double next = s + y;
            carry = (next - s) - y;
            s = next;
        }
        return s * h / Math.sqrt(2 * Math.PI);
    }

    @Test
    void binaryRuleIsExactToRoundingOverTheVariancesThatOccur() {
        for (double v : new double[] {1e-4, 0.1, 1, 1.0001, 4, 48, 200, 5000, 1e6}) {
            for (double m : new double[] {-9, -1.5, 0, 0.3, 4, 12}) {
                double got = LinearisedPredictive.expectation(m, v, LinearisedPredictive.Sigmoid.P);
                assertThat(Math.abs(got - fine(m, v, false))).as("E[σ] m %s v %s", m, v).isLessThan(1e-12);
                double h = LinearisedPredictive.expectation(m, v, LinearisedPredictive.Sigmoid.ENTROPY);
                assertThat(Math.abs(h - fine(m, v, true))).as("E[H] m %s v %s", m, v).isLessThan(1e-12);
            }
        }
        assertThat(LinearisedPredictive.binaryExact(0.7, 0)[0]).isEqualTo(1 / (1 + Math.exp(-0.7)));
        for (double v : new double[] {0.5, 3, 5000, 1e8}) {
            assertThat(LinearisedPredictive.binaryExact(0, v)[0]).as("symmetry, v %s", v).isCloseTo(0.5, org.assertj.core.data.Offset.offset(1e-14));
        }
    }

    @Test
    void binaryProbitAndMonteCarloAgreeInTheBinaryCase() {
        double[] mu = {1.2, -0.4};
        double[] sd = {3.0};
        double exact = new LinearisedPredictive(Link.BINARY, 1, 0).predict(mu, sd, "q").probabilities()[0];
        double mc = new LinearisedPredictive(Link.MC, 400_000, 0).predict(mu, sd, "q").probabilities()[0];
        double probit = new LinearisedPredictive(Link.PROBIT, 1, 0).predict(mu, sd, "q").probabilities()[0];
        assertThat(Math.abs(mc - exact)).isLessThan(3e-3);
        assertThat(probit).isCloseTo(1 / (1 + Math.exp(-1.6 / Math.sqrt(1 + Math.PI * 3 / 8))), org.assertj.core.data.Offset.offset(1e-15));
        assertThat(Math.abs(probit - exact)).isLessThan(0.02);
    }

    /**
     * For C > 2 the predictive uses the full covariance of the differences: two perfectly correlated answer
     * logits keep their difference (and so the prediction) unchanged, whatever their variances.
     */
    @Test
    void correlatedAnswerLogitsDoNotBlurThePrediction() {
        double[] mu = {2.0, 0.0, -1.0};
        double[] sdZero = {0, 0, 0, 0};
        double[] map = new LinearisedPredictive(Link.MC, 1000, 0).predict(mu, sdZero, "q").probabilities();
        assertThat(map[0]).isCloseTo(Categorical.softmax(mu)[0], org.assertj.core.data.Offset.offset(1e-12));
        LinearisedPredictive.Distribution p = new LinearisedPredictive(Link.MC, 200_000, 0).predict(mu, new double[] {4, 4, 4, 4}, "q");
        // d0 = z0 − z2 and d1 = z1 − z2 with identical variance 4 and covariance 4: d0 − d1 is constant.
        assertThat(p.probabilities()[0] / p.probabilities()[1]).isCloseTo(Math.exp(2), org.assertj.core.data.Offset.offset(1e-9));
        double sum = p.probabilities()[0] + p.probabilities()[1] + p.probabilities()[2];
        assertThat(sum).isCloseTo(1, org.assertj.core.data.Offset.offset(1e-12));
    }
}
