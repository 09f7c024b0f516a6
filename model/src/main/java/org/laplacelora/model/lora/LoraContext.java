package org.laplacelora.model.lora;

/**
 * How one forward pass treats the LoRA branches: which adapter (none = the base model), whether
 * dropout is active (training only), and where to record the activations and output gradients that
 * curvature and Jacobians need.
 */
public record LoraContext(LoraAdapter adapter, boolean training, LoraCapture capture) {
    public static LoraContext base() {
        return new LoraContext(null, false, null);
    }

    public static LoraContext eval(LoraAdapter adapter) {
        return new LoraContext(adapter, false, null);
    }

    public static LoraContext train(LoraAdapter adapter) {
        return new LoraContext(adapter, true, null);
    }

    public static LoraContext capturing(LoraAdapter adapter, LoraCapture capture) {
        return new LoraContext(adapter, false, capture);
    }
}
