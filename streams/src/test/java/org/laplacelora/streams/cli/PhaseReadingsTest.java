package org.laplacelora.streams.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Collections;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** How {@code bench refit --by-ece} reads a predictor's ECE on phases of the demo's size. */
class PhaseReadingsTest {
    private static final int[] NINE_IN_TEN_RIGHT = IntStream.range(0, 1000).map(i -> i % 10 == 0 ? 1 : 0).toArray();

    @Test
    void aCalibratedPredictorReadsOnlyTheSamplingNoiseOfAPhase() {
        // 90 % confidence, right 90 % of the time: one bin whose accuracy over 550 draws has a standard deviation of
        // √(0.9 · 0.1 / 550) = 1.28 points, so the median reading is about 0.67 · 1.28 = 0.86 %, and never near 8 %.
        RefitBench.PhaseReadings r = RefitBench.PhaseReadings.of(Collections.nCopies(1000, new double[] {0.9, 0.1}), NINE_IN_TEN_RIGHT);
        assertThat(r.medianEce()).isBetween(0.005, 0.013);
        assertThat(r.shareAbove8()).isZero();
    }

    @Test
    void eachPhaseKeepsEveryRowWithItsOwnLabel() {
        // Certain and right on every row, half of them class 0 and half class 1: ECE 0 in every phase, unless a draw paired
        // one row's probabilities with another row's label.
        List<double[]> rows = IntStream.range(0, 1000).mapToObj(i -> i % 2 == 0 ? new double[] {1, 0} : new double[] {0, 1}).toList();
        RefitBench.PhaseReadings r = RefitBench.PhaseReadings.of(rows, IntStream.range(0, 1000).map(i -> i % 2).toArray());
        assertThat(r.medianEce()).isZero();
        assertThat(r.shareAbove8()).isZero();
    }

    @Test
    void aPredictorThirtyPointsUnderconfidentReadsAboveEightPercentInEveryPhase() {
        List<double[]> sixty = Collections.nCopies(1000, new double[] {0.6, 0.4});
        RefitBench.PhaseReadings r = RefitBench.PhaseReadings.of(sixty, NINE_IN_TEN_RIGHT);
        assertThat(r.medianEce()).isBetween(0.27, 0.33);
        assertThat(r.shareAbove8()).isEqualTo(1.0);
    }
}
