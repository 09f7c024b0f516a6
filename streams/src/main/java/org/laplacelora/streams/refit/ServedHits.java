package org.laplacelora.streams.refit;

import java.util.List;
import org.laplacelora.schemas.avro.LabelledOutcome;

/**
 * How often one posterior version's predictions were right on a set of labelled outcomes: what a refit compares
 * between the rows it learnt from and the outcomes labelled while it ran, to tell whether the stream changed
 * meanwhile. The detectors cannot always say: a Page-Hinkley detector that fired stays quiet until the next swap.
 */
record ServedHits(long version, long right, long n) {
    /** A two-sided z beyond this is a change: with the few suffixes tried, a few in 10,000 refits on an unchanged stream. */
    static final double CHANGE_Z = 4;
    /** The shortest run of outcomes judged (the gate's own minimum). */
    static final int MIN_OUTCOMES = 30;

    /** A change: the latest outcomes from {@code fromSequence} on, on which the version was right this often. */
    record Change(long fromSequence, ServedHits hits, double z) {}

    /** The predictions of {@code version} among {@code outcomes}. */
    static ServedHits of(List<LabelledOutcome> outcomes, long version) {
        long right = 0;
        long n = 0;
        for (LabelledOutcome o : outcomes) {
            if (o.getPrediction().getPosteriorVersion() == version) {
                n++;
                right += o.getPrediction().getPredicted() == o.getLabel() ? 1 : 0;
            }
        }
        return new ServedHits(version, right, n);
    }

    double accuracy() {
        return n == 0 ? Double.NaN : (double) right / n;
    }

    /** The two-proportion z of {@code later} against these (0 when either is empty or all agree). */
    double z(ServedHits later) {
        if (n == 0 || later.n == 0) {
            return 0;
        }
        double pooled = (double) (right + later.right) / (n + later.n);
        double variance = pooled * (1 - pooled) * (1.0 / n + 1.0 / later.n);
        return variance == 0 ? 0 : (later.accuracy() - accuracy()) / Math.sqrt(variance);
    }

    /**
     * Whether the version's accuracy on the latest of {@code since} (outcomes after these, oldest first) differs from
     * its accuracy here: the latest 30, 60, 120, ... of them and then all, the shortest first, so that the outcomes from
     * before a recent change do not dilute it and the change found is the latest. Null when none differs.
     */
    Change changeIn(List<LabelledOutcome> since) {
        List<LabelledOutcome> mine = since.stream().filter(o -> o.getPrediction().getPosteriorVersion() == version).toList();
        for (int k = MIN_OUTCOMES; k / 2 < mine.size(); k *= 2) {
            List<LabelledOutcome> latest = mine.subList(Math.max(0, mine.size() - k), mine.size());
            if (latest.size() < MIN_OUTCOMES) {
                return null;
            }
            ServedHits hits = of(latest, version);
            double z = z(hits);
            if (Math.abs(z) > CHANGE_Z) {
                return new Change(latest.get(0).getSequence(), hits, z);
            }
        }
        return null;
    }
}
