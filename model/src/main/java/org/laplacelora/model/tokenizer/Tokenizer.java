package org.laplacelora.model.tokenizer;

import java.util.OptionalInt;

/** Text ↔ token ids for one model. */
public interface Tokenizer extends AutoCloseable {
    /** Token ids of {@code text}, with BOS first and/or EOS last when asked. */
    int[] encode(String text, boolean bos, boolean eos);

    /** The text of a generated sequence (special tokens dropped, byte-fallback bytes decoded as UTF-8). */
    String decode(int[] ids);

    int vocabSize();

    int bos();

    int eos();

    /**
     * The id of the single vocabulary piece whose text is exactly {@code text} as it appears after
     * other text (a leading space is part of the piece, as in " A"), or empty when there is none.
     */
    OptionalInt pieceId(String text);

    /**
     * The most UTF-8 bytes of text one token stands for: a text of more than n times this many bytes has more than
     * n tokens, known without encoding it (what keeps a hostile megabyte from an encoder that is not linear).
     */
    default int maxBytesPerToken() {
        return Integer.MAX_VALUE;
    }

    @Override
    void close();
}
