package org.laplacelora.model.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.laplacelora.model.core.Autograd;

/**
 * Records, for every adapted module of one forward pass, what Kronecker-factored curvature and the
 * Jacobians of the answer logits need:
 *
 * <ul>
 *   <li>the LoRA input x [B, T, in] (the activation of LoRA-A),
 *   <li>u = A x [B, T, r] (the activation of LoRA-B),
 *   <li>a zero-valued probe added to the module output h [B, T, out]; after a backward pass its
 *       gradient is ∂f/∂h at every position, from which ∂f/∂A = scale · Σ_t (Bᵀ ∂f/∂h_t) x_tᵀ and
 *       ∂f/∂B = scale · Σ_t ∂f/∂h_t u_tᵀ follow per example.
 * </ul>
 *
 * The forward pass must run inside a {@code GradientCollector} for the probes to receive gradients.
 */
public final class LoraCapture implements AutoCloseable {
    /** What one module recorded. */
    public record Record(NDArray input, NDArray down, NDArray probe) {
        /** ∂f/∂h [B, T, out] accumulated by the backward passes since the last {@link #zeroGradients}. */
        public NDArray outputGradient() {
            return probe.getGradient();
        }
    }

    private final NDManager manager;
    private final Map<String, Record> records = new LinkedHashMap<>();

    public LoraCapture(NDManager parent) {
        this.manager = parent.newSubManager();
    }

    NDArray record(String module, NDArray x, NDArray u, NDArray h) {
        if (records.containsKey(module)) {
            throw new IllegalStateException("module " + module + " ran twice in one captured forward pass");
        }
        NDArray input = keep(x.stopGradient());
        NDArray down = keep(u.stopGradient());
        NDArray probe = keep(manager.zeros(h.getShape(), h.getDataType(), h.getDevice()));
        probe.setRequiresGradient(true);
        records.put(module, new Record(input, down, probe));
        return h.add(probe);
    }

    private NDArray keep(NDArray a) {
        NDScope.unregister(a);
        a.attach(manager);
        return a;
    }

    /** Records in forward order, keyed by module name. */
    public Map<String, Record> records() {
        return Collections.unmodifiableMap(records);
    }

    public Record record(String module) {
        Record r = records.get(module);
        if (r == null) {
            throw new IllegalArgumentException("no capture for module " + module);
        }
        return r;
    }

    /** Clears the probes' gradients between vector-Jacobian products. */
    public void zeroGradients() {
        for (Record r : records.values()) {
            Autograd.zeroGradient(r.probe());
        }
    }

    /**
     * Per-example gradient of the back-propagated function w.r.t. the module's LoRA A, [B, r, in]:
     * scale · Σ_t (Bᵀ ∂f/∂h_t) x_tᵀ. Padding positions carry zero output gradient, so they add nothing.
     */
    public NDArray gradientA(NDManager out, String module, LoraAdapter adapter) {
        Record r = record(module);
        NDArray outputGradient = r.outputGradient();
        NDArray gA = outputGradient.matMul(adapter.weights(module).b()).mul(adapter.config().scale()); // [B, T, r]
        NDArray result = gA.swapAxes(1, 2).matMul(r.input());
        outputGradient.close();
        gA.close();
        result.attach(out);
        return result;
    }

    /** Per-example gradient w.r.t. the module's LoRA B, [B, out, r]: scale · Σ_t ∂f/∂h_t u_tᵀ. */
    public NDArray gradientB(NDManager out, String module, LoraAdapter adapter) {
        Record r = record(module);
        NDArray outputGradient = r.outputGradient();
        NDArray result = outputGradient.swapAxes(1, 2).matMul(r.down()).mul(adapter.config().scale());
        outputGradient.close();
        result.attach(out);
        return result;
    }

    /** The same, for the given output rows only, [B, rows, r] (the LM head's answer rows). */
    public NDArray gradientB(NDManager out, String module, LoraAdapter adapter, long[] rows) {
        Record r = record(module);
        NDArray outputGradient = r.outputGradient();
        NDArray selected = outputGradient.get(new ai.djl.ndarray.index.NDIndex(":, :, {}", manager.create(rows)));
        NDArray result = selected.swapAxes(1, 2).matMul(r.down()).mul(adapter.config().scale());
        outputGradient.close();
        selected.close();
        result.attach(out);
        return result;
    }

    @Override
    public void close() {
        manager.close();
    }
}
