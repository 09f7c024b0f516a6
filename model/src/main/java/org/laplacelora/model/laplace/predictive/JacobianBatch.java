package org.laplacelora.model.laplace.predictive;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.laplacelora.model.core.Tensors;
import org.laplacelora.model.llama.Llama;
import org.laplacelora.model.lora.CapturedForward;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.lora.LoraCapture;
import org.laplacelora.model.tasks.EncodedExample;

/**
 * A batch's MAP answer logits μ [B][C] and the per-example Jacobians of the C − 1 logit differences
 * z_k − z_{C−1} w.r.t. every LoRA block, each [B, K, gDim, aDim] float64 — from one captured forward pass
 * and K = C − 1 backward passes (softmax depends on logit differences only, so the K-th is not needed).
 */
public final class JacobianBatch implements AutoCloseable {
    private final NDManager manager;
    private final double[][] mu;
    private final Map<String, NDArray> blocks;

    JacobianBatch(NDManager manager, double[][] mu, Map<String, NDArray> blocks) {
        this.manager = manager;
        this.mu = mu;
        this.blocks = Collections.unmodifiableMap(blocks);
    }

    /** Back-propagates through the whole model: Jacobians of every adapted module's A and B. */
    public static JacobianBatch compute(Llama llama, LoraAdapter adapter, int[] answerIds, List<EncodedExample> batch,
                                        int padId, NDManager parent) {
        NDManager m = parent.newSubManager();
        try (CapturedForward f = new CapturedForward(llama, adapter, answerIds, batch, padId, parent)) {
            double[][] z = f.answerLogits();
            int b = z.length;
            int classes = answerIds.length;
            int k = classes - 1;
            Map<String, NDArray[]> perDirection = new LinkedHashMap<>();
            long[] answerRows = Tensors.toLongs(answerIds);
            for (int d = 0; d < k; d++) {
                double[][] cot = new double[b][classes];
                for (int i = 0; i < b; i++) {
                    cot[i][d] = 1;
                    cot[i][k] = -1;
                }
                f.backward(cot, d + 1 < k);
                LoraCapture capture = f.capture();
                for (String module : adapter.modules().keySet()) {
                    NDArray jA = capture.gradientA(m, module, adapter).toType(DataType.FLOAT64, false);      // [B, r, in]
                    NDArray jB = module.equals(Llama.LM_HEAD)
                            ? capture.gradientB(m, module, adapter, answerRows)
                            : capture.gradientB(m, module, adapter);
                    jB = jB.toType(DataType.FLOAT64, false);                                             // [B, out, r]
                    perDirection.computeIfAbsent(module + ".A", x -> new NDArray[k])[d] = jA;
                    perDirection.computeIfAbsent(module + ".B", x -> new NDArray[k])[d] = jB;
                }
            }
            Map<String, NDArray> blocks = new LinkedHashMap<>();
            perDirection.forEach((name, arrays) -> {
                blocks.put(name, NDArrays.stack(new NDList(arrays), 1));                              // [B, K, g, a]
            });
            return new JacobianBatch(m, z, blocks);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    static JacobianBatch of(NDManager manager, double[][] mu, Map<String, NDArray> blocks) {
        return new JacobianBatch(manager, mu, blocks);
    }

    public int size() {
        return mu.length;
    }

    /** The MAP answer logits μ_n (the linearised predictive's mean). */
    public double[][] mu() {
        return mu;
    }

    /** Block name → [B, K, gDim, aDim] float64. */
    public Map<String, NDArray> blocks() {
        return blocks;
    }

    @Override
    public void close() {
        manager.close();
    }
}
