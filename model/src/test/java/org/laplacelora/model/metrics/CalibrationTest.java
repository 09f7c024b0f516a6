package org.laplacelora.model.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.laplacelora.model.Fixtures;

class CalibrationTest {
    /**
     * Five binary predictions, by hand. Confidences 0.9 (right), 0.9 (wrong), 0.65 (right), 0.55 (wrong),
     * 0.55 (right). Bins ((b-1)/10, b/10]: 0.9 → bin 8, 0.65 → bin 6, 0.55 → bin 5.
     * bin 8: acc 1/2, conf 0.9 → |0.5 − 0.9| · 2/5 = 0.16
     * bin 6: acc 1,   conf 0.65 → 0.35 · 1/5 = 0.07
     * bin 5: acc 1/2, conf 0.55 → 0.05 · 2/5 = 0.02          ECE = 0.25
     * NLL = −(ln .9 + ln .1 + ln .65 + ln .45 + ln .55)/5; Brier: 2(1−p_true)² per example.
     */
    @Test
    void handComputedExample() {
        Calibration c = new Calibration();
        c.add(new double[] {0.9, 0.1}, 0);
        c.add(new double[] {0.9, 0.1}, 1);
        c.add(new double[] {0.35, 0.65}, 1);
        c.add(new double[] {0.55, 0.45}, 1);
        c.add(new double[] {0.45, 0.55}, 1);
        CalibrationScores m = c.metrics();
        assertThat(m.n()).isEqualTo(5);
        assertThat(m.accuracy()).isCloseTo(0.6, within(1e-15));
        assertThat(m.ece()).isCloseTo(0.25, within(1e-15));
        double nll = -(Math.log(0.9) + Math.log(0.1) + Math.log(0.65) + Math.log(0.45) + Math.log(0.55)) / 5;
        assertThat(m.nll()).isCloseTo(nll, within(1e-15));
        double brier = 2 * (0.01 + 0.81 + 0.35 * 0.35 + 0.55 * 0.55 + 0.45 * 0.45) / 5;
        assertThat(m.brier()).isCloseTo(brier, within(1e-15));
        assertThat(m.meanConfidenceMinusAccuracy()).isCloseTo((0.9 + 0.9 + 0.65 + 0.55 + 0.55) / 5 - 0.6, within(1e-15));
        assertThat(m.bins().get(8).count()).isEqualTo(2);
        assertThat(m.bins().get(8).accuracy()).isEqualTo(0.5);
        assertThat(m.bins().get(6).meanConfidence()).isCloseTo(0.65, within(1e-15));
    }

    @Test
    void confidenceOnABinEdgeFallsInTheLowerBin() {
        assertThat(Calibration.bin(0.5)).isEqualTo(4);
        assertThat(Calibration.bin(0.5000001)).isEqualTo(5);
        assertThat(Calibration.bin(1.0)).isEqualTo(9);
        assertThat(Calibration.bin(0.0)).isEqualTo(0);
    }

    /** Every predictive of both reference cases (two classes; four), from the reference's own probabilities. */
    @ParameterizedTest
    @ValueSource(strings = {"laplace-case1/case1.json", "laplace-case2/case2.json"})
    void referenceCasesMetricsForEveryPredictive(String reference) {
        JsonNode c = Fixtures.json(reference);
        int[] labels = new int[c.get("test").size()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = c.get("test").get(i).get("label").asInt();
        }
        List<JsonNode> predictives = new ArrayList<>();
        predictives.add(c.get("predictive").get("map"));
        c.get("predictive").get("methods").forEach(m -> m.fields().forEachRemaining(e -> {
            if (e.getValue().has("p")) {
                predictives.add(e.getValue());
            }
        }));
        assertThat(predictives).hasSizeGreaterThan(20);
        for (JsonNode pred : predictives) {
            List<double[]> p = new ArrayList<>();
            pred.get("p").forEach(row -> p.add(Fixtures.doubles(row)));
            CalibrationScores m = Calibration.of(p, labels);
            JsonNode want = pred.get("metrics");
            assertThat(m.accuracy()).isCloseTo(want.get("acc").asDouble(), within(1e-12));
            assertThat(m.ece()).isCloseTo(want.get("ece").asDouble(), within(1e-12));
            assertThat(m.nll()).isCloseTo(want.get("nll").asDouble(), within(1e-12));
            assertThat(m.brier()).isCloseTo(want.get("brier").asDouble(), within(1e-12));
            assertThat(m.meanConfidenceMinusAccuracy()).isCloseTo(want.get("mean_conf_minus_acc").asDouble(), within(1e-12));
        }
    }

    @Test
    void accumulatorsMergeToTheAccumulatorOfTheUnion() {
        java.util.Random r = new java.util.Random(3);
        Calibration all = new Calibration();
        Calibration left = new Calibration();
        Calibration right = new Calibration();
        for (int i = 0; i < 500; i++) {
            double[] p = new double[4];
            double s = 0;
            for (int k = 0; k < 4; k++) {
                p[k] = r.nextDouble();
                s += p[k];
            }
            for (int k = 0; k < 4; k++) {
                p[k] /= s;
            }
            int y = r.nextInt(4);
            all.add(p, y);
            (i % 3 == 0 ? left : right).add(p, y);
        }
        CalibrationScores restored = Calibration.of(all.sums()).metrics();
        assertThat(restored).isEqualTo(all.metrics());
        CalibrationScores merged = left.merge(right).metrics();
        CalibrationScores direct = all.metrics();
        assertThat(merged.n()).isEqualTo(direct.n());
        assertThat(merged.ece()).isCloseTo(direct.ece(), within(1e-12));
        assertThat(merged.nll()).isCloseTo(direct.nll(), within(1e-12));
        assertThat(merged.brier()).isCloseTo(direct.brier(), within(1e-12));
        assertThat(merged.bins()).hasSize(10);
    }
}
