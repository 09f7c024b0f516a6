package org.laplacelora.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.laplacelora.model.core.CheckpointException;

/**
 * Karpathy's llama2.c checkpoint ("version 0"): a 7 × int32 header
 * (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len), then float32 arrays back to
 * back. A negative vocab_size means the classifier is stored separately at the end.
 *
 * <p>llama2.c rotates interleaved pairs (2i, 2i+1) of each head; Hugging Face pairs (i, i + hs/2).
 * The q and k rows are permuted into the Hugging Face order here, which leaves q·k — and so the
 * logits — unchanged and lets one attention implementation and one adapter layout serve both formats.
 */
public final class Llama2cCheckpoint {
    private static final int HEADER_INTS = 7;

    private Llama2cCheckpoint() {}

    public static LlamaConfig readConfig(Path file) throws IOException {
        requireFile(file);
        ByteBuffer header = ByteBuffer.allocate(4 * HEADER_INTS).order(ByteOrder.LITTLE_ENDIAN);
        try (var ch = java.nio.channels.FileChannel.open(file)) {
            if (ch.size() < header.capacity()) {
                throw new CheckpointException(file + ": too short for a llama2.c header (" + ch.size() + " bytes)");
            }
            ch.read(header, 0);
        }
        int dim = header.getInt(0);
        int hidden = header.getInt(4);
        int layers = header.getInt(8);
        int heads = header.getInt(12);
        int kvHeads = header.getInt(16);
        int vocab = header.getInt(20);
        int seqLen = header.getInt(24);
        if (dim <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || vocab == 0 || seqLen <= 0
                || dim % heads != 0) {
            throw new CheckpointException(file + ": not a llama2.c checkpoint (header dim=" + dim + " hidden_dim=" + hidden
                    + " n_layers=" + layers + " n_heads=" + heads + " n_kv_heads=" + kvHeads + " vocab_size=" + vocab
                    + " seq_len=" + seqLen + ")");
        }
        try {
            // llama2.c hard-codes RMSNorm eps 1e-5 and rotary theta 10000; BOS 1 and EOS 2 (SentencePiece).
            return new LlamaConfig(dim, hidden, layers, heads, kvHeads, dim / heads, Math.abs(vocab), seqLen,
                    1e-5, 10000.0, vocab > 0, 1, 2);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file + ": " + e.getMessage(), e);
        }
    }

    public static Llama load(Path file, NDManager manager, String identity) throws IOException {
        LlamaConfig c = readConfig(file);
        long d = c.hiddenSize();
        long l = c.numLayers();
        long hs = c.headDim();
        long v = c.vocabSize();
        long[][] shapes = {
            {v, d}, {l, d}, {l, c.queryDim(), d}, {l, c.kvDim(), d}, {l, c.kvDim(), d}, {l, d, c.queryDim()},
            {l, d}, {l, c.intermediateSize(), d}, {l, d, c.intermediateSize()}, {l, c.intermediateSize(), d}, {d},
            {c.maxPositions(), hs / 2}, {c.maxPositions(), hs / 2}, {v, d}};
        int arrays = c.tieWordEmbeddings() ? shapes.length - 1 : shapes.length;
        long floats = 0;
        for (int i = 0; i < arrays; i++) {
            floats += count(shapes[i]);
        }
        long expected = 4L * HEADER_INTS + 4 * floats;
        long size = Files.size(file);
        if (size != expected) {
            throw new CheckpointException(file + ": " + size + " bytes, but its header (" + c + ") implies " + expected
                    + " bytes; the file is truncated or not a llama2.c version-0 checkpoint");
        }
        FloatBuffer data;
        try (var ch = java.nio.channels.FileChannel.open(file)) {
            data = ch.map(java.nio.channels.FileChannel.MapMode.READ_ONLY, 4L * HEADER_INTS, 4 * floats)
                    .order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        }
        float[][] a = new float[arrays][];
        for (int i = 0; i < arrays; i++) {
            a[i] = new float[Math.toIntExact(count(shapes[i]))];
            data.get(a[i]);
        }
        Map<String, NDArray> w = new HashMap<>();
        w.put("model.embed_tokens.weight", manager.create(a[0], new Shape(v, d)));
        for (int i = 0; i < l; i++) {
            String p = "model.layers." + i + ".";
            w.put(p + "input_layernorm.weight", slice(manager, a[1], i, d));
            w.put(p + "self_attn.q_proj.weight",
                    manager.create(toRotateHalf(slice(a[2], i, c.queryDim() * d), c.numHeads(), (int) hs, (int) d),
                            new Shape(c.queryDim(), d)));
            w.put(p + "self_attn.k_proj.weight",
                    manager.create(toRotateHalf(slice(a[3], i, c.kvDim() * d), c.numKvHeads(), (int) hs, (int) d),
                            new Shape(c.kvDim(), d)));
            w.put(p + "self_attn.v_proj.weight", slice(manager, a[4], i, c.kvDim(), d));
            w.put(p + "self_attn.o_proj.weight", slice(manager, a[5], i, d, c.queryDim()));
            w.put(p + "post_attention_layernorm.weight", slice(manager, a[6], i, d));
            w.put(p + "mlp.gate_proj.weight", slice(manager, a[7], i, c.intermediateSize(), d));
            w.put(p + "mlp.down_proj.weight", slice(manager, a[8], i, d, c.intermediateSize()));
            w.put(p + "mlp.up_proj.weight", slice(manager, a[9], i, c.intermediateSize(), d));
        }
        w.put("model.norm.weight", manager.create(a[10], new Shape(d)));
        if (!c.tieWordEmbeddings()) {
            w.put("lm_head.weight", manager.create(a[13], new Shape(v, d)));
        }
        return Llama.fromWeights(c, w, manager, file.toString(), identity, List.of());
    }

    private static long count(long[] shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        return n;
    }

    private static float[] slice(float[] stacked, int layer, long size) {
        float[] out = new float[Math.toIntExact(size)];
        System.arraycopy(stacked, Math.toIntExact(layer * size), out, 0, out.length);
        return out;
    }

    private static NDArray slice(NDManager m, float[] stacked, int layer, long... shape) {
        return m.create(slice(stacked, layer, count(shape)), new Shape(shape));
    }

    /**
     * Row permutation from llama2.c's interleaved rotary pairs to Hugging Face's rotate_half halves,
     * within each head: {@code hf_row[h·hs + t·hs/2 + i] = l2c_row[h·hs + 2i + t]}.
     */
    static float[] toRotateHalf(float[] w, int heads, int hs, int in) {
        float[] out = new float[w.length];
        for (int h = 0; h < heads; h++) {
            for (int t = 0; t < 2; t++) {
                for (int i = 0; i < hs / 2; i++) {
                    int hfRow = h * hs + t * (hs / 2) + i;
                    int l2cRow = h * hs + 2 * i + t;
                    System.arraycopy(w, l2cRow * in, out, hfRow * in, in);
                }
            }
        }
        return out;
    }

    private static void requireFile(Path file) throws CheckpointException {
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(file + ": llama2.c checkpoint not found");
        }
    }
}
