package org.laplacelora.model.llama;

import ai.djl.ndarray.NDArray;

/**
 * A frozen linear map W0 of the model, {@code h = W0 x}, which an {@link Adaptation} may add to. W0 is kept in
 * the checkpoint's [out, in] layout, so it can stay memory-mapped.
 */
public final class Linear {
    private final String name;
    private final NDArray weight;

    public Linear(String name, NDArray weight) {
        this.name = name;
        this.weight = weight;
    }

    /** The module's Hugging Face name, e.g. "model.layers.3.self_attn.q_proj" or {@link Llama#LM_HEAD}. */
    public String name() {
        return name;
    }

    /** W0, [out, in]. */
    public NDArray weight() {
        return weight;
    }

    public long inFeatures() {
        return weight.getShape().get(1);
    }

    public long outFeatures() {
        return weight.getShape().get(0);
    }

    /** x [..., in] -> h [..., out]. */
    public NDArray forward(NDArray x, Adaptation adaptation) {
        return adaptation.adapt(this, x, x.matMul(weight.transpose()));
    }
}
