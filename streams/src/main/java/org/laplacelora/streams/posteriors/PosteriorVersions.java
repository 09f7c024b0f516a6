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

/**
 * Posterior versions on the compacted posteriors topic: a version is its file cut into chunks of bounded
 * size, followed by a manifest (written in the same transaction). Keys sort by version:
 * {@code v000000000003|c000001} for chunks, {@code v000000000003|manifest} for the manifest.
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

    private PosteriorVersions() {}

    public static String chunkKey(long version, int index) {
        return String.format("v%012d|c%06d", version, index);
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
        int count = Math.max(1, (file.length + chunkBytes - 1) / chunkBytes);
        List<PosteriorChunk> chunks = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int from = i * chunkBytes;
            int to = Math.min(file.length, from + chunkBytes);
            chunks.add(PosteriorChunk.newBuilder().setVersion(version).setIndex(i).setCount(count)
                    .setData(ByteBuffer.wrap(java.util.Arrays.copyOfRange(file, from, to))).build());
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

    /** The file of a version from its manifest and chunks, checked: every chunk present, sizes and sha256 right. */
    public static byte[] assemble(PosteriorManifest manifest, Map<Integer, PosteriorChunk> chunks) throws InvalidVersionException {
        long v = manifest.getVersion();
        TreeMap<Integer, PosteriorChunk> ordered = new TreeMap<>(chunks);
        for (int i = 0; i < manifest.getChunks(); i++) {
            PosteriorChunk c = ordered.get(i);
            if (c == null) {
                throw new InvalidVersionException("version " + v + ": chunk " + i + " of " + manifest.getChunks() + " is missing");
            }
            if (c.getVersion() != v || c.getCount() != manifest.getChunks()) {
                throw new InvalidVersionException("version " + v + ": chunk " + i + " belongs to version " + c.getVersion()
                        + " of " + c.getCount() + " chunks");
            }
        }
        long total = 0;
        for (int i = 0; i < manifest.getChunks(); i++) {
            total += ordered.get(i).getData().remaining();
        }
        if (total != manifest.getBytes()) {
            throw new InvalidVersionException("version " + v + ": chunks hold " + total + " bytes, the manifest says " + manifest.getBytes());
        }
        ByteBuffer out = ByteBuffer.allocate((int) total);
        for (int i = 0; i < manifest.getChunks(); i++) {
            out.put(ordered.get(i).getData().duplicate());
        }
        byte[] file = out.array();
        String sha = sha256(file);
        if (!sha.equals(manifest.getSha256())) {
            throw new InvalidVersionException("version " + v + ": sha256 " + sha + " does not match the manifest's " + manifest.getSha256());
        }
        return file;
    }
}
