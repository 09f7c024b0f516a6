package org.laplacelora.model.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class AurocTest {
    /** Against the definition, every pair counted: on random scores with many ties (rounded to one decimal). */
    @Test
    void equalsTheShareOfCorrectlyOrderedPairs() {
        Random r = new Random(5);
        for (int trial = 0; trial < 20; trial++) {
            double[] neg = new double[1 + r.nextInt(40)];
            double[] pos = new double[1 + r.nextInt(40)];
            for (int i = 0; i < neg.length; i++) {
                neg[i] = Math.round(r.nextGaussian() * 10) / 10.0;
            }
            for (int i = 0; i < pos.length; i++) {
                pos[i] = Math.round((r.nextGaussian() + 0.5) * 10) / 10.0;
            }
            double pairs = 0;
            for (double p : pos) {
                for (double n : neg) {
                    pairs += p > n ? 1 : p == n ? 0.5 : 0;
                }
            }
            assertThat(Auroc.of(neg, pos)).isCloseTo(pairs / (pos.length * neg.length), within(1e-12));
        }
    }

    @Test
    void separatedScoresGiveOneAndReversedZeroAndConstantAHalf() {
        assertThat(Auroc.of(new double[] {0, 1}, new double[] {2, 3})).isEqualTo(1.0);
        assertThat(Auroc.of(new double[] {2, 3}, new double[] {0, 1})).isEqualTo(0.0);
        assertThat(Auroc.of(new double[] {1, 1, 1}, new double[] {1, 1})).isEqualTo(0.5);
    }

    @Test
    void refusesAnEmptySideOrNaN() {
        assertThatThrownBy(() -> Auroc.of(new double[0], new double[] {1})).hasMessageContaining("both");
        assertThatThrownBy(() -> Auroc.of(new double[] {Double.NaN}, new double[] {1})).hasMessageContaining("NaN");
    }
}
