package org.laplacelora.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Arrays;
import java.util.Random;
import java.util.function.IntConsumer;
import org.laplacelora.model.core.Categorical;

/** Autoregressive sampling with a KV cache: greedy (argmax, first maximum) or softmax at a temperature. */
public final class Generator {
    private final Llama llama;
    private final Adaptation adaptation;

    public Generator(Llama llama, Adaptation adaptation) {
        this.llama = llama;
        this.adaptation = adaptation;
    }

    /**
     * Generates up to {@code maxNewTokens} tokens after {@code prompt}, stopping early at BOS or EOS (a
     * llama2.c model emits BOS between stories). Returns prompt + generated tokens.
     *
     * @param temperature 0 for greedy decoding
     * @param onToken called with every generated token as it is produced (for streaming output)
     */
    public int[] generate(int[] prompt, int maxNewTokens, double temperature, long seed, IntConsumer onToken) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("prompt must hold at least BOS");
        }
        int limit = (int) Math.min((long) prompt.length + maxNewTokens, llama.config().maxPositions());
        int[] tokens = Arrays.copyOf(prompt, limit);
        int n = prompt.length;
        Random random = new Random(seed);
        try (NDManager m = NDManager.newBaseManager(llama.device()); KvCache cache = llama.newCache(m)) {
            int[] next = prompt;
            while (n < limit) {
                int token;
                try (NDManager step = m.newSubManager()) {
                    NDArray logits = llama.step(step, cache, next, adaptation);
                    token = pick(logits.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray(), temperature, random);
                }
                if (token == llama.config().bosTokenId() || token == llama.config().eosTokenId()) {
                    break;
                }
                tokens[n++] = token;
                onToken.accept(token);
                next = new int[] {token};
            }
        }
        return Arrays.copyOf(tokens, n);
    }

    static int pick(float[] logits, double temperature, Random random) {
        double[] z = new double[logits.length];
        for (int i = 0; i < z.length; i++) {
            z[i] = logits[i];
        }
        return temperature <= 0 ? Categorical.argmax(z) : Categorical.sample(Categorical.softmax(z, temperature), random);
    }
}
