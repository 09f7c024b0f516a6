package org.laplacelora.model.laplace.predictive;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.laplacelora.model.core.Tensors;
import org.laplacelora.model.llama.Llama;
import org.laplacelora.model.llama.TokenBatch;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.lora.LoraContext;
import org.laplacelora.model.lora.LoraWeights;
import org.laplacelora.model.tasks.EncodedExample;

/**
 * Jacobians of the answer-logit differences w.r.t. the LM head's LoRA alone, in closed form from the
 * last hidden state h — no backward pass: last-layer Laplace is a forward pass plus small products.
 *
 * <p>With u = A h and s = alpha/r, z_c = W_c·h + s B_c·u, so for the difference z_k − z_ref:
 * ∂/∂A = s (B_k − B_ref) hᵀ (r × d), and ∂/∂B has row k = s u, row ref = −s u, others 0 (C × r).
 */
public final class LastLayerJacobians {
    private LastLayerJacobians() {}

    public static JacobianBatch compute(Llama llama, LoraAdapter adapter, int[] answerIds, List<EncodedExample> batch,
                                        int padId, NDManager parent) {
        LoraWeights head = adapter.weights(Llama.LM_HEAD);
        if (head == null) {
            throw new IllegalArgumentException("last-layer Laplace needs a LoRA on lm_head; the adapter has none");
        }
        NDManager m = parent.newSubManager();
        try {
            TokenBatch tokens = TokenBatch.leftPadded(batch.stream().map(EncodedExample::tokens).toList(), padId);
            NDArray h = llama.lastHidden(m, tokens, LoraContext.eval(adapter)).toType(DataType.FLOAT64, false);  // [N, d]
            NDArray rows = m.create(Tensors.toLongs(answerIds));
            NDArray w = llama.lmHead().weight().get(m, new NDIndex("{}", rows)).toType(DataType.FLOAT64, false); // [C, d]
            NDArray a = head.a().toType(DataType.FLOAT64, false);                                              // [r, d]
            NDArray b = head.b().get(m, new NDIndex("{}", rows)).toType(DataType.FLOAT64, false);             // [C, r]
            double s = adapter.config().scale();
            NDArray u = h.matMul(a.transpose());                                                               // [N, r]
            NDArray z = h.matMul(w.transpose()).add(u.matMul(b.transpose()).mul(s));                           // [N, C]
            int n = batch.size();
            int c = answerIds.length;
            int k = c - 1;
            NDArray bRef = b.get(k);
            NDArray[] ja = new NDArray[k];
            NDArray[] jb = new NDArray[k];
            for (int d = 0; d < k; d++) {
                NDArray diff = b.get(d).sub(bRef).mul(s);                                                     // [r]
                ja[d] = diff.reshape(1, -1, 1).mul(h.expandDims(1));                                          // [N, r, dim]
                NDArray sel = m.zeros(new Shape(c), DataType.FLOAT64);
                sel.set(new NDIndex(d), 1.0);
                sel.set(new NDIndex(k), -1.0);
                jb[d] = sel.reshape(1, c, 1).mul(u.mul(s).expandDims(1));                                     // [N, C, r]
            }
            Map<String, NDArray> blocks = new LinkedHashMap<>();
            blocks.put(Llama.LM_HEAD + ".A", NDArrays.stack(new NDList(ja), 1));
            blocks.put(Llama.LM_HEAD + ".B", NDArrays.stack(new NDList(jb), 1));
            blocks.values().forEach(x -> x.attach(m));
            return JacobianBatch.of(m, Tensors.rows(z), blocks);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }
}
