package org.laplacelora.model.llama;

/**
 * Shape of a LLaMA-family decoder. Field names follow Hugging Face's {@code config.json}.
 *
 * @param hiddenSize d, the residual stream width
 * @param intermediateSize the SwiGLU hidden width
 * @param numHeads query heads
 * @param numKvHeads key/value heads (grouped-query attention when fewer than numHeads)
 * @param headDim per-head width (usually hiddenSize / numHeads)
 * @param tieWordEmbeddings whether the LM head reuses the token embedding matrix
 */
public record LlamaConfig(
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int vocabSize,
        int maxPositions,
        double rmsNormEps,
        double ropeTheta,
        boolean tieWordEmbeddings,
        int bosTokenId,
        int eosTokenId) {

    public LlamaConfig {
        require(hiddenSize > 0 && intermediateSize > 0 && numLayers > 0 && vocabSize > 0 && maxPositions > 0,
                "sizes must be positive");
        require(numHeads > 0 && numKvHeads > 0 && numHeads % numKvHeads == 0,
                "num_attention_heads (" + numHeads + ") must be a multiple of num_key_value_heads (" + numKvHeads + ")");
        require(headDim > 0 && headDim % 2 == 0, "head_dim must be even for rotary embeddings, got " + headDim);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("invalid LLaMA config: " + message);
        }
    }

    /** Width of the query projection output, numHeads × headDim. */
    public int queryDim() {
        return numHeads * headDim;
    }

    /** Width of each of the key and value projection outputs, numKvHeads × headDim. */
    public int kvDim() {
        return numKvHeads * headDim;
    }

    /** Number of float parameters of the base model (LM head counted once when tied). */
    public long parameterCount() {
        long d = hiddenSize;
        long perLayer = 2 * d + d * queryDim() + 2 * d * kvDim() + (long) queryDim() * d + 3 * d * intermediateSize;
        long head = tieWordEmbeddings ? 0 : (long) vocabSize * d;
        return (long) vocabSize * d + numLayers * perLayer + d + head;
    }
}
