package org.laplacelora.schemas.registry;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;

/**
 * A schema registry in this process, for the embedded stack and tests: the documented subset of the
 * Confluent Schema Registry REST API (register, look up, get by id, subjects and versions, compatibility
 * checks and levels, delete) with Confluent's JSON error bodies and codes. A schema identical to one
 * already stored gets the same global id in every subject. Optionally
 * persisted as one JSON file, so that ids stay valid for data kept in a reused Kafka log directory.
 * A schema's identity is its normalised JSON, defaults and docs included (see {@link #canonical}).
 */
public final class InProcessSchemaRegistry implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

    /** A stored schema version. */
    private record Entry(int id, int version, String schema) {}

    private final HttpServer server;
    private final ExecutorService executor;
    private final Path store;
    private final Map<String, List<Entry>> subjects = new TreeMap<>();
    private final Map<Integer, String> schemasById = new TreeMap<>();
    private final Map<String, Integer> idsByCanonical = new LinkedHashMap<>();
    private final Map<String, Compatibility> subjectLevels = new TreeMap<>();
    private Compatibility globalLevel = Compatibility.BACKWARD;

    private InProcessSchemaRegistry(HttpServer server, Path store) {
        this.server = server;
        this.store = store;
        this.executor = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "schema-registry");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", this::handle);
    }

    /**
     * Starts on 127.0.0.1:{@code port} (0: any free port).
     *
     * @param store a JSON file to load from and persist to, or null to keep everything in memory
     */
    public static InProcessSchemaRegistry start(int port, Path store) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        InProcessSchemaRegistry r = new InProcessSchemaRegistry(server, store);
        if (store != null && Files.isRegularFile(store)) {
            r.load();
        }
        server.start();
        return r;
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    // ------------------------------------------------------------------ HTTP

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            Object result;
            int status = 200;
            try {
                result = route(ex.getRequestMethod(), ex.getRequestURI().getRawPath(),
                        new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            } catch (SchemaRegistryException e) {
                status = SchemaRegistryException.httpStatus(e.errorCode());
                String message = e.getMessage().replaceAll(" \\(error_code \\d+\\)$", "");
                result = Map.of("error_code", e.errorCode(), "message", message);
            } catch (RuntimeException e) {
                status = 500;
                result = Map.of("error_code", SchemaRegistryException.BACKEND_ERROR, "message", "Error in the backend data store: " + e);
            }
            byte[] body = JSON.writeValueAsBytes(result);
            ex.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
            ex.sendResponseHeaders(status, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    private Object route(String method, String rawPath, String body) throws IOException {
        String[] p = rawPath.replaceAll("^/+|/+$", "").split("/");
        for (int i = 0; i < p.length; i++) {
            p[i] = URLDecoder.decode(p[i], StandardCharsets.UTF_8);
        }
        synchronized (this) {
            if (p.length == 1 && p[0].equals("subjects") && method.equals("GET")) {
                return new ArrayList<>(subjects.keySet());
            }
            if (p.length == 2 && p[0].equals("subjects") && method.equals("POST")) {
                return lookup(p[1], parse(body));
            }
            if (p.length == 2 && p[0].equals("subjects") && method.equals("DELETE")) {
                return deleteSubject(p[1]);
            }
            if (p.length == 3 && p[0].equals("subjects") && p[2].equals("versions") && method.equals("POST")) {
                return Map.of("id", register(p[1], parse(body)));
            }
            if (p.length == 3 && p[0].equals("subjects") && p[2].equals("versions") && method.equals("GET")) {
                return versionsOf(p[1]).stream().map(Entry::version).toList();
            }
            if (p.length == 4 && p[0].equals("subjects") && p[2].equals("versions") && method.equals("GET")) {
                Entry e = version(p[1], p[3]);
                return versionJson(p[1], e);
            }
            if (p.length == 3 && p[0].equals("schemas") && p[1].equals("ids") && method.equals("GET")) {
                return Map.of("schema", byId(p[2]));
            }
            if (p.length == 5 && p[0].equals("compatibility") && p[1].equals("subjects") && p[3].equals("versions")
                    && method.equals("POST")) {
                Schema candidate = parse(body);
                Entry against = version(p[2], p[4]);
                return Map.of("is_compatible", level(p[2]).allows(candidate, List.of(new Schema.Parser().parse(against.schema()))));
            }
            if (p[0].equals("config") && p.length <= 2) {
                String subject = p.length == 2 ? p[1] : null;
                if (method.equals("GET")) {
                    return Map.of("compatibilityLevel", (subject == null ? globalLevel : level(subject)).name());
                }
                if (method.equals("PUT")) {
                    Compatibility level = Compatibility.parse(JSON.readTree(body).path("compatibility").asText(null));
                    if (subject == null) {
                        globalLevel = level;
                    } else {
                        subjectLevels.put(subject, level);
                    }
                    persist();
                    return Map.of("compatibility", level.name());
                }
            }
        }
        throw new SchemaRegistryException(404, "HTTP 404 Not Found");
    }

    private Compatibility level(String subject) {
        return subjectLevels.getOrDefault(subject, globalLevel);
    }

    private static Schema parse(String body) throws SchemaRegistryException {
        try {
            JsonNode n = JSON.readTree(body);
            String type = n.path("schemaType").asText("AVRO");
            if (!type.equals("AVRO")) {
                throw new SchemaRegistryException(SchemaRegistryException.INVALID_SCHEMA, "Invalid schema: schemaType " + type + " is not supported");
            }
            if (!n.path("schema").isTextual()) {
                throw new SchemaRegistryException(SchemaRegistryException.INVALID_SCHEMA, "Invalid schema: no \"schema\" string in the body");
            }
            return new Schema.Parser().parse(n.get("schema").asText());
        } catch (SchemaParseException e) {
            throw new SchemaRegistryException(SchemaRegistryException.INVALID_SCHEMA, "Invalid schema: " + e.getMessage());
        } catch (IOException e) {
            throw new SchemaRegistryException(SchemaRegistryException.INVALID_SCHEMA, "Invalid schema: body is not JSON");
        }
    }

    private List<Entry> versionsOf(String subject) throws SchemaRegistryException {
        List<Entry> v = subjects.get(subject);
        if (v == null || v.isEmpty()) {
            throw new SchemaRegistryException(SchemaRegistryException.SUBJECT_NOT_FOUND, "Subject '" + subject + "' not found.");
        }
        return v;
    }

    private Entry version(String subject, String version) throws SchemaRegistryException {
        List<Entry> all = versionsOf(subject);
        if (version.equals("latest") || version.equals("-1")) {
            return all.get(all.size() - 1);
        }
        int n;
        try {
            n = Integer.parseInt(version);
        } catch (NumberFormatException e) {
            n = 0;
        }
        if (n <= 0) {
            throw new SchemaRegistryException(SchemaRegistryException.INVALID_VERSION,
                    "The specified version '" + version + "' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"");
        }
        for (Entry e : all) {
            if (e.version() == n) {
                return e;
            }
        }
        throw new SchemaRegistryException(SchemaRegistryException.VERSION_NOT_FOUND, "Version " + n + " not found.");
    }

    private static Map<String, Object> versionJson(String subject, Entry e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("subject", subject);
        m.put("version", e.version());
        m.put("id", e.id());
        m.put("schema", e.schema());
        return m;
    }

    private String byId(String id) throws SchemaRegistryException {
        try {
            String s = schemasById.get(Integer.parseInt(id));
            if (s != null) {
                return s;
            }
        } catch (NumberFormatException ignored) {
            // falls through to "not found", as Confluent answers
        }
        throw new SchemaRegistryException(SchemaRegistryException.SCHEMA_NOT_FOUND, "Schema " + id + " not found");
    }

    /**
     * A schema's identity: its JSON as the parser re-writes it (whitespace and key order normalised). Not
     * Avro's parsing canonical form, which drops defaults and docs: two schemas that differ only by a
     * default are different versions with different compatibility.
     */
    private static String canonical(Schema s) {
        return s.toString();
    }

    private Object lookup(String subject, Schema schema) throws SchemaRegistryException {
        for (Entry e : versionsOf(subject)) {
            if (canonical(new Schema.Parser().parse(e.schema())).equals(canonical(schema))) {
                return versionJson(subject, e);
            }
        }
        throw new SchemaRegistryException(SchemaRegistryException.SCHEMA_NOT_FOUND, "Schema not found");
    }

    private int register(String subject, Schema schema) throws IOException {
        List<Entry> existing = subjects.getOrDefault(subject, List.of());
        String canonical = canonical(schema);
        List<Schema> parsed = new ArrayList<>();
        for (Entry e : existing) {
            Schema s = new Schema.Parser().parse(e.schema());
            if (canonical(s).equals(canonical)) {
                return e.id();
            }
            parsed.add(s);
        }
        if (!level(subject).allows(schema, parsed)) {
            throw new SchemaRegistryException(SchemaRegistryException.INCOMPATIBLE_SCHEMA,
                    "Schema being registered is incompatible with an earlier schema for subject \"" + subject
                            + "\" (compatibility " + level(subject) + ")");
        }
        int id = idsByCanonical.computeIfAbsent(canonical, c -> schemasById.size() + 1);
        schemasById.putIfAbsent(id, schema.toString());
        int version = existing.isEmpty() ? 1 : existing.get(existing.size() - 1).version() + 1;
        subjects.computeIfAbsent(subject, s -> new ArrayList<>()).add(new Entry(id, version, schema.toString()));
        persist();
        return id;
    }

    private List<Integer> deleteSubject(String subject) throws IOException {
        List<Integer> versions = versionsOf(subject).stream().map(Entry::version).toList();
        subjects.remove(subject);
        subjectLevels.remove(subject);
        persist();
        return versions;
    }

    // ------------------------------------------------------------------ persistence

    private void persist() throws IOException {
        if (store == null) {
            return;
        }
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("global_level", globalLevel.name());
        state.put("subject_levels", subjectLevels);
        state.put("schemas", schemasById);
        state.put("subjects", subjects);
        Files.createDirectories(store.toAbsolutePath().getParent());
        Path tmp = Files.createTempFile(store.toAbsolutePath().getParent(), "registry", ".tmp");
        JSON.writeValue(tmp.toFile(), state);
        Files.move(tmp, store, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private void load() throws IOException {
        JsonNode state = JSON.readTree(store.toFile());
        globalLevel = Compatibility.parse(state.path("global_level").asText("BACKWARD"));
        state.path("subject_levels").fields().forEachRemaining(e -> subjectLevels.put(e.getKey(), Compatibility.valueOf(e.getValue().asText())));
        Map<String, String> schemas = JSON.convertValue(state.path("schemas"), new TypeReference<Map<String, String>>() {});
        schemas.forEach((id, s) -> {
            schemasById.put(Integer.parseInt(id), s);
            idsByCanonical.put(canonical(new Schema.Parser().parse(s)), Integer.parseInt(id));
        });
        state.path("subjects").fields().forEachRemaining(e -> {
            List<Entry> list = new ArrayList<>();
            e.getValue().forEach(v -> list.add(new Entry(v.get("id").asInt(), v.get("version").asInt(), v.get("schema").asText())));
            subjects.put(e.getKey(), list);
        });
    }
}
