package org.laplacelora.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

/** The client against a scripted server: retries with backoff, failover, no retry on client errors, basic auth, caching. */
class HttpSchemaRegistryTest {
    private static final String SCHEMA = "{\"type\":\"record\",\"name\":\"T\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}";

    @Test
    void retriesServerErrorsThenCachesAndSendsBasicAuth() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        List<String> auth = new CopyOnWriteArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            auth.add(ex.getRequestHeaders().getFirst("Authorization"));
            int n = calls.incrementAndGet();
            byte[] body = (n < 3 ? "{\"error_code\":50002,\"message\":\"Operation timed out\"}"
                    : "{\"schema\":" + new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(SCHEMA) + "}")
                    .getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(n < 3 ? 500 : 200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort();
            RegistryConfig config = RegistryConfig.from(Map.of(RegistryConfig.URL, url, RegistryConfig.USER_INFO, "alice:s3cret",
                    RegistryConfig.RETRIES, "3", RegistryConfig.BACKOFF_MS, "10"));
            HttpSchemaRegistry client = new HttpSchemaRegistry(config);
            long start = System.nanoTime();
            Schema s = client.byId(7);
            assertThat(s.getName()).isEqualTo("T");
            assertThat(calls.get()).isEqualTo(3);
            assertThat((System.nanoTime() - start) / 1e6).as("backoff 10 + 20 ms").isGreaterThanOrEqualTo(30);
            client.byId(7);
            assertThat(calls.get()).as("ids are cached").isEqualTo(3);
            assertThat(auth).allMatch(a -> a.equals("Basic YWxpY2U6czNjcmV0"));
        } finally {
            server.stop(0);
        }
    }

    @Test
    void clientErrorsAreNotRetriedAndDeadUrlsFailOver() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            calls.incrementAndGet();
            byte[] body = "{\"error_code\":40403,\"message\":\"Schema 7 not found\"}".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(404, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
        try {
            String live = "http://127.0.0.1:" + server.getAddress().getPort();
            String dead = "http://127.0.0.1:1";
            HttpSchemaRegistry client = new HttpSchemaRegistry(new RegistryConfig(List.of(dead, live), null, null, null, null,
                    null, 2, Duration.ofMillis(1), Duration.ofSeconds(2)));
            assertThatThrownBy(() -> client.byId(7)).isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                assertThat(e.errorCode()).isEqualTo(40403);
                assertThat(e.getMessage()).contains("Schema 7 not found");
            });
            assertThat(calls.get()).as("one call reached the live URL and was not retried").isEqualTo(1);
        } finally {
            server.stop(0);
        }
    }

    @Test
    void aRegistryOutOfReachIsNamedInTheError() {
        // Port 1 refuses connections; a refused connection's exception has no message of its own.
        HttpSchemaRegistry client = new HttpSchemaRegistry(new RegistryConfig(List.of("http://127.0.0.1:1"), null, null, null, null,
                null, 1, Duration.ofMillis(1), Duration.ofSeconds(2)));
        assertThatThrownBy(() -> client.byId(7)).isInstanceOf(java.io.IOException.class)
                .hasMessageContaining("GET http://127.0.0.1:1/schemas/ids/7").hasMessageNotContaining("null")
                .hasMessageContaining("ConnectException");
    }
}
