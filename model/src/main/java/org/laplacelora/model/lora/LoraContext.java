package org.laplacelora.model.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.norm.Dropout;
import org.laplacelora.model.llama.Adaptation;
import org.laplacelora.model.llama.Linear;

/**
 * How one forward pass treats the LoRA branches, {@code h = W0 x + scale · B (A drop(x))}: which adapter,
 * whether dropout is active (training only), and where to record the activations and output gradients that
 * curvature and Jacobians need. A is [r, in], B [out, r].
 */
public record LoraContext(LoraAdapter adapter, boolean training, LoraCapture capture) implements Adaptation {
    public static LoraContext eval(LoraAdapter adapter) {
        return new LoraContext(adapter, false, null);
    }

    public static LoraContext train(LoraAdapter adapter) {
        return new LoraContext(adapter, true, null);
    }

    public static LoraContext capturing(LoraAdapter adapter, LoraCapture capture) {
        return new LoraContext(adapter, false, capture);
    }

    @Override
    public NDArray adapt(Linear linear, NDArray x, NDArray h) {
        LoraWeights lora = adapter.weights(linear.name());
        if (lora == null) {
            return h;
        }
        double dropout = adapter.config().dropout();
        NDArray xIn = training && dropout > 0 ? Dropout.dropout(x, (float) dropout, true).singletonOrThrow() : x;
        NDArray u = xIn.matMul(lora.a().transpose());                        // [..., r]
        NDArray adapted = h.add(u.matMul(lora.b().transpose()).mul(adapter.scaleTensor()));
        return capture == null ? adapted : capture.record(linear.name(), xIn, u, adapted);
    }
}
