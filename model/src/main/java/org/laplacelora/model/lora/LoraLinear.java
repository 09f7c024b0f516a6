package org.laplacelora.model.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.norm.Dropout;

/**
 * A frozen linear map W0 that may carry a LoRA branch: {@code h = W0 x + scale · B (A drop(x))}.
 * W0 is kept in the checkpoint's [out, in] layout (so it can stay memory-mapped); A is [r, in], B [out, r].
 */
public final class LoraLinear {
    private final String name;
    private final NDArray weight;

    public LoraLinear(String name, NDArray weight) {
        this.name = name;
        this.weight = weight;
    }

    /** The module's Hugging Face name, e.g. "model.layers.3.self_attn.q_proj" or "lm_head". */
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
    public NDArray forward(NDArray x, LoraContext ctx) {
        NDArray h = x.matMul(weight.transpose());
        LoraWeights lora = ctx.adapter() == null ? null : ctx.adapter().weights(name);
        if (lora == null) {
            return h;
        }
        double dropout = ctx.adapter().config().dropout();
        NDArray xIn = ctx.training() && dropout > 0 ? Dropout.dropout(x, (float) dropout, true).singletonOrThrow() : x;
        NDArray u = xIn.matMul(lora.a().transpose());                        // [..., r]
        h = h.add(u.matMul(lora.b().transpose()).mul(ctx.adapter().scaleTensor()));
        return ctx.capture() == null ? h : ctx.capture().record(name, xIn, u, h);
    }
}
