package org.laplacelora.model.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.List;
import org.laplacelora.model.core.Autograd;
import org.laplacelora.model.core.Tensors;
import org.laplacelora.model.llama.Llama;
import org.laplacelora.model.llama.TokenBatch;
import org.laplacelora.model.tasks.EncodedExample;

/**
 * One forward pass of the answer classifier (z = logits[last, answer ids], [B, C]) with every LoRA
 * module captured, and backward passes of cotangents on z that leave ∂(cᵀz)/∂(module output) at every
 * position in the capture's probes. Curvature and Jacobians are both built on this.
 */
public final class CapturedForward implements AutoCloseable {
    private final NDManager scope;
    private final GradientCollector collector;
    private final LoraCapture capture;
    private final NDArray z;
    private final TokenBatch batch;
    private final double[][] logits;

    public CapturedForward(Llama llama, LoraAdapter adapter, int[] answerIds, List<EncodedExample> examples, int padId,
                    NDManager parent) {
        this.scope = parent.newSubManager();
        this.collector = Autograd.collector();
        this.capture = new LoraCapture(scope);
        this.batch = TokenBatch.leftPadded(examples.stream().map(EncodedExample::tokens).toList(), padId);
        NDArray all = llama.lastLogits(scope, batch, LoraContext.capturing(adapter, capture));
        this.z = all.get(new NDIndex(":, {}", scope.create(Tensors.toLongs(answerIds))));
        this.logits = Tensors.rows(z);
    }

    public NDManager scope() {
        return scope;
    }

    public LoraCapture capture() {
        return capture;
    }

    public TokenBatch batch() {
        return batch;
    }

    /** The answer logits [B][C] (the MAP logits μ). */
    public double[][] answerLogits() {
        return logits;
    }

    /** Back-propagates Σ_n cotangent[n]ᵀ z_n; the probes then hold its output gradients (earlier ones cleared). */
    public void backward(double[][] cotangent, boolean anotherFollows) {
        capture.zeroGradients();
        int b = cotangent.length;
        int c = cotangent[0].length;
        double[] flat = new double[b * c];
        for (int i = 0; i < b; i++) {
            System.arraycopy(cotangent[i], 0, flat, i * c, c);
        }
        NDArray cot = scope.create(flat, new Shape(b, c)).toType(z.getDataType(), false);
        Autograd.vjp(z, cot, anotherFollows);
    }

    @Override
    public void close() {
        collector.close();
        capture.close();
        scope.close();
    }
}
