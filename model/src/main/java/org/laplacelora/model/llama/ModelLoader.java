package org.laplacelora.model.llama;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.laplacelora.model.core.CheckpointException;
import org.laplacelora.model.tokenizer.HfTokenizer;
import org.laplacelora.model.tokenizer.Llama2cTokenizer;
import org.laplacelora.model.tokenizer.Tokenizer;

/**
 * Loads a model and its tokenizer from either a Hugging Face directory or a llama2.c {@code .bin}
 * (whose tokenizer {@code .bin} must be named, or sit next to it as {@code tokenizer.bin}).
 */
public final class ModelLoader {
    /** Checkpoints up to this size are identified by a full sha256; larger ones by a sampled fingerprint. */
    private static final long FULL_DIGEST_LIMIT = 256L << 20;
    private static final int SAMPLE = 1 << 20;

    private ModelLoader() {}

    /** A loaded model with its tokenizer; closing it frees both. */
    public record LoadedModel(Llama llama, Tokenizer tokenizer, Path source) implements AutoCloseable {
        @Override
        public void close() {
            tokenizer.close();
            llama.close();
        }
    }

    /**
     * @param model a Hugging Face directory or a llama2.c checkpoint file
     * @param tokenizer null to use the one in the HF directory (or tokenizer.bin next to a llama2.c file)
     */
    public static LoadedModel load(Path model, Path tokenizer, Device device) throws IOException {
        if (!Files.exists(model)) {
            throw new CheckpointException(model + ": model not found (give a Hugging Face directory or a llama2.c .bin)");
        }
        boolean hf = Files.isDirectory(model);
        if (hf && !HfCheckpoint.isHfDirectory(model)) {
            throw new CheckpointException(model + ": directory has no config.json; not a Hugging Face model directory");
        }
        LlamaConfig config = hf ? HfCheckpoint.readConfig(model) : Llama2cCheckpoint.readConfig(model);
        Path tokPath = tokenizer != null ? tokenizer : defaultTokenizer(model, hf);
        Tokenizer tok = loadTokenizer(tokPath, config);
        try {
            if (tok.vocabSize() > config.vocabSize()) {
                throw new CheckpointException(tokPath + ": tokenizer has " + tok.vocabSize() + " tokens but the model "
                        + model + " has only " + config.vocabSize() + " embeddings; they do not belong together");
            }
            NDManager manager = NDManager.newBaseManager(device);
            try {
                String identity = identity(model, hf);
                Llama llama = hf ? HfCheckpoint.load(model, manager, identity) : Llama2cCheckpoint.load(model, manager, identity);
                return new LoadedModel(llama, tok, model);
            } catch (IOException | RuntimeException e) {
                manager.close();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            tok.close();
            throw e;
        }
    }

    private static Path defaultTokenizer(Path model, boolean hf) throws CheckpointException {
        if (hf) {
            return model.resolve("tokenizer.json");
        }
        Path sibling = model.toAbsolutePath().getParent().resolve("tokenizer.bin");
        if (Files.isRegularFile(sibling)) {
            return sibling;
        }
        throw new CheckpointException(model + ": a llama2.c checkpoint needs its tokenizer: pass --tokenizer "
                + "(e.g. tok512.bin) or put tokenizer.bin next to the checkpoint");
    }

    public static Tokenizer loadTokenizer(Path path, LlamaConfig config) throws IOException {
        if (Files.isDirectory(path) || path.getFileName().toString().endsWith(".json")) {
            return HfTokenizer.load(path, config.bosTokenId(), config.eosTokenId());
        }
        return Llama2cTokenizer.load(path, config.vocabSize());
    }

    /** Picks the compute device: "auto" (a GPU when the engine has CUDA and one is visible), "cpu", "gpu" or "gpu:N". */
    public static Device device(String spec) {
        String s = spec == null ? "auto" : spec.trim().toLowerCase(java.util.Locale.ROOT);
        int gpus = s.equals("cpu") ? 0 : Engine.getInstance().getGpuCount();
        if (s.equals("auto")) {
            return gpus > 0 ? Device.gpu() : Device.cpu();
        }
        if (s.equals("cpu")) {
            return Device.cpu();
        }
        if (s.equals("gpu") || s.equals("cuda") || s.startsWith("gpu:") || s.startsWith("cuda:")) {
            int id = s.contains(":") ? Integer.parseInt(s.substring(s.indexOf(':') + 1)) : 0;
            if (id >= gpus) {
                throw new IllegalArgumentException("--device " + spec + ": the engine sees " + gpus + " GPU(s)"
                        + (gpus == 0 ? " (CPU-only libtorch, or no CUDA device; see README, \"GPU\")" : ""));
            }
            return Device.gpu(id);
        }
        throw new IllegalArgumentException("--device must be auto, cpu, gpu or gpu:N, got " + spec);
    }

    /** "name sha256:…" of the checkpoint (for large ones, a fingerprint of headers, sizes and sampled data). */
    static String identity(Path model, boolean hf) throws IOException {
        List<Path> files = new ArrayList<>();
        if (hf) {
            files.add(model.resolve(HfCheckpoint.CONFIG));
            files.addAll(HfCheckpoint.weightFiles(model));
        } else {
            files.add(model);
        }
        long total = 0;
        for (Path f : files) {
            total += Files.size(f);
        }
        boolean full = total <= FULL_DIGEST_LIMIT;
        MessageDigest sha = sha256();
        for (Path f : files) {
            if (full) {
                try (InputStream in = Files.newInputStream(f)) {
                    byte[] buf = new byte[1 << 16];
                    for (int n; (n = in.read(buf)) > 0; ) {
                        sha.update(buf, 0, n);
                    }
                }
            } else {
                sampled(sha, f);
            }
        }
        String name = model.toAbsolutePath().normalize().getFileName().toString();
        return name + (full ? " sha256:" : " fingerprint-sha256:") + HexFormat.of().formatHex(sha.digest());
    }

    private static void sampled(MessageDigest sha, Path f) throws IOException {
        try (FileChannel ch = FileChannel.open(f)) {
            long size = ch.size();
            sha.update(Long.toString(size).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            for (long at : new long[] {0, Math.max(0, size / 2 - SAMPLE / 2), Math.max(0, size - SAMPLE)}) {
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate((int) Math.min(SAMPLE, size));
                ch.read(b, at);
                b.flip();
                sha.update(b);
            }
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
