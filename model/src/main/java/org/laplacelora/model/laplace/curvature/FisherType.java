package org.laplacelora.model.laplace.curvature;

/** Which Fisher (= GGN for softmax cross-entropy) the curvature uses. */
public enum FisherType {
    /** Exact: every class, weighted by the predicted probabilities (C − 1 backward passes per batch). */
    EXACT,
    /** One label per example sampled from the prediction (one backward pass; unbiased, noisy). */
    SAMPLED
}
