package org.laplacelora.model.tokenizer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.laplacelora.model.core.CheckpointException;

/**
 * llama2.c's tokenizer file ({@code tok512.bin} and friends) and its encoder, exactly as run.c's
 * {@code encode}: BOS, a dummy-prefix space, one piece per UTF-8 character (byte fallback to
 * {@code byte + 3} when the character is not a piece), then repeatedly merge the adjacent pair whose
 * concatenation is the highest-scoring piece (leftmost on ties).
 */
public final class Llama2cTokenizer implements Tokenizer {
    private static final int BOS = 1;
    private static final int EOS = 2;
    private static final int BYTE_OFFSET = 3;

    private final String[] pieces;
    private final float[] scores;
    private final Map<String, Integer> ids = new HashMap<>();
    /** The file's max_token_length: the longest piece in bytes (a byte-fallback piece counts its "&lt;0xNN&gt;" text, so this bounds from above). */
    private final int maxTokenLength;

    private Llama2cTokenizer(String[] pieces, float[] scores, int maxTokenLength) {
        this.pieces = pieces;
        this.scores = scores;
        this.maxTokenLength = maxTokenLength;
        for (int i = 0; i < pieces.length; i++) {
            ids.putIfAbsent(pieces[i], i);
        }
    }

    /** Reads a tokenizer file for a model with {@code vocabSize} tokens (the file does not store it). */
    public static Llama2cTokenizer load(Path file, int vocabSize) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(file + ": llama2.c tokenizer not found");
        }
        ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        int maxTokenLength;
        String[] pieces = new String[vocabSize];
        float[] scores = new float[vocabSize];
        try {
            maxTokenLength = buf.getInt();
            for (int i = 0; i < vocabSize; i++) {
                scores[i] = buf.getFloat();
                int len = buf.getInt();
                if (len < 0 || len > buf.remaining()) {
                    throw new CheckpointException(file + ": token " + i + " has length " + len + "; not a llama2.c tokenizer");
                }
                byte[] b = new byte[len];
                buf.get(b);
                pieces[i] = new String(b, StandardCharsets.UTF_8);
            }
        } catch (java.nio.BufferUnderflowException e) {
            throw new CheckpointException(file + ": ends before the model's " + vocabSize
                    + " tokens; the tokenizer does not fit the model's vocabulary", e);
        }
        if (buf.hasRemaining()) {
            throw new CheckpointException(file + ": " + buf.remaining() + " bytes left after the model's " + vocabSize
                    + " tokens; the tokenizer has a larger vocabulary than the model");
        }
        return new Llama2cTokenizer(pieces, scores, maxTokenLength);
    }

    @Override
    public int[] encode(String text, boolean bos, boolean eos) {
        List<Integer> tokens = new ArrayList<>();
        if (bos) {
            tokens.add(BOS);
        }
        if (!text.isEmpty()) {
            tokens.add(ids.get(" "));
        }
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int start = 0;
        for (int i = 1; i <= bytes.length; i++) {
            boolean boundary = i == bytes.length || (bytes[i] & 0xC0) != 0x80 || i - start == 4;
            if (!boundary) {
                continue;
            }
            String unit = new String(bytes, start, i - start, StandardCharsets.UTF_8);
            Integer id = isWholeCharacter(bytes, start, i) ? ids.get(unit) : null;
            if (id != null) {
                tokens.add(id);
            } else {
                for (int k = start; k < i; k++) {
                    tokens.add((bytes[k] & 0xFF) + BYTE_OFFSET);
                }
            }
            start = i;
        }
        int from = bos ? 1 : 0;
        List<Integer> body = tokens.subList(from, tokens.size());
        merge(body);
        if (eos) {
            tokens.add(EOS);
        }
        return tokens.stream().mapToInt(Integer::intValue).toArray();
    }

    /** A unit cut after 4 bytes may be part of a longer malformed sequence: only exact UTF-8 round trips match. */
    private static boolean isWholeCharacter(byte[] bytes, int from, int to) {
        String s = new String(bytes, from, to - from, StandardCharsets.UTF_8);
        return java.util.Arrays.equals(s.getBytes(StandardCharsets.UTF_8), java.util.Arrays.copyOfRange(bytes, from, to));
    }

    @Override
    public int maxBytesPerToken() {
        return Math.max(1, maxTokenLength);
    }

    private void merge(List<Integer> t) {
        while (true) {
            float best = Float.NEGATIVE_INFINITY;
            int bestId = -1;
            int bestAt = -1;
            for (int i = 0; i + 1 < t.size(); i++) {
                Integer id = ids.get(pieces[t.get(i)] + pieces[t.get(i + 1)]);
                if (id != null && scores[id] > best) {
                    best = scores[id];
                    bestId = id;
                    bestAt = i;
                }
            }
            if (bestAt < 0) {
                return;
            }
            t.set(bestAt, bestId);
            t.remove(bestAt + 1);
        }
    }

    @Override
    public String decode(int[] tokens) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int prev = -1;
        for (int tok : tokens) {
            if (tok == BOS || tok == EOS || tok < 0 || tok >= pieces.length) {
                prev = tok;
                continue;
            }
            String piece = pieces[tok];
            if (prev == BOS && piece.startsWith(" ")) {
                piece = piece.substring(1);
            }
            if (tok >= BYTE_OFFSET && tok < BYTE_OFFSET + 256) {
                out.write(tok - BYTE_OFFSET);
            } else {
                out.writeBytes(piece.getBytes(StandardCharsets.UTF_8));
            }
            prev = tok;
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    @Override
    public int bos() {
        return BOS;
    }

    @Override
    public int eos() {
        return EOS;
    }

    @Override
    public OptionalInt pieceId(String text) {
        Integer id = ids.get(text);
        return id == null || id < BYTE_OFFSET + 256 ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** The raw piece string of a token (spaces as spaces). */
    public String piece(int id) {
        return pieces[id];
    }

    @Override
    public void close() {}
}
