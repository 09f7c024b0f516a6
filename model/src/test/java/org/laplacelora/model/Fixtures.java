package org.laplacelora.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/** Test fixtures copied from the project's reference outputs (see src/test/resources/README.md). */
public final class Fixtures {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Fixtures() {}

    private static final Map<String, Path> EXTRACTED = new ConcurrentHashMap<>();

    /**
     * A fixture as a file or directory. Resources packed in the model module's test-jar (as other modules
     * see them) are extracted to a temporary directory once per JVM.
     */
    public static Path path(String resource) {
        var url = Fixtures.class.getResource("/" + resource);
        if (url == null) {
            throw new IllegalArgumentException("missing test resource " + resource);
        }
        try {
            if (!url.getProtocol().equals("jar")) {
                return Path.of(url.toURI());
            }
            return EXTRACTED.computeIfAbsent(resource, r -> extract(url.toString(), r));
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Path extract(String jarUrl, String resource) {
        String jar = jarUrl.substring(0, jarUrl.indexOf("!/"));
        try (FileSystem fs = FileSystems.newFileSystem(URI.create(jar), Map.of())) {
            Path source = fs.getPath("/" + resource);
            Path root = Files.createTempDirectory("laplace-lora-fixture");
            deleteOnExit(root);
            Path target = root.resolve(source.getFileName().toString());
            try (Stream<Path> walk = Files.walk(source)) {
                for (Path p : (Iterable<Path>) walk::iterator) {
                    Path dest = target.resolve(source.relativize(p).toString());
                    if (Files.isDirectory(p)) {
                        Files.createDirectories(dest);
                    } else {
                        Files.createDirectories(dest.getParent());
                        Files.copy(p, dest);
                    }
                }
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Extracted copies go when the test JVM does (File.deleteOnExit cannot remove a directory that is not empty). */
    private static void deleteOnExit(Path root) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try (Stream<Path> walk = Files.walk(root)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                // best effort: a leftover in the temp directory is harmless
            }
        }));
    }

    public static JsonNode json(String resource) {
        try {
            return JSON.readTree(path(resource).toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Path stories260kBin() {
        return path("stories260K/stories260K.bin");
    }

    public static Path tok512() {
        return path("stories260K/tok512.bin");
    }

    public static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    public static double[] doubles(JsonNode array) {
        double[] out = new double[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asDouble();
        }
        return out;
    }

    /** Float32 values exactly as run.c produced them (the JSON holds round-trip decimal strings). */
    public static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = Float.parseFloat(array.get(i).asText());
        }
        return out;
    }
}
