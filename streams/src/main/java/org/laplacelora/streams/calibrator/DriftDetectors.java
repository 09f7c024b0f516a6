package org.laplacelora.streams.calibrator;

import java.util.ArrayList;
import java.util.List;
import org.laplacelora.model.laplace.predictive.Method;
import org.laplacelora.schemas.avro.PredictionSignal;
import org.laplacelora.schemas.state.CalibratorState;
import org.laplacelora.schemas.state.LabelFreeState;
import org.laplacelora.schemas.state.PageHinkleyState;
import org.laplacelora.schemas.state.SignalSums;
import org.laplacelora.schemas.state.VersionState;

/**
 * The calibrator's drift detectors, on its state record. Label-based, for every method the predictions carry:
 * Page-Hinkley on the per-outcome NLL and on the per-outcome error (each standardised by the version's first
 * outcomes, {@link PageHinkley}), and the windowed ECE against the first window
 * of the posterior version — all started over when outcomes of a newer version come (re-referenced after a swap),
 * so that a second drift, or a return to the old distribution, is seen after a refit. Label-free, on predictions
 * alone: the mean predictive entropy and its epistemic part over a window of predictions, against the version's
 * first window (a z-score), which can fire on a covariate shift before any label comes.
 */
final class DriftDetectors {
    /** A detector that fired. */
    record Fired(Detector detector, Method method, double statistic, double threshold, long version, String atQuestion) {
        boolean labelFree() {
            return detector.labelFree();
        }
    }

    private final CalibratorSettings s;

    DriftDetectors(CalibratorSettings settings) {
        this.s = settings;
    }

    static LabelFreeState initialLabelFree() {
        return LabelFreeState.newBuilder().setVersion(-1).setReference(emptySums()).setWindow(emptySums()).build();
    }

    private static SignalSums emptySums() {
        return SignalSums.newBuilder().setN(0).setEntropySum(0).setEntropySquares(0).setEpistemicSum(0).setEpistemicSquares(0).build();
    }

    /** A labelled outcome of {@code method}: p(label) and whether the top answer was right. */
    List<Fired> outcome(CalibratorState state, Method method, double pLabel, boolean correct, long version) {
        List<Fired> out = new ArrayList<>();
        double nll = -Math.log(Math.max(pLabel, 1e-12));
        pageHinkley(state, method, "nll", nll, version, Detector.PAGE_HINKLEY, out);
        pageHinkley(state, method, "error", correct ? 0 : 1, version, Detector.PAGE_HINKLEY_ERROR, out);
        return out;
    }

    private void pageHinkley(CalibratorState state, Method method, String signal, double x, long version, Detector detector,
                             List<Fired> out) {
        PageHinkleyState ph = state.getPageHinkley().computeIfAbsent(method.id() + "|" + signal, k -> PageHinkley.initial());
        if (version < ph.getVersion()) {
            return;                                   // a straggler scored by the version before the swap
        }
        if (version > ph.getVersion()) {
            PageHinkley.reset(ph, version);
        }
        double fired = new PageHinkley(ph).add(x, s.phDelta(), s.phThreshold(), s.phMinOutcomes());
        if (!Double.isNaN(fired)) {
            out.add(new Fired(detector, method, fired, s.phThreshold(), version, null));
        }
    }

    /** A closed window's ECE of {@code method}: the version's first window is the reference, later ones are tested against it. */
    List<Fired> window(VersionState v, Method method, double ece) {
        Double reference = v.getEceReferences().get(method.id());
        if (reference == null) {
            v.getEceReferences().put(method.id(), ece);
            return List.of();
        }
        if (ece - reference > s.eceRise()) {
            return List.of(new Fired(Detector.ECE_WINDOW, method, ece, reference + s.eceRise(), v.getVersion(), null));
        }
        return List.of();
    }

    /** A prediction, for the label-free detectors. */
    List<Fired> prediction(CalibratorState state, String questionId, PredictionSignal p) {
        LabelFreeState lf = state.getLabelFree();
        long version = p.getPosteriorVersion();
        if (version < lf.getVersion()) {
            return List.of();
        }
        if (version > lf.getVersion()) {
            lf.setVersion(version);
            lf.setReference(emptySums());
            lf.setWindow(emptySums());
        }
        boolean referenceFull = lf.getReference().getN() >= s.windowSize();
        add(referenceFull ? lf.getWindow() : lf.getReference(), p);
        if (!referenceFull || lf.getWindow().getN() < s.windowSize()) {
            return List.of();
        }
        List<Fired> out = new ArrayList<>();
        SignalSums ref = lf.getReference();
        SignalSums w = lf.getWindow();
        zRise(ref.getN(), ref.getEntropySum(), ref.getEntropySquares(), w.getN(), w.getEntropySum(), Detector.ENTROPY_RISE, version,
                questionId, out);
        zRise(ref.getN(), ref.getEpistemicSum(), ref.getEpistemicSquares(), w.getN(), w.getEpistemicSum(), Detector.EPISTEMIC_RISE,
                version, questionId, out);
        lf.setWindow(emptySums());
        return out;
    }

    private static void add(SignalSums sums, PredictionSignal p) {
        double h = finite(p.getEntropy());
        double e = finite(p.getEpistemic());
        sums.setN(sums.getN() + 1);
        sums.setEntropySum(sums.getEntropySum() + h);
        sums.setEntropySquares(sums.getEntropySquares() + h * h);
        sums.setEpistemicSum(sums.getEpistemicSum() + e);
        sums.setEpistemicSquares(sums.getEpistemicSquares() + e * e);
    }

    private static double finite(double x) {
        return Double.isFinite(x) ? x : 0;
    }

    /**
     * Fires when the window's mean exceeds the reference's by more than {@code labelFreeZ} standard errors of a
     * window mean (the reference's spread, floored so that a constant reference cannot make any wiggle an alarm).
     */
    private void zRise(long nRef, double sumRef, double squaresRef, long nWin, double sumWin, Detector detector, long version,
                       String questionId, List<Fired> out) {
        double meanRef = sumRef / nRef;
        double var = Math.max(0, squaresRef / nRef - meanRef * meanRef);
        double sd = Math.max(Math.sqrt(var), 1e-3);
        double z = (sumWin / nWin - meanRef) / (sd / Math.sqrt(nWin));
        if (z > s.labelFreeZ()) {
            out.add(new Fired(detector, Method.LAPLACE, z, s.labelFreeZ(), version, questionId));
        }
    }
}
