package org.laplacelora.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.List;
import org.laplacelora.model.core.Autograd;

/**
 * AdamW exactly as torch.optim.AdamW updates (decoupled weight decay, bias-corrected moments):
 * p ← p(1 − lr·wd); m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; p ← p − (lr/(1−β₁ᵗ)) · m / (√v/√(1−β₂ᵗ) + ε).
 */
public final class AdamW implements AutoCloseable {
    private final List<NDArray> parameters;
    private final NDManager state;
    private final NDArray[] m;
    private final NDArray[] v;
    private final double beta1 = 0.9;
    private final double beta2 = 0.999;
    private final double eps = 1e-8;
    private final double weightDecay;
    private int step;

    public AdamW(List<NDArray> parameters, double weightDecay, NDManager parent) {
        this.parameters = List.copyOf(parameters);
        this.weightDecay = weightDecay;
        this.state = parent.newSubManager();
        this.m = new NDArray[parameters.size()];
        this.v = new NDArray[parameters.size()];
        for (int i = 0; i < m.length; i++) {
            m[i] = state.zeros(parameters.get(i).getShape(), parameters.get(i).getDataType(), parameters.get(i).getDevice());
            v[i] = state.zeros(parameters.get(i).getShape(), parameters.get(i).getDataType(), parameters.get(i).getDevice());
        }
    }

    /** One update with learning rate {@code lr} from the parameters' accumulated gradients, which it then clears. */
    public void step(double lr) {
        Autograd.withoutGraph(() -> update(lr));
    }

    private void update(double lr) {
        step++;
        double bias1 = 1 - Math.pow(beta1, step);
        double bias2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
        // Every temporary is closed with the scope: an op's result belongs to its first operand's manager, which for
        // m, v and the parameters is long-lived (pre-training a whole model leaked ~30 MB a step before this).
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            for (int i = 0; i < parameters.size(); i++) {
                NDArray p = parameters.get(i);
                NDArray g = p.getGradient();
                if (weightDecay != 0) {
                    p.muli(1 - lr * weightDecay);
                }
                m[i].muli(beta1).addi(g.mul(1 - beta1));
                v[i].muli(beta2).addi(g.square().mul(1 - beta2));
                NDArray denom = v[i].sqrt().div(bias2Sqrt).add(eps);
                p.subi(m[i].div(denom).mul(lr / bias1));
                Autograd.zeroGradient(p);
            }
        }
    }

    public int steps() {
        return step;
    }

    @Override
    public void close() {
        state.close();
    }
}
