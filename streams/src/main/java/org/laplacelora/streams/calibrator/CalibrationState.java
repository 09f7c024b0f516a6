package org.laplacelora.streams.calibrator;

import java.util.ArrayList;
import java.util.List;
import org.laplacelora.model.laplace.predictive.Method;
import org.laplacelora.model.metrics.Calibration;
import org.laplacelora.schemas.state.CalibrationSums;
import org.laplacelora.schemas.state.MethodSums;

/** Calibration accumulators kept in the metrics task's state record, per method. */
final class CalibrationState {
    private CalibrationState() {}

    static MethodSums empty() {
        CalibrationSums none = sums(new Calibration());
        return MethodSums.newBuilder().setLaplace(none).setTemperature(CalibrationSums.newBuilder(none).build())
                .setMap(CalibrationSums.newBuilder(none).build()).build();
    }

    private static CalibrationSums get(MethodSums s, Method m) {
        return switch (m) {
            case LAPLACE -> s.getLaplace();
            case TEMPERATURE -> s.getTemperature();
            case MAP -> s.getMap();
            case LLLA -> throw new IllegalArgumentException("the calibrator does not see last-layer Laplace");
        };
    }

    static Calibration of(MethodSums s, Method m) {
        CalibrationSums c = get(s, m);
        return Calibration.of(new Calibration.Sums(c.getN(), c.getCorrect(), c.getNllSum(), c.getBrierSum(), c.getConfidenceSum(),
                c.getBinCount().stream().mapToLong(Long::longValue).toArray(), c.getBinCorrect().stream().mapToLong(Long::longValue).toArray(),
                c.getBinConfidence().stream().mapToDouble(Double::doubleValue).toArray()));
    }

    /** Adds one outcome (its own sums, {@link #one}) of method m to s, in place. */
    static void add(MethodSums s, Method m, Calibration.Sums one) {
        CalibrationSums c = get(s, m);
        c.setN(c.getN() + one.n());
        c.setCorrect(c.getCorrect() + one.correct());
        c.setNllSum(c.getNllSum() + one.nllSum());
        c.setBrierSum(c.getBrierSum() + one.brierSum());
        c.setConfidenceSum(c.getConfidenceSum() + one.confidenceSum());
        for (int b = 0; b < Calibration.BINS; b++) {
            if (one.binCount()[b] != 0) {
                c.getBinCount().set(b, c.getBinCount().get(b) + one.binCount()[b]);
                c.getBinCorrect().set(b, c.getBinCorrect().get(b) + one.binCorrect()[b]);
                c.getBinConfidence().set(b, c.getBinConfidence().get(b) + one.binConfidence()[b]);
            }
        }
    }

    /** One outcome's contribution to the sums: computed once, added to every scope it counts in. */
    static Calibration.Sums one(double[] probabilities, int label) {
        return new Calibration().add(probabilities, label).sums();
    }

    private static CalibrationSums sums(Calibration c) {
        Calibration.Sums s = c.sums();
        List<Long> count = new ArrayList<>();
        List<Long> correct = new ArrayList<>();
        List<Double> confidence = new ArrayList<>();
        for (int b = 0; b < Calibration.BINS; b++) {
            count.add(s.binCount()[b]);
            correct.add(s.binCorrect()[b]);
            confidence.add(s.binConfidence()[b]);
        }
        return CalibrationSums.newBuilder().setN(s.n()).setCorrect(s.correct()).setNllSum(s.nllSum()).setBrierSum(s.brierSum())
                .setConfidenceSum(s.confidenceSum()).setBinCount(count).setBinCorrect(correct).setBinConfidence(confidence).build();
    }
}
