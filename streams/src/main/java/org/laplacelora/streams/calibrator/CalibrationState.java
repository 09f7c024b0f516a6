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

    static Calibration of(MethodSums s, Method m) {
        CalibrationSums c = switch (m) {
            case LAPLACE -> s.getLaplace();
            case TEMPERATURE -> s.getTemperature();
            case MAP -> s.getMap();
            case LLLA -> throw new IllegalArgumentException("the calibrator does not see last-layer Laplace");
        };
        return Calibration.of(new Calibration.Sums(c.getN(), c.getCorrect(), c.getNllSum(), c.getBrierSum(), c.getConfidenceSum(),
                c.getBinCount().stream().mapToLong(Long::longValue).toArray(), c.getBinCorrect().stream().mapToLong(Long::longValue).toArray(),
                c.getBinConfidence().stream().mapToDouble(Double::doubleValue).toArray()));
    }

    /** Adds one outcome of method m to s. */
    static void add(MethodSums s, Method m, double[] probabilities, int label) {
        CalibrationSums updated = sums(of(s, m).add(probabilities, label));
        switch (m) {
            case LAPLACE -> s.setLaplace(updated);
            case TEMPERATURE -> s.setTemperature(updated);
            case MAP -> s.setMap(updated);
            case LLLA -> throw new IllegalArgumentException("the calibrator does not see last-layer Laplace");
        }
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
