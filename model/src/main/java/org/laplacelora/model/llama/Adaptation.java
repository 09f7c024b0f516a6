package org.laplacelora.model.llama;

import ai.djl.ndarray.NDArray;

/**
 * What one forward pass adds to the frozen linear maps: nothing ({@link #NONE}, the base model), or an
 * adapter's branches (LoRA's context implements it). Kept as an interface here so that the model does not
 * depend on any adapter format.
 */
@FunctionalInterface
public interface Adaptation {
    /** The base model: every linear map as it is. */
    Adaptation NONE = (linear, x, h) -> h;

    /**
     * @param linear the frozen map that produced {@code h}
     * @param x its input [..., in]
     * @param h {@code x W0ᵀ} [..., out]
     * @return the adapted output [..., out]
     */
    NDArray adapt(Linear linear, NDArray x, NDArray h);
}
