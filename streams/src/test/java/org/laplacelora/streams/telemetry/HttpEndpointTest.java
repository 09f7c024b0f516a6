package org.laplacelora.streams.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.Counter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** /metrics in the Prometheus text format, /health, /ready following its checks, a port in use, basic auth. */
class HttpEndpointTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static HttpResponse<String> get(URI uri, String authorization) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(uri);
        if (authorization != null) {
            r.header("Authorization", authorization);
        }
        return HTTP.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void metricsHealthAndReadiness() throws Exception {
        Telemetry.prometheus();
        String name = "test.events" + System.nanoTime();   // the registry is the process's: a name of this run's own
        Counter.builder(Telemetry.PREFIX + name).register(Telemetry.registry()).increment(3);
        AtomicBoolean ready = new AtomicBoolean(false);
        try (HttpEndpoint http = HttpEndpoint.start(HttpSettings.plain("127.0.0.1", 0, "--metrics-port"))) {
            http.readyWhen(ready::get);
            HttpResponse<String> metrics = get(http.url().resolve("/metrics"), null);
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/plain; version=0.0.4");
            String prometheusName = "laplace_lora_" + name.replace('.', '_') + "_total";
            assertThat(metrics.body()).contains("# TYPE " + prometheusName + " counter", prometheusName + " 3.0");
            assertThat(get(http.url().resolve("/health"), null).statusCode()).isEqualTo(200);
            assertThat(get(http.url().resolve("/ready"), null).statusCode()).isEqualTo(503);
            ready.set(true);
            assertThat(get(http.url().resolve("/ready"), null).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void aPortInUseFailsWithOneErrorNamingItsOption() throws Exception {
        try (HttpEndpoint first = HttpEndpoint.start(HttpSettings.plain("127.0.0.1", 0, "--metrics-port"))) {
            int port = first.url().getPort();
            assertThatThrownBy(() -> HttpEndpoint.start(HttpSettings.plain("127.0.0.1", port, "--dashboard-port")))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("port " + port)
                    .hasMessageContaining("in use").hasMessageContaining("--dashboard-port");
        }
    }

    /** A keystore made by the JDK's keytool; the client trusts that one certificate. */
    @Test
    void tlsFromAKeystore(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path keystore = dir.resolve("http.p12");
        Process keytool = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-keystore", keystore.toString(), "-storetype", "PKCS12", "-storepass", "changeit", "-keyalg", "RSA",
                "-alias", "http", "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1", "-validity", "2").redirectErrorStream(true).start();
        assertThat(keytool.waitFor()).as(new String(keytool.getInputStream().readAllBytes())).isZero();
        java.security.KeyStore trusted = java.security.KeyStore.getInstance("PKCS12");
        try (var in = java.nio.file.Files.newInputStream(keystore)) {
            trusted.load(in, "changeit".toCharArray());
        }
        javax.net.ssl.TrustManagerFactory trust = javax.net.ssl.TrustManagerFactory.getInstance(
                javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        trust.init(trusted);
        javax.net.ssl.SSLContext tls = javax.net.ssl.SSLContext.getInstance("TLS");
        tls.init(null, trust.getTrustManagers(), null);
        HttpClient client = HttpClient.newBuilder().sslContext(tls).build();
        try (HttpEndpoint http = HttpEndpoint.start(new HttpSettings("127.0.0.1", 0, "--port", null, null, keystore, "changeit"))) {
            assertThat(http.url().getScheme()).isEqualTo("https");
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(http.url().resolve("/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
        }
    }

    @Test
    void basicAuthGuardsEveryPath() throws Exception {
        HttpSettings s = new HttpSettings("127.0.0.1", 0, "--port", "ops", "s3cret", null, null);
        try (HttpEndpoint http = HttpEndpoint.start(s)) {
            assertThat(get(http.url().resolve("/metrics"), null).statusCode()).isEqualTo(401);
            String wrong = "Basic " + Base64.getEncoder().encodeToString("ops:nope".getBytes(StandardCharsets.UTF_8));
            assertThat(get(http.url().resolve("/health"), wrong).statusCode()).isEqualTo(401);
            String right = "Basic " + Base64.getEncoder().encodeToString("ops:s3cret".getBytes(StandardCharsets.UTF_8));
            assertThat(get(http.url().resolve("/health"), right).statusCode()).isEqualTo(200);
            assertThat(get(http.url().resolve("/ready"), null).statusCode()).isEqualTo(401);
            http.mount("/page", x -> HttpEndpoint.respond(x, 200, "text/plain", "a page\n"));
            assertThat(get(http.url().resolve("/page"), null).statusCode()).isEqualTo(401);
            assertThat(get(http.url().resolve("/page"), right).body()).isEqualTo("a page\n");
            assertThat(get(http.url().resolve("/metrics"), right).statusCode()).isEqualTo(200);
        }
    }
}
