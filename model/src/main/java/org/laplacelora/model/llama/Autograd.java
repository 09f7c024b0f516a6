package org.laplacelora.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Vector-Jacobian products with the graph kept, which DJL's public GradientCollector.backward cannot
 * do: several VJPs of one forward pass (one per answer logit, or per logit difference) need it.
 */
public final class Autograd {
    private Autograd() {}

    /**
     * Accumulates cotangentᵀ · ∂output/∂leaf into the gradient of every leaf that requires one.
     *
     * @param keepGraph true when another VJP of the same forward pass follows
     */
    public static void vjp(NDArray output, NDArray cotangent, boolean keepGraph) {
        JniUtils.backward((PtNDArray) output, (PtNDArray) cotangent, keepGraph, false);
    }

    /** Sets a leaf's accumulated gradient to zero. */
    public static void zeroGradient(NDArray leaf) {
        JniUtils.zeroGrad((PtNDArray) leaf);
    }
}
