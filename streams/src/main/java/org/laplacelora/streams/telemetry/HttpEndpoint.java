package org.laplacelora.streams.telemetry;

import com.sun.net.httpserver.BasicAuthenticator;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A service's HTTP endpoint: {@code /metrics} (Prometheus text format), {@code /health} (the process is up),
 * {@code /ready} (every readiness check holds), and what else the service mounts (the dashboard's page).
 * The JDK's own server: a few endpoints do not need a web framework.
 */
public final class HttpEndpoint implements AutoCloseable {
    private final HttpServer server;
    private final HttpSettings settings;
    private final List<BooleanSupplier> readiness = new ArrayList<>();

    private HttpEndpoint(HttpServer server, HttpSettings settings) {
        this.server = server;
        this.settings = settings;
    }

    /** Listens, or fails with one error naming the port and its option. */
    public static HttpEndpoint start(HttpSettings s) throws IOException {
        Telemetry.prometheus(); // before the services register their meters, so that it sees them from the start
        InetSocketAddress address = new InetSocketAddress(s.bind(), s.port());
        HttpServer server;
        try {
            if (s.keystore() == null) {
                server = HttpServer.create(address, 0);
            } else {
                HttpsServer https = HttpsServer.create(address, 0);
                https.setHttpsConfigurator(new HttpsConfigurator(tls(s)));
                server = https;
            }
        } catch (BindException e) {
            throw new IllegalArgumentException(String.format("port %d on %s is in use (%s); choose another, or 0 for any free one",
                    s.port(), s.bind(), s.portOption()), e);
        }
        server.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "http-" + s.portOption().replace("--", ""));
            t.setDaemon(true);
            return t;
        }));
        HttpEndpoint endpoint = new HttpEndpoint(server, s);
        PrometheusScrape scrape = new PrometheusScrape();
        endpoint.mount("/metrics", scrape);
        endpoint.mount("/health", x -> respond(x, 200, "text/plain; charset=utf-8", "up\n"));
        endpoint.mount("/ready", x -> {
            boolean ready = endpoint.ready();
            respond(x, ready ? 200 : 503, "text/plain; charset=utf-8", ready ? "ready\n" : "not ready\n");
        });
        server.start();
        return endpoint;
    }

    private static SSLContext tls(HttpSettings s) throws IOException {
        try (InputStream in = java.nio.file.Files.newInputStream(s.keystore())) {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(in, s.keystorePassword().toCharArray());
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, s.keystorePassword().toCharArray());
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(keys.getKeyManagers(), null, null);
            return tls;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot use the keystore " + s.keystore() + ": " + e.getMessage(), e);
        }
    }

    /** Serves {@code handler} under {@code path}, behind basic auth when it is configured. */
    public void mount(String path, HttpHandler handler) {
        HttpContext context = server.createContext(path, x -> {
            try (x) {
                handler.handle(x);
            }
        });
        if (settings.username() != null) {
            context.setAuthenticator(new BasicAuthenticator("laplace-lora") {
                @Override
                public boolean checkCredentials(String user, String password) {
                    return MessageDigest.isEqual(utf8(settings.username()), utf8(user))
                            & MessageDigest.isEqual(utf8(settings.password()), utf8(password));   // no early exit to time
                }
            });
        }
    }

    private static byte[] utf8(String s) {
        return s == null ? new byte[0] : s.getBytes(StandardCharsets.UTF_8);
    }

    /** {@code /ready} answers 200 once every check added holds. */
    public void readyWhen(BooleanSupplier check) {
        synchronized (readiness) {
            readiness.add(check);
        }
    }

    public boolean ready() {
        synchronized (readiness) {
            return readiness.stream().allMatch(BooleanSupplier::getAsBoolean);
        }
    }

    public URI url() {
        String host = settings.bind().equals("0.0.0.0") ? "localhost" : settings.bind();
        return URI.create((settings.keystore() == null ? "http" : "https") + "://" + host + ":" + server.getAddress().getPort() + "/");
    }

    public static void respond(HttpExchange x, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", contentType);
        x.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            try (OutputStream out = x.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }

    /** The process's registry in the text format Prometheus asks for. */
    private static final class PrometheusScrape implements HttpHandler {
        @Override
        public void handle(HttpExchange x) throws IOException {
            respond(x, 200, "text/plain; version=0.0.4; charset=utf-8", Telemetry.prometheus().scrape());
        }
    }
}
