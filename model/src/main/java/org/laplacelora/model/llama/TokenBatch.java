package org.laplacelora.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * Token sequences of different lengths, left-padded to a common length T so that position T-1 is the
 * last real token of every row (the classifier reads it). Positions restart at 0 on each row's first
 * real token, so a padded row sees exactly the rotary angles it would see alone.
 */
public final class TokenBatch {
    private final int batchSize;
    private final int length;
    private final long[] ids;        // [B*T]
    private final float[] mask;      // [B*T], 1 for a real token
    private final long[] positions;  // [B*T]

    private TokenBatch(int batchSize, int length, long[] ids, float[] mask, long[] positions) {
        this.batchSize = batchSize;
        this.length = length;
        this.ids = ids;
        this.mask = mask;
        this.positions = positions;
    }

    /** Left-pads every sequence with {@code padId} (its value never matters: padding is masked out). */
    public static TokenBatch leftPadded(List<int[]> sequences, int padId) {
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException("empty batch");
        }
        int t = 0;
        for (int[] s : sequences) {
            if (s.length == 0) {
                throw new IllegalArgumentException("empty token sequence in batch");
            }
            t = Math.max(t, s.length);
        }
        int b = sequences.size();
        long[] ids = new long[b * t];
        float[] mask = new float[b * t];
        long[] pos = new long[b * t];
        for (int row = 0; row < b; row++) {
            int[] s = sequences.get(row);
            int pad = t - s.length;
            for (int k = 0; k < t; k++) {
                int i = row * t + k;
                boolean real = k >= pad;
                ids[i] = real ? s[k - pad] : padId;
                mask[i] = real ? 1f : 0f;
                pos[i] = real ? k - pad : 0;
            }
        }
        return new TokenBatch(b, t, ids, mask, pos);
    }

    public static TokenBatch single(int[] sequence) {
        return leftPadded(List.of(sequence), 0);
    }

    public int batchSize() {
        return batchSize;
    }

    public int length() {
        return length;
    }

    /** Largest position id in the batch (the longest sequence's length minus one). */
    public long maxPosition() {
        long m = 0;
        for (long p : positions) {
            m = Math.max(m, p);
        }
        return m;
    }

    /** Number of real (unpadded) tokens of row {@code b}. */
    public int realLength(int b) {
        int n = 0;
        for (int k = 0; k < length; k++) {
            n += mask[b * length + k] > 0 ? 1 : 0;
        }
        return n;
    }

    public float[] maskValues() {
        return mask.clone();
    }

    /**
     * Token ids, int64 [B, T], in memory of their own: DJL's {@code create} leaves a tensor over a Java buffer, which the
     * forward's scope closes, while the embedding's backward (when it learns: pretraining) still reads the ids.
     */
    public NDArray ids(NDManager m) {
        try (NDArray overJavaMemory = m.create(ids, new Shape(batchSize, length))) {
            return overJavaMemory.duplicate();
        }
    }

    /** 1 for a real token, 0 for padding, float32 [B, T]. */
    public NDArray mask(NDManager m) {
        return m.create(mask, new Shape(batchSize, length));
    }

    /** Rotary position of every token, int64 [B, T]. */
    public NDArray positions(NDManager m) {
        return m.create(positions, new Shape(batchSize, length));
    }
}
