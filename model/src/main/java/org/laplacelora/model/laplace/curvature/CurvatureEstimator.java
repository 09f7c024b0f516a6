package org.laplacelora.model.laplace.curvature;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.laplacelora.model.core.Categorical;
import org.laplacelora.model.core.Linalg;
import org.laplacelora.model.core.Tensors;
import org.laplacelora.model.llama.Llama;
import org.laplacelora.model.lora.CapturedForward;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.lora.LoraCapture;
import org.laplacelora.model.lora.LoraWeights;
import org.laplacelora.model.tasks.EncodedExample;

/**
 * Accumulates K-FAC curvature of the LoRA matrices over batches of training examples, in eval mode (no
 * dropout), for several conventions from the same forward and backward passes.
 *
 * <p>Fisher directions: for softmax cross-entropy the GGN is Σ_n J_nᵀ Λ_n J_n with Λ = diag(p) − ppᵀ,
 * which has rank C − 1. Written over the logit differences to the last class, Λ = Dᵀ Λ_d D with
 * Λ_d = diag(p') − p'p'ᵀ (p' = the first C − 1 probabilities), so the columns of any square root of Λ_d
 * lifted by Dᵀ give C − 1 backward passes whose outer products sum to the exact Fisher.
 */
public final class CurvatureEstimator {
    private final Llama llama;
    private final LoraAdapter adapter;
    private final int[] answerIds;
    private final FisherType fisher;
    private final Random random;
    private final Map<CurvatureConvention, Curvature> curvatures = new EnumMap<>(CurvatureConvention.class);
    private final List<LoraBlock> layout;

    public CurvatureEstimator(Llama llama, LoraAdapter adapter, int[] answerIds, Set<CurvatureConvention> conventions,
                              FisherType fisher, int sketchRank, long seed) {
        this.llama = llama;
        this.adapter = adapter;
        this.answerIds = answerIds.clone();
        this.fisher = fisher;
        this.random = new Random(seed);
        this.layout = layout(adapter, answerIds.length);
        for (CurvatureConvention c : conventions) {
            curvatures.put(c, new Curvature(c, fisher, sketchRank, layout));
        }
    }

    /** The posterior's blocks: A then B of every adapted module; the head's B restricted to the C answer rows. */
    public static List<LoraBlock> layout(LoraAdapter adapter, int classes) {
        List<LoraBlock> blocks = new ArrayList<>();
        adapter.modules().forEach((module, w) -> {
            int r = (int) w.rank();
            int in = (int) w.a().getShape().get(1);
            int out = module.equals(Llama.LM_HEAD) ? classes : (int) w.b().getShape().get(0);
            blocks.add(new LoraBlock(module, 'A', r, in));
            blocks.add(new LoraBlock(module, 'B', out, r));
        });
        return blocks;
    }

    /**
     * Adds one batch. The Fisher takes expectations under the model, so labels are not used for the
     * curvature; the return value is the batch's log-likelihood Σ log p(y | x) at θ* (labelled examples only).
     */
    public double add(List<EncodedExample> batch, int padId, NDManager manager) {
        try (CapturedForward f = new CapturedForward(llama, adapter, answerIds, batch, padId, manager)) {
            double logLikelihood = 0;
            for (int i = 0; i < batch.size(); i++) {
                if (batch.get(i).label() >= 0) {
                    logLikelihood += Math.log(Categorical.softmax(f.answerLogits()[i])[batch.get(i).label()]);
                }
            }
            List<double[][]> cotangents = fisherDirections(f.answerLogits());
            NDManager s = f.scope();
            int b = batch.size();
            int t = f.batch().length();
            NDArray mask = f.batch().mask(s).toType(DataType.FLOAT64, false).expandDims(2);       // [B, T, 1]
            double[] lengths = new double[b];
            double totalTokens = 0;
            for (int i = 0; i < b; i++) {
                lengths[i] = f.batch().realLength(i);
                totalTokens += lengths[i];
            }
            NDArray realLengths = s.create(lengths, new Shape(b, 1));
            NDArray headMask = s.ones(new Shape(b, 1, 1), DataType.FLOAT64);
            NDArray headLengths = s.ones(new Shape(b, 1), DataType.FLOAT64);
            LoraCapture capture = f.capture();
            // Activations: independent of the direction.
            for (String module : adapter.modules().keySet()) {
                LoraCapture.Record rec = capture.record(module);
                boolean head = rec.input().getShape().get(1) == 1 && t > 1 || module.equals(Llama.LM_HEAD);
                NDArray m = head ? headMask : mask;
                NDArray lens = head ? headLengths : realLengths;
                double tokens = head ? b : totalTokens;
                NDArray x = rec.input().toType(DataType.FLOAT64, false);
                NDArray u = rec.down().toType(DataType.FLOAT64, false);
                for (Curvature c : curvatures.values()) {
                    KfacFactors fa = c.block(module + ".A");
                    KfacFactors fb = c.block(module + ".B");
                    addRows(fa.a(), activations(x, m, lens, c.convention()));
                    addRows(fb.a(), activations(u, m, lens, c.convention()));
                    double count = c.convention() == CurvatureConvention.EXPAND ? tokens : b;
                    fa.countActivations(count);
                    fb.countActivations(count);
                }
            }
            for (int d = 0; d < cotangents.size(); d++) {
                f.backward(cotangents.get(d), d + 1 < cotangents.size());
                for (Map.Entry<String, LoraWeights> e : adapter.modules().entrySet()) {
                    String module = e.getKey();
                    LoraCapture.Record rec = capture.record(module);
                    boolean head = module.equals(Llama.LM_HEAD);
                    NDArray gh = rec.outputGradient().toType(DataType.FLOAT64, false);
                    NDArray scale = s.create(adapter.config().scale());
                    NDArray gA = gh.matMul(e.getValue().b().toType(DataType.FLOAT64, false)).mul(scale);   // [B, T, r]
                    NDArray gB = (head ? gh.get(new NDIndex(":, :, {}", s.create(Tensors.toLongs(answerIds)))) : gh)
                            .mul(scale);                                                                    // [B, T, out]
                    for (Curvature c : curvatures.values()) {
                        addRows(c.block(module + ".A").g(), gradients(gA, c.convention()));
                        addRows(c.block(module + ".B").g(), gradients(gB, c.convention()));
                    }
                }
            }
            for (Curvature c : curvatures.values()) {
                c.countExamples(b);
            }
            return logLikelihood;
        }
    }

    /** The cotangents to back-propagate: C − 1 square-root directions of Λ (exact) or p − e_ŷ (sampled). */
    List<double[][]> fisherDirections(double[][] z) {
        int b = z.length;
        int classes = z[0].length;
        double[][] p = new double[b][];
        for (int i = 0; i < b; i++) {
            p[i] = Categorical.softmax(z[i]);
        }
        List<double[][]> out = new ArrayList<>();
        if (fisher == FisherType.SAMPLED) {
            double[][] cot = new double[b][classes];
            for (int i = 0; i < b; i++) {
                int y = Categorical.sample(p[i], random);
                for (int c = 0; c < classes; c++) {
                    cot[i][c] = p[i][c] - (c == y ? 1 : 0);
                }
            }
            out.add(cot);
            return out;
        }
        int k = classes - 1;
        double[][] roots = new double[b][];
        for (int i = 0; i < b; i++) {
            roots[i] = differenceFisherRoot(p[i]);
        }
        for (int j = 0; j < k; j++) {
            double[][] cot = new double[b][classes];
            for (int i = 0; i < b; i++) {
                double sum = 0;
                for (int c = 0; c < k; c++) {
                    cot[i][c] = roots[i][c * k + j];
                    sum += roots[i][c * k + j];
                }
                cot[i][k] = -sum;
            }
            out.add(cot);
        }
        return out;
    }

    /** L with L Lᵀ = diag(p') − p'p'ᵀ, K × K row-major. */
    static double[] differenceFisherRoot(double[] p) {
        int k = p.length - 1;
        double[] lambda = new double[k * k];
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                lambda[i * k + j] = (i == j ? p[i] : 0) - p[i] * p[j];
            }
        }
        return Linalg.psdSquareRoot(lambda, k);
    }

    /** Rows of activations for one convention: [R, d]. */
    private static NDArray activations(NDArray v, NDArray mask, NDArray lengths, CurvatureConvention c) {
        long d = v.getShape().get(2);
        return switch (c) {
            case PAPER -> v.reshape(-1, d);                        // padding included, as the paper's code does
            case EXPAND -> v.mul(mask).reshape(-1, d);             // padding rows become zero: they add nothing
            case REDUCE -> v.mul(mask).sum(new int[] {1}).div(lengths);
            case LAST -> v.get(":, -1, :");
        };
    }

    /** Rows of output gradients for one convention (padding positions have zero gradient). */
    private static NDArray gradients(NDArray g, CurvatureConvention c) {
        long d = g.getShape().get(2);
        return switch (c) {
            case PAPER, EXPAND -> g.reshape(-1, d);
            case REDUCE -> g.sum(new int[] {1});
            case LAST -> g.get(":, -1, :");
        };
    }

    private static void addRows(KronFactor factor, NDArray rows) {
        if (factor instanceof ExactFactor exact) {
            exact.addGram(rows.transpose().matMul(rows).toDoubleArray());
        } else {
            factor.add(rows.toDoubleArray(), (int) rows.getShape().get(0));
        }
    }

    public Curvature result(CurvatureConvention convention) {
        Curvature c = curvatures.get(convention);
        if (c == null) {
            throw new IllegalArgumentException("convention " + convention + " was not estimated");
        }
        return c;
    }

    public List<LoraBlock> layout() {
        return layout;
    }
}
