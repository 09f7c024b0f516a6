package org.laplacelora.schemas.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.avro.Schema;

/**
 * A client of the Confluent Schema Registry REST API over {@code java.net.http}: ids are cached both ways
 * (schemas never change under an id), server errors and connection failures are retried with exponential
 * backoff across the configured URLs, and basic auth and TLS come from {@link RegistryConfig}.
 */
public final class HttpSchemaRegistry implements SchemaRegistry {
    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final RegistryConfig config;
    private final HttpClient http;
    private final Map<String, Integer> idsBySubjectAndSchema = new ConcurrentHashMap<>();
    private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();

    public HttpSchemaRegistry(RegistryConfig config) {
        this.config = config;
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(config.timeout());
        if (config.truststore() != null || config.keystore() != null) {
            b.sslContext(sslContext(config));
        }
        this.http = b.build();
    }

    private static SSLContext sslContext(RegistryConfig c) {
        try {
            TrustManagerFactory tmf = null;
            if (c.truststore() != null) {
                KeyStore ts = load(c.truststore(), c.truststorePassword());
                tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(ts);
            }
            KeyManagerFactory kmf = null;
            if (c.keystore() != null) {
                KeyStore ks = load(c.keystore(), c.keystorePassword());
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(ks, c.keystorePassword() == null ? null : c.keystorePassword().toCharArray());
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
            return ctx;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("schema registry TLS settings: " + e.getMessage(), e);
        }
    }

    private static KeyStore load(java.nio.file.Path file, String password) throws IOException, GeneralSecurityException {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        try (InputStream in = Files.newInputStream(file)) {
            ks.load(in, password == null ? null : password.toCharArray());
        }
        return ks;
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String body(Schema schema) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.put("schema", schema.toString());
        return JSON.writeValueAsString(n);
    }

    private static String cacheKey(String subject, Schema schema) {
        return subject + "\u0000" + schema;
    }

    @Override
    public int register(String subject, Schema schema) throws IOException {
        return cachedId(subject, schema, "/subjects/" + encode(subject) + "/versions");
    }

    @Override
    public int lookup(String subject, Schema schema) throws IOException {
        return cachedId(subject, schema, "/subjects/" + encode(subject));
    }

    /** Registering and looking up both answer an id for (subject, schema), which never changes once given. */
    private int cachedId(String subject, Schema schema, String path) throws IOException {
        String key = cacheKey(subject, schema);
        Integer cached = idsBySubjectAndSchema.get(key);
        if (cached != null) {
            return cached;
        }
        int id = call("POST", path, body(schema)).get("id").asInt();
        idsBySubjectAndSchema.put(key, id);
        schemasById.putIfAbsent(id, schema);
        return id;
    }

    @Override
    public Schema byId(int id) throws IOException {
        Schema cached = schemasById.get(id);
        if (cached != null) {
            return cached;
        }
        Schema s = new Schema.Parser().parse(call("GET", "/schemas/ids/" + id, null).get("schema").asText());
        schemasById.put(id, s);
        return s;
    }

    @Override
    public Version latest(String subject) throws IOException {
        JsonNode n = call("GET", "/subjects/" + encode(subject) + "/versions/latest", null);
        return new Version(n.get("subject").asText(), n.get("version").asInt(), n.get("id").asInt(),
                new Schema.Parser().parse(n.get("schema").asText()));
    }

    @Override
    public List<Integer> versions(String subject) throws IOException {
        List<Integer> out = new ArrayList<>();
        call("GET", "/subjects/" + encode(subject) + "/versions", null).forEach(v -> out.add(v.asInt()));
        return out;
    }

    @Override
    public List<String> subjects() throws IOException {
        List<String> out = new ArrayList<>();
        call("GET", "/subjects", null).forEach(v -> out.add(v.asText()));
        return out;
    }

    @Override
    public boolean compatible(String subject, Schema schema) throws IOException {
        return call("POST", "/compatibility/subjects/" + encode(subject) + "/versions/latest", body(schema))
                .get("is_compatible").asBoolean();
    }

    @Override
    public String compatibility(String subject) throws IOException {
        String path = subject == null ? "/config" : "/config/" + encode(subject);
        return call("GET", path, null).get("compatibilityLevel").asText();
    }

    @Override
    public void setCompatibility(String subject, String level) throws IOException {
        String path = subject == null ? "/config" : "/config/" + encode(subject);
        call("PUT", path, JSON.writeValueAsString(Map.of("compatibility", level)));
    }

    @Override
    public List<Integer> delete(String subject) throws IOException {
        List<Integer> out = new ArrayList<>();
        call("DELETE", "/subjects/" + encode(subject), null).forEach(v -> out.add(v.asInt()));
        idsBySubjectAndSchema.keySet().removeIf(k -> k.startsWith(subject + "\u0000"));
        return out;
    }

    /** One REST call, retried on server errors and connection failures, over the URLs in turn. */
    private JsonNode call(String method, String path, String body) throws IOException {
        IOException last = null;
        int attempts = config.retries() + 1;
        for (int attempt = 0; attempt < attempts; attempt++) {
            String base = config.urls().get(attempt % config.urls().size());
            HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(base + path))
                    .timeout(config.timeout())
                    .header("Accept", CONTENT_TYPE)
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
            if (body != null) {
                req.header("Content-Type", CONTENT_TYPE);
            }
            if (config.userInfo() != null) {
                req.header("Authorization", "Basic " + Base64.getEncoder()
                        .encodeToString(config.userInfo().getBytes(StandardCharsets.UTF_8)));
            }
            try {
                HttpResponse<String> resp = http.send(req.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                JsonNode json = resp.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(resp.body());
                if (resp.statusCode() / 100 == 2) {
                    return json;
                }
                SchemaRegistryException e = new SchemaRegistryException(json.path("error_code").asInt(resp.statusCode()),
                        method + " " + base + path + ": " + json.path("message").asText("HTTP " + resp.statusCode()));
                if (!e.retriable()) {
                    throw e;
                }
                last = e;
            } catch (SchemaRegistryException e) {
                throw e;
            } catch (IOException e) {
                // A refused connection's exception has no message: name it, not "null".
                last = new IOException(method + " " + base + path + ": " + (e.getMessage() != null ? e.getMessage()
                        : e.getClass().getSimpleName() + " (is the registry reachable there?)"), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while calling the schema registry", e);
            }
            if (attempt + 1 < attempts) {
                try {
                    Thread.sleep(config.backoff().toMillis() << Math.min(attempt, 10));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while retrying the schema registry", e);
                }
            }
        }
        throw last;
    }
}
