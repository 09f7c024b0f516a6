package org.laplacelora.model.refit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import org.laplacelora.model.core.Tensors;
import org.laplacelora.model.laplace.curvature.LoraBlock;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.posterior.PosteriorBlock;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.lora.LoraWeights;
import org.laplacelora.model.train.MapTrainer;

/**
 * The prior of an online Laplace update, N(θ_prev, (τ_f Λ_prev)⁻¹) with Λ_prev = τ·blockdiag(G ⊗ A) + λI the
 * current posterior's precision, as the penalty ½ τ_f (θ − θ_prev)ᵀ Λ_prev (θ − θ_prev). Per block, with
 * Δ = W − W_prev (row-major vec, A and G symmetric): vec(Δ)ᵀ (G ⊗ A) vec(Δ) = Σ_ij γ_i α_j (Q_Gᵀ Δ Q_A)_ij², so Λ
 * is never formed (reference notes §2.8). Where a factor is kept at low rank the rest of its space has
 * curvature 0, as in the predictive. The LM head's B counts its answer rows only: the posterior covers those.
 */
public final class KfacPenalty implements MapTrainer.Prior, AutoCloseable {
    /**
     * One LoRA matrix's term.
     *
     * @param previous W_prev [gDim, aDim] (the head's B: its answer rows)
     * @param qg Q_G [gDim, kG]
     * @param qa Q_A [aDim, kA]
     * @param weights τ_f·τ·γ_i·α_j [kG, kA]
     * @param lambda τ_f·λ of the block's module
     */
    private record Term(LoraBlock block, NDArray previous, NDArray qg, NDArray qa, NDArray weights, double lambda) {}

    private final NDManager manager;
    private final List<Term> terms = new ArrayList<>();
    private final NDArray answerRows;
    private final double forgetting;

    /**
     * @param previous the current posterior's mean θ_prev (the adapter it was fitted on)
     * @param forgetting τ_f ∈ (0, 1]: 1 is exact sequential Bayes, smaller lets the mode move further
     */
    public KfacPenalty(LaplacePosterior posterior, LoraAdapter previous, double forgetting, NDManager parent) {
        if (!(forgetting > 0 && forgetting <= 1)) {
            throw new IllegalArgumentException("the forgetting factor τ_f must be in (0, 1], got " + forgetting);
        }
        this.forgetting = forgetting;
        this.manager = parent.newSubManager();
        this.answerRows = manager.create(Tensors.toLongs(posterior.info().answerIds()));
        double tau = posterior.prior().tau();
        for (PosteriorBlock b : posterior.blocks()) {
            LoraBlock block = b.block();
            double[] w = new double[b.keptPairs()];
            int ka = b.a().rank();
            for (int i = 0; i < b.g().rank(); i++) {
                for (int j = 0; j < ka; j++) {
                    w[i * ka + j] = forgetting * tau * b.g().values()[i] * b.a().values()[j];
                }
            }
            NDArray prev = matrix(previous, block, manager).duplicate();
            prev.attach(manager);
            DataType type = prev.getDataType();
            terms.add(new Term(block, prev, b.qg(manager).toType(type, false), b.qa(manager).toType(type, false),
                    manager.create(w, new Shape(b.g().rank(), ka)).toType(type, false),
                    forgetting * posterior.prior().lambda(block.module())));
        }
    }

    public double forgetting() {
        return forgetting;
    }

    /** ½ Σ_blocks [Σ_ij w_ij (Q_Gᵀ Δ Q_A)_ij² + τ_f λ ‖Δ‖²], differentiable in the adapter's weights. */
    @Override
    public NDArray penalty(LoraAdapter adapter, NDManager scope) {
        NDArray total = null;
        for (Term t : terms) {
            // An op's result belongs to its first operand's manager: start every product from Δ, held by scope.
            NDArray delta = matrix(adapter, t.block(), scope).sub(t.previous());
            delta.attach(scope);
            NDArray rotated = delta.transpose().matMul(t.qg()).transpose().matMul(t.qa());   // Q_Gᵀ Δ Q_A [kG, kA]
            NDArray term = rotated.square().mul(t.weights()).sum().add(Tensors.times(delta.square().sum(), t.lambda()));
            total = total == null ? term : total.add(term);
        }
        return Tensors.times(total, 0.5);
    }

    /** The block's weight matrix in the adapter: A [r, in], B [out, r] (the head's: its answer rows). */
    private NDArray matrix(LoraAdapter adapter, LoraBlock block, NDManager scope) {
        LoraWeights w = adapter.weights(block.module());
        if (w == null) {
            throw new IllegalArgumentException("the adapter has no module " + block.module() + " of the posterior");
        }
        if (block.which() == 'A') {
            return w.a();
        }
        return block.isHead() ? w.b().get(scope, new NDIndex("{}", answerRows)) : w.b();
    }

    @Override
    public void close() {
        manager.close();
    }
}
