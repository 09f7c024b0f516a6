package org.laplacelora.model.llama;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.laplacelora.model.core.CheckpointException;

/**
 * A LLaMA-family causal LM on DJL NDArrays, float32: token embedding, then per layer
 * RMSNorm → grouped-query attention with rotary positions and a causal mask → residual,
 * RMSNorm → SwiGLU MLP → residual; a final RMSNorm and the LM head.
 *
 * <p>Weights use Hugging Face names and layouts (rotary in {@code rotate_half} order); the llama2.c
 * loader permutes its interleaved q/k rows into that order, so one attention implementation and one
 * adapter layout serve both checkpoint formats.
 *
 * <p>Batches are left-padded ({@link TokenBatch}): position T-1 is every row's last real token.
 */
public final class Llama implements AutoCloseable {
    /** The output projection's module name (Hugging Face's), which adapters and posteriors refer to it by. */
    public static final String LM_HEAD = "lm_head";
    private static final float MASKED = -1e9f; // finite, so an all-padding query row stays NaN-free

    /** One decoder layer's weights. */
    public record Layer(NDArray attentionNorm, Linear q, Linear k, Linear v, Linear o,
                        NDArray mlpNorm, Linear gate, Linear up, Linear down) {
        List<Linear> linears() {
            return List.of(q, k, v, o, gate, up, down);
        }
    }

    private final LlamaConfig config;
    private final String identity;
    private final NDManager manager;
    private final List<Object> backing;
    private final NDArray tokenEmbedding;   // [V, d]
    private final List<Layer> layers;
    private final NDArray finalNorm;        // [d]
    private final Linear lmHead;            // [V, d]
    private final NDArray ropeCos;          // [maxPositions, headDim]
    private final NDArray ropeSin;          // [maxPositions, headDim]
    private final Map<String, Linear> linears;
    // 0-d constants: DJL's scalar-operand overloads cost four times a tensor operand.
    private final NDArray rmsEps;
    private final NDArray minusHalf;
    private final NDArray attentionScale;

    private Llama(LlamaConfig config, String identity, NDManager manager, List<Object> backing, NDArray tokenEmbedding,
                  List<Layer> layers, NDArray finalNorm, Linear lmHead) {
        this.config = config;
        this.identity = identity;
        this.manager = manager;
        this.backing = backing;
        this.tokenEmbedding = tokenEmbedding;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
        NDArray[] rope = rotaryTables(manager, config, tokenEmbedding.getDataType());
        this.ropeCos = rope[0];
        this.ropeSin = rope[1];
        Map<String, Linear> byName = new LinkedHashMap<>();
        for (Layer l : layers) {
            l.linears().forEach(m -> byName.put(m.name(), m));
        }
        byName.put(lmHead.name(), lmHead);
        this.linears = Collections.unmodifiableMap(byName);
        DataType type = tokenEmbedding.getDataType();
        this.rmsEps = manager.create(config.rmsNormEps()).toType(type, false);
        this.minusHalf = manager.create(-0.5).toType(type, false);
        this.attentionScale = manager.create(1 / Math.sqrt(config.headDim())).toType(type, false);
    }

    /**
     * Builds the model from Hugging Face-named float32 weights, checking every name and shape against
     * the config. {@code lm_head.weight} may be absent when the embeddings are tied.
     *
     * @param source what the weights came from, for error messages
     * @param backing objects whose memory the weights use (memory-mapped files); kept alive with the model
     */
    public static Llama fromWeights(LlamaConfig c, Map<String, NDArray> w, NDManager manager, String source,
                                    String identity, List<Object> backing) throws CheckpointException {
        Shapes s = new Shapes(w, source);
        long d = c.hiddenSize();
        NDArray embedding = s.take("model.embed_tokens.weight", c.vocabSize(), d);
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            layers.add(new Layer(
                    s.take(p + "input_layernorm.weight", d),
                    s.linear(p + "self_attn.q_proj", c.queryDim(), d),
                    s.linear(p + "self_attn.k_proj", c.kvDim(), d),
                    s.linear(p + "self_attn.v_proj", c.kvDim(), d),
                    s.linear(p + "self_attn.o_proj", d, c.queryDim()),
                    s.take(p + "post_attention_layernorm.weight", d),
                    s.linear(p + "mlp.gate_proj", c.intermediateSize(), d),
                    s.linear(p + "mlp.up_proj", c.intermediateSize(), d),
                    s.linear(p + "mlp.down_proj", d, c.intermediateSize())));
        }
        NDArray norm = s.take("model.norm.weight", d);
        Linear head = w.containsKey(LM_HEAD + ".weight") || !c.tieWordEmbeddings()
                ? s.linear(LM_HEAD, c.vocabSize(), d)
                : new Linear(LM_HEAD, embedding);
        s.requireAllUsed();
        return new Llama(c, identity, manager, new ArrayList<>(backing), embedding, List.copyOf(layers), norm, head);
    }

    /** Name and shape checks over a weight map, with messages that name the source and the tensor. */
    private static final class Shapes {
        private final Map<String, NDArray> weights;
        private final String source;
        private final List<String> used = new ArrayList<>();

        Shapes(Map<String, NDArray> weights, String source) {
            this.weights = weights;
            this.source = source;
        }

        NDArray take(String name, long... shape) throws CheckpointException {
            NDArray a = weights.get(name);
            if (a == null) {
                throw new CheckpointException(source + ": missing tensor " + name);
            }
            if (!Arrays.equals(a.getShape().getShape(), shape)) {
                throw new CheckpointException(source + ": tensor " + name + " has shape " + a.getShape()
                        + ", but the config implies " + new Shape(shape));
            }
            used.add(name);
            return a;
        }

        Linear linear(String module, long out, long in) throws CheckpointException {
            return new Linear(module, take(module + ".weight", out, in));
        }

        void requireAllUsed() throws CheckpointException {
            List<String> extra = new ArrayList<>(weights.keySet());
            extra.removeAll(used);
            extra.remove(LM_HEAD + ".weight"); // tied and stored anyway
            extra.removeIf(n -> n.endsWith("rotary_emb.inv_freq"));
            if (!extra.isEmpty()) {
                Collections.sort(extra);
                throw new CheckpointException(source + ": unexpected tensors for a LLaMA model with this config: "
                        + extra.subList(0, Math.min(5, extra.size())) + (extra.size() > 5 ? " ..." : ""));
            }
        }
    }

    /** cos/sin of pos · θ^(-2i/headDim), both halves equal (rotate_half layout), computed in double. */
    private static NDArray[] rotaryTables(NDManager m, LlamaConfig c, DataType type) {
        int half = c.headDim() / 2;
        double[] cos = new double[c.maxPositions() * c.headDim()];
        double[] sin = new double[cos.length];
        for (int p = 0; p < c.maxPositions(); p++) {
            for (int i = 0; i < half; i++) {
                double angle = p * Math.pow(c.ropeTheta(), -2.0 * i / c.headDim());
                int at = p * c.headDim() + i;
                cos[at] = cos[at + half] = Math.cos(angle);
                sin[at] = sin[at + half] = Math.sin(angle);
            }
        }
        Shape shape = new Shape(c.maxPositions(), c.headDim());
        return new NDArray[] {m.create(cos, shape).toType(type, false), m.create(sin, shape).toType(type, false)};
    }

    public LlamaConfig config() {
        return config;
    }

    /** Where the weights came from, with a digest (for adapter and posterior metadata). */
    public String identity() {
        return identity;
    }

    public Device device() {
        return tokenEmbedding.getDevice();
    }

    /** FLOAT32 for serving; FLOAT64 only for verification (finite differences, exactness checks). */
    public DataType dataType() {
        return tokenEmbedding.getDataType();
    }

    /**
     * A copy of this model computing in another float type. Float64 turns float32 rounding noise
     * (about 1e-6 relative) into about 1e-15, which makes exactness and finite-difference checks sharp.
     */
    public Llama withDataType(DataType type) {
        NDManager m = NDManager.newBaseManager(device());
        Map<String, NDArray> w = new LinkedHashMap<>();
        w.put("model.embed_tokens.weight", tokenEmbedding.toType(type, true));
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            String p = "model.layers." + i + ".";
            w.put(p + "input_layernorm.weight", l.attentionNorm().toType(type, true));
            w.put(p + "post_attention_layernorm.weight", l.mlpNorm().toType(type, true));
            for (Linear linear : l.linears()) {
                w.put(linear.name() + ".weight", linear.weight().toType(type, true));
            }
        }
        w.put("model.norm.weight", finalNorm.toType(type, true));
        if (lmHead.weight() != tokenEmbedding) {
            w.put(LM_HEAD + ".weight", lmHead.weight().toType(type, true));
        }
        w.values().forEach(a -> a.attach(m));
        try {
            return fromWeights(config, w, m, identity, identity, List.of());
        } catch (CheckpointException e) {
            throw new IllegalStateException(e);
        }
    }

    public List<Layer> layers() {
        return layers;
    }

    public Linear lmHead() {
        return lmHead;
    }

    public NDArray finalNorm() {
        return finalNorm;
    }

    /** Every weight by its Hugging Face name, in checkpoint order; the LM head only when it is not tied to the embedding. */
    public Map<String, NDArray> weights() {
        Map<String, NDArray> w = new LinkedHashMap<>();
        w.put("model.embed_tokens.weight", tokenEmbedding);
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            String p = "model.layers." + i + ".";
            w.put(p + "input_layernorm.weight", l.attentionNorm());
            w.put(p + "post_attention_layernorm.weight", l.mlpNorm());
            l.linears().forEach(m -> w.put(m.name() + ".weight", m.weight()));
        }
        w.put("model.norm.weight", finalNorm);
        if (lmHead.weight() != tokenEmbedding) {
            w.put(LM_HEAD + ".weight", lmHead.weight());
        }
        return w;
    }

    /** Every linear map that can carry LoRA, by Hugging Face module name, in forward order. */
    public Map<String, Linear> linears() {
        return linears;
    }

    // ------------------------------------------------------------------ forward

    /** Logits at every position, [B, T, V], attached to {@code out}. */
    public NDArray logits(NDManager out, TokenBatch batch, Adaptation adaptation) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray hidden = decode(batch, adaptation, null);
            return keep(out, lmHead.forward(hidden, adaptation));
        }
    }

    /** Logits of each row's last real token, [B, V], attached to {@code out}. */
    public NDArray lastLogits(NDManager out, TokenBatch batch, Adaptation adaptation) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray last = lastPosition(decode(batch, adaptation, null));            // [B, 1, d]
            return keep(out, lmHead.forward(last, adaptation).squeeze(1));
        }
    }

    /** Final-normed hidden state of each row's last real token, [B, d]: the LM head's input. */
    public NDArray lastHidden(NDManager out, TokenBatch batch, Adaptation adaptation) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            return keep(out, lastPosition(decode(batch, adaptation, null)).squeeze(1));
        }
    }

    /**
     * Feeds one unpadded sequence's next tokens through the cache and returns the logits of the last
     * one, [V]: each generated token costs one position, not the whole prefix.
     */
    public NDArray step(NDManager out, KvCache cache, int[] tokens, Adaptation adaptation) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            TokenBatch batch = TokenBatch.single(tokens);
            NDArray last = lastPosition(decode(batch, adaptation, cache));
            return keep(out, lmHead.forward(last, adaptation).reshape(-1));
        }
    }

    public KvCache newCache(NDManager parent) {
        return new KvCache(parent, config.numLayers());
    }

    private static NDArray keep(NDManager out, NDArray a) {
        NDScope.unregister(a);
        a.attach(out);
        return a;
    }

    private static NDArray lastPosition(NDArray hidden) {
        return hidden.get(":, -1:, :");
    }

    /** Runs the decoder stack: token ids [B, T] → final-normed hidden states [B, T, d]. */
    private NDArray decode(TokenBatch batch, Adaptation adaptation, KvCache cache) {
        int b = batch.batchSize();
        int t = batch.length();
        long offset = cache == null ? 0 : cache.length();
        if (offset + batch.maxPosition() >= config.maxPositions()) {
            throw new IllegalArgumentException("sequence of " + (offset + batch.maxPosition() + 1)
                    + " tokens is longer than the model's context of " + config.maxPositions());
        }
        NDArray positions = batch.positions(manager);
        if (offset > 0) {
            positions = positions.add(offset);
        }
        NDArray cos = ropeCos.get(new NDIndex("{}", positions)).expandDims(2);   // [B, T, 1, hs]
        NDArray sin = ropeSin.get(new NDIndex("{}", positions)).expandDims(2);
        NDArray mask = attentionMask(batch, offset);                               // [B, 1, 1, T, offset+T]

        NDArray x = tokenEmbedding.get(new NDIndex("{}", batch.ids(manager)));     // [B, T, d]
        for (int l = 0; l < layers.size(); l++) {
            Layer layer = layers.get(l);
            NDArray h = rmsNorm(x, layer.attentionNorm());
            x = x.add(attention(layer, l, h, cos, sin, mask, adaptation, cache, b, t));
            h = rmsNorm(x, layer.mlpNorm());
            NDArray gate = layer.gate().forward(h, adaptation);
            NDArray up = layer.up().forward(h, adaptation);
            x = x.add(layer.down().forward(gate.mul(Activation.sigmoid(gate)).mul(up), adaptation));   // SwiGLU
        }
        if (cache != null) {
            cache.advance(t);
        }
        return rmsNorm(x, finalNorm);
    }

    private NDArray attention(Layer layer, int l, NDArray h, NDArray cos, NDArray sin, NDArray mask,
                              Adaptation adaptation, KvCache cache, int b, int t) {
        int heads = config.numHeads();
        int kvHeads = config.numKvHeads();
        int groups = heads / kvHeads;       // query heads per key/value head
        int hs = config.headDim();
        NDArray q = layer.q().forward(h, adaptation).reshape(b, t, heads, hs);
        NDArray k = layer.k().forward(h, adaptation).reshape(b, t, kvHeads, hs);
        NDArray v = layer.v().forward(h, adaptation).reshape(b, t, kvHeads, hs);
        // Query head g of KV head j is head j·groups + g (HF's repeat_kv); folding the groups into the query
        // axis makes attention a plain batched matmul per KV head, with no copies of k and v.
        q = rotate(q, cos, sin).mul(attentionScale).transpose(0, 2, 1, 3).reshape(b, kvHeads, groups * t, hs);
        k = rotate(k, cos, sin).transpose(0, 2, 1, 3);                                // [B, kv, T, hs]
        v = v.transpose(0, 2, 1, 3);
        if (cache != null) {
            k = cache.appendKeys(l, k);
            v = cache.appendValues(l, v);
        }
        long tk = k.getShape().get(2);
        NDArray scores = q.matMul(k.swapAxes(2, 3)).reshape(b, kvHeads, groups, t, tk).add(mask);
        NDArray p = scores.softmax(-1).reshape(b, kvHeads, groups * t, tk);
        NDArray o = p.matMul(v);                                                      // [B, kv, groups·T, hs]
        o = o.reshape(b, heads, t, hs).transpose(0, 2, 1, 3).reshape(b, t, heads * hs);
        return layer.o().forward(o, adaptation);
    }

    /** Rotary embedding, rotate_half convention: x cos + rotate_half(x) sin, x [B, T, heads, hs]. */
    private static NDArray rotate(NDArray x, NDArray cos, NDArray sin) {
        NDList halves = x.split(2, 3);
        NDArray rotated = halves.get(1).neg().concat(halves.get(0), 3);
        return x.mul(cos).add(rotated.mul(sin));
    }

    private NDArray rmsNorm(NDArray x, NDArray weight) {
        NDArray meanSquare = x.square().mean(new int[] {-1}, true);
        return x.mul(meanSquare.add(rmsEps).pow(minusHalf)).mul(weight);
    }

    /**
     * Additive mask [B, 1, 1, T, offset+T]: 0 where query i may attend to key j (j not after i, and j a
     * real token), a large negative number elsewhere. A padding query sees only padding keys and so a
     * uniform softmax instead of NaN; real queries never see padding, so padding changes nothing.
     */
    private NDArray attentionMask(TokenBatch batch, long offset) {
        int b = batch.batchSize();
        int t = batch.length();
        int tk = (int) offset + t;
        float[] causal = new float[t * tk];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < tk; j++) {
                causal[i * tk + j] = j <= offset + i ? 0f : MASKED;
            }
        }
        float[] keyMask = new float[b * tk];   // cached keys come from unpadded single sequences
        float[] real = batch.maskValues();
        for (int r = 0; r < b; r++) {
            for (int j = 0; j < t; j++) {
                keyMask[r * tk + (int) offset + j] = real[r * t + j] > 0 ? 0f : MASKED;
            }
        }
        NDArray causalMask = manager.create(causal, new Shape(1, 1, 1, t, tk));
        NDArray paddingMask = manager.create(keyMask, new Shape(b, 1, 1, 1, tk));
        return causalMask.add(paddingMask).toType(dataType(), false);
    }

    @Override
    public void close() {
        manager.close();
        backing.clear();
    }
}
