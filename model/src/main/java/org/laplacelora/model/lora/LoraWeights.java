package org.laplacelora.model.lora;

import ai.djl.ndarray.NDArray;

/** One adapted module's LoRA matrices: A [r, in] (down-projection) and B [out, r] (up-projection). */
public record LoraWeights(NDArray a, NDArray b) {
    public long rank() {
        return a.getShape().get(0);
    }
}
