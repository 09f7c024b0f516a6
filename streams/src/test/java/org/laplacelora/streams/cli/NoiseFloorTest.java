package org.laplacelora.streams.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The label-noise floor that {@code bench refit --noise-floor} tunes, against its closed form. */
class NoiseFloorTest {
    @Test
    void theFloorTunedOnFlippedLabelsIsTheOneThatMakesTheConfidenceTheAccuracy() {
        // Every row predicted 99 % for class 0, and 20 of 100 labels flipped: the NLL optimum over ε sets
        // (1 − ε)·0.99 + ε/2 = 0.8, ε = 0.19 / 0.49 = 0.388.
        List<double[]> predicted = Collections.nCopies(100, new double[] {0.99, 0.01});
        int[] labels = IntStream.range(0, 100).map(i -> i < 20 ? 1 : 0).toArray();
        RefitBench.Floor f = RefitBench.Floor.tuned(new double[] {1}, s -> predicted, labels);
        assertThat(f.epsilon()).isCloseTo(0.19 / 0.49, within(0.006));
        assertThat(f.applied(predicted.get(0))[0]).isCloseTo(0.8, within(0.005));
    }

    @Test
    void cleanLabelsGetNoFloorAndTheBestScale() {
        // Scale s predicts [s, 1 − s]; every label is 0, so the largest s wins and no floor helps.
        int[] labels = new int[50];
        RefitBench.Floor f = RefitBench.Floor.tuned(new double[] {0.6, 0.9, 0.7}, s -> Collections.nCopies(50, new double[] {s, 1 - s}),
                labels);
        assertThat(f.scale()).isEqualTo(0.9);
        assertThat(f.epsilon()).isZero();
    }

    @Test
    void aFlooredPredictiveSumsToOneAndNeverGoesBelowTheFloor() {
        double[] p = new RefitBench.Floor(1, 0.3).applied(new double[] {0.97, 0.02, 0.01});
        assertThat(Arrays.stream(p).sum()).isCloseTo(1, within(1e-12));
        assertThat(Arrays.stream(p).min().orElseThrow()).isGreaterThanOrEqualTo(0.1);
    }
}
