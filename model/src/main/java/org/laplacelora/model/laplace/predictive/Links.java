package org.laplacelora.model.laplace.predictive;

/**
 * The link rules, in one place: which approximation of E[softmax(z)] serving, evaluation and prior tuning
 * use, and with how many Monte Carlo samples per question.
 */
public final class Links {
    /** What the scorer, evaluate and the refit serve and report with, unless told otherwise: exact for two classes. */
    public static final Link DEFAULT = Link.AUTO;
    /** Per question when serving (scorer, demo, the pipeline and swap benchmarks). */
    public static final int SERVING_SAMPLES = 20_000;
    /** Per question when evaluating offline (evaluate, the predictive benchmark). */
    public static final int EVALUATION_SAMPLES = 100_000;
    /** Per validation question when fit-posterior and evaluate --val tune with more than two classes. */
    public static final int TUNING_SAMPLES = 2_000;
    /** Per held-out question when a refit tunes with more than two classes, and when the demo fits its posterior. */
    public static final int REFIT_TUNING_SAMPLES = 1_000;

    private Links() {}

    /** A predictive with the default link and the serving sample count. */
    public static LinearisedPredictive serving() {
        return new LinearisedPredictive(DEFAULT, SERVING_SAMPLES, 0);
    }

    /** The link prior tuning scores with: the exact one-dimensional rule for two classes, else Monte Carlo. */
    public static LinearisedPredictive forTuning(int classes, int samples, long seed) {
        Link link = Link.AUTO.forClasses(classes);
        return new LinearisedPredictive(link, link == Link.MC ? samples : 1, seed);
    }

    /** Re-tuning for an evaluation: a deterministic link is tuned for as it is; Monte Carlo as {@link #forTuning}. */
    public static LinearisedPredictive forRetuning(LinearisedPredictive evaluation, int classes, long seed) {
        return evaluation.link().forClasses(classes) != Link.MC ? evaluation : forTuning(classes, TUNING_SAMPLES, seed);
    }
}
