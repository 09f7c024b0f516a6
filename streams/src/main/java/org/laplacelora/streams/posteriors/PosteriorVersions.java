package org.laplacelora.streams.posteriors;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.laplacelora.schemas.avro.PosteriorChunk;
import org.laplacelora.schemas.avro.PosteriorManifest;
import org.laplacelora.schemas.avro.VersionFile;
import org.laplacelora.schemas.avro.VersionPart;

/**
 * Versions on the compacted posteriors topic: a version is its posterior file, and the adapter file that is its
 * mean when it carries one, cut into chunks of bounded size, followed by a manifest (written in the same
 * transaction). Keys sort by version: {@code v000000000003|c000001} for the posterior's chunks,
 * {@code v000000000003|a000001} for the adapter's, {@code v000000000003|manifest} for the manifest.
 */
public final class PosteriorVersions {
    /** Default chunk size: well under Kafka's default 1 MB message limit. */
    public static final int CHUNK_BYTES = 512 * 1024;

    /** A version that cannot be served, and why. */
    public static final class InvalidVersionException extends Exception {
        private static final long serialVersionUID = 1L;

        public InvalidVersionException(String message) {
            super(message);
        }
    }

    /**
     * The files of a version.
     *
     * @param adapter the adapter file ({@code LoraAdapter.toBytes}), or null: the adapter the services started with
     */
    public record Files(byte[] posterior, byte[] adapter) {}

    private PosteriorVersions() {}

    public static String chunkKey(long version, int index) {
        return chunkKey(version, VersionPart.POSTERIOR, index);
    }

    public static String chunkKey(long version, VersionPart part, int index) {
        return String.format("v%012d|%s%06d", version, part == VersionPart.ADAPTER ? "a" : "c", index);
    }

    public static String manifestKey(long version) {
        return String.format("v%012d|manifest", version);
    }

    /** The version a key belongs to, or -1 for a key that is not one of these. */
    public static long versionOf(String key) {
        if (key == null || key.length() < 14 || key.charAt(0) != 'v' || key.charAt(13) != '|') {
            return -1;
        }
        try {
            return Long.parseLong(key.substring(1, 13));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    public static boolean isManifestKey(String key) {
        return key != null && key.endsWith("|manifest");
    }

    public static List<PosteriorChunk> split(long version, byte[] file, int chunkBytes) {
        return split(version, VersionPart.POSTERIOR, file, chunkBytes);
    }

    public static List<PosteriorChunk> split(long version, VersionPart part, byte[] file, int chunkBytes) {
        int count = Math.max(1, (file.length + chunkBytes - 1) / chunkBytes);
        List<PosteriorChunk> chunks = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int from = i * chunkBytes;
            int to = Math.min(file.length, from + chunkBytes);
            chunks.add(PosteriorChunk.newBuilder().setVersion(version).setIndex(i).setCount(count)
                    .setData(ByteBuffer.wrap(java.util.Arrays.copyOfRange(file, from, to))).setPart(part).build());
        }
        return chunks;
    }

    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A version's files from its manifest and chunks (keyed by their record keys), each checked as {@link #assemble} does. */
    public static Files files(PosteriorManifest manifest, Map<VersionPart, Map<Integer, PosteriorChunk>> chunks)
            throws InvalidVersionException {
        byte[] posterior = assemble(manifest, chunks.getOrDefault(VersionPart.POSTERIOR, Map.of()));
        VersionFile adapter = manifest.getAdapterFile();
        return new Files(posterior, adapter == null ? null : assemble(manifest.getVersion(), "adapter", adapter.getSha256(),
                adapter.getChunks(), adapter.getBytes(), chunks.getOrDefault(VersionPart.ADAPTER, Map.of())));
    }

    /** The posterior file of a version from its manifest and chunks, checked: every chunk present, sizes and sha256 right. */
    public static byte[] assemble(PosteriorManifest manifest, Map<Integer, PosteriorChunk> chunks) throws InvalidVersionException {
        return assemble(manifest.getVersion(), "posterior", manifest.getSha256(), manifest.getChunks(), manifest.getBytes(), chunks);
    }

    private static byte[] assemble(long v, String what, String sha256, int count, long bytes, Map<Integer, PosteriorChunk> chunks)
            throws InvalidVersionException {
        TreeMap<Integer, PosteriorChunk> ordered = new TreeMap<>(chunks);
        for (int i = 0; i < count; i++) {
            PosteriorChunk c = ordered.get(i);
            if (c == null) {
                throw new InvalidVersionException("version " + v + ": " + what + " chunk " + i + " of " + count + " is missing");
            }
            if (c.getVersion() != v || c.getCount() != count) {
                throw new InvalidVersionException("version " + v + ": " + what + " chunk " + i + " belongs to version " + c.getVersion()
                        + " of " + c.getCount() + " chunks");
            }
        }
        long total = 0;
        for (int i = 0; i < count; i++) {
            total += ordered.get(i).getData().remaining();
        }
        if (total != bytes) {
            throw new InvalidVersionException("version " + v + ": " + what + " chunks hold " + total + " bytes, the manifest says " + bytes);
        }
        ByteBuffer out = ByteBuffer.allocate((int) total);
        for (int i = 0; i < count; i++) {
            out.put(ordered.get(i).getData().duplicate());
        }
        byte[] file = out.array();
        String sha = sha256(file);
        if (!sha.equals(sha256)) {
            throw new InvalidVersionException("version " + v + ": " + what + " sha256 " + sha + " does not match the manifest's " + sha256);
        }
        return file;
    }
}
