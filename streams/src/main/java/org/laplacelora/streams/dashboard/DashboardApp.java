package org.laplacelora.streams.dashboard;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.Map;
import java.util.Properties;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.telemetry.HttpEndpoint;
import org.laplacelora.streams.telemetry.HttpSettings;
import org.laplacelora.streams.telemetry.Telemetry;

/**
 * The dashboard service: one page that draws calibration-metrics, drift-events, refit-reports, the posteriors'
 * manifests and the predictions live (server-sent events), on the same HTTP endpoint as {@code /metrics},
 * {@code /health} and {@code /ready} (ready once the topics' history has been read).
 */
public final class DashboardApp implements AutoCloseable {
    private static final String PAGE = "/org/laplacelora/streams/dashboard/";
    private static final Map<String, String> FILES = Map.of("/", "index.html", "/dashboard.js", "dashboard.js",
            "/dashboard.css", "dashboard.css");
    private static final Map<String, String> TYPES = Map.of("html", "text/html; charset=utf-8", "js", "text/javascript; charset=utf-8",
            "css", "text/css; charset=utf-8");
    private static final Map<String, String> TOPIC_OF_EVENT = Map.of("metrics", "calibration-metrics", "drift", "drift-events",
            "refit", "refit-reports", "posterior", "posteriors", "predictions", "predictions");
    /** Events kept for a page that connects later (about 2,000 windows of the three methods and a few segments). */
    private static final int HISTORY = 50_000;

    private final HttpEndpoint http;
    private final DashboardFeed feed;
    private final EventStream events = new EventStream(HISTORY);
    private final Thread reading;
    private final Gauge pages;
    private final Gauge ready;

    private DashboardApp(KafkaSettings kafka, HttpEndpoint http, String groupId) {
        this.http = http;
        this.feed = new DashboardFeed(kafka, groupId, this::publish);
        ObjectNode config = DashboardEvents.JSON.createObjectNode().put("bootstrapServers", kafka.bootstrapServers())
                .put("schemaRegistry", kafka.registryUrl()).put("group", groupId);
        config.putPOJO("topics", feed.topicNames());
        String uplot = "META-INF/resources/webjars/uplot/" + webJarVersion() + "/dist/";
        http.mount("/", x -> {
            String path = x.getRequestURI().getPath();
            if (FILES.containsKey(path)) {
                resource(x, PAGE + FILES.get(path));
            } else if (path.equals("/config.json")) {
                HttpEndpoint.respond(x, 200, "application/json", config.toString());
            } else if (path.equals("/events")) {
                events.serve(x);
            } else if (path.startsWith("/uplot/") && !path.contains("..")) {
                resource(x, "/" + uplot + path.substring("/uplot/".length()));
            } else {
                HttpEndpoint.respond(x, 404, "text/plain; charset=utf-8", "not found: " + path + "\n");
            }
        });
        http.readyWhen(feed::caughtUp);
        this.pages = Gauge.builder(Telemetry.PREFIX + "dashboard.pages", events, EventStream::clients)
                .description("Pages connected to the dashboard").register(Telemetry.registry());
        this.ready = Telemetry.readiness("dashboard", feed::caughtUp);
        this.reading = new Thread(feed, "dashboard-feed");
        reading.setDaemon(true);
        reading.start();
    }

    /** Starts the page and its feed on an endpoint of its own. */
    public static DashboardApp start(KafkaSettings kafka, HttpSettings settings, String groupId) throws IOException {
        HttpEndpoint http = HttpEndpoint.start(settings);
        try {
            return new DashboardApp(kafka, http, groupId);
        } catch (RuntimeException e) {
            http.close();
            throw e;
        }
    }

    private void publish(ObjectNode event) {
        String topic = TOPIC_OF_EVENT.get(event.get("type").asText());
        if (topic != null) {
            Counter.builder(Telemetry.PREFIX + "dashboard.records").description("Records the dashboard drew, by topic (predictions: per-second counts)")
                    .tag("topic", topic).register(Telemetry.registry()).increment();
        }
        events.publish(event);
    }

    private static void resource(HttpExchange x, String name) throws IOException {
        try (InputStream in = DashboardApp.class.getResourceAsStream(name)) {
            if (in == null) {
                HttpEndpoint.respond(x, 404, "text/plain; charset=utf-8", "not found\n");
                return;
            }
            byte[] body = in.readAllBytes();
            String extension = name.substring(name.lastIndexOf('.') + 1);
            x.getResponseHeaders().set("Content-Type", TYPES.getOrDefault(extension, "application/octet-stream"));
            x.sendResponseHeaders(200, body.length);
            x.getResponseBody().write(body);
        }
    }

    /** uPlot's version, from the WebJar's own Maven metadata (so that upgrading it is one line of the pom). */
    private static String webJarVersion() {
        try (InputStream in = DashboardApp.class.getResourceAsStream("/META-INF/maven/org.webjars.npm/uplot/pom.properties")) {
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version");
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("the uPlot WebJar is not on the class path", e);
        }
    }

    public URI url() {
        return http.url();
    }

    /** Everything that was in the topics when it started has been read. */
    public boolean caughtUp() {
        return feed.caughtUp();
    }

    @Override
    public void close() throws InterruptedException {
        feed.stop();   // a poll returns at once and the consumer closes
        reading.join(6_000);
        reading.interrupt();   // still there: out of a wait for a topic or for the registry
        events.close();
        http.close();
        reading.join(10_000);
        Telemetry.registry().remove(pages);
        Telemetry.registry().remove(ready);
    }
}
