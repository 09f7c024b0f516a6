package org.laplacelora.streams.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.laplacelora.schemas.avro.Question;
import org.laplacelora.streams.cli.DeployAssetsTest;
import org.laplacelora.streams.cli.LaplaceLora;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.kafka.Topics;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The demo's dashboard, looked at the way its users do: a short demo run (one shift, so a drift and a refit) with
 * the dashboard on, which stays up after the run; a real Chromium (Debian's, driven by Debian's chromedriver)
 * opens the page, and a real Prometheus server scrapes {@code /metrics} during the run. The browser and the
 * Prometheus tests are skipped, saying so, where those packages are not installed (CI installs them).
 */
class DashboardIT {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Path PROMETHEUS = Path.of("/usr/bin/prometheus");
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir static Path work;
    private static URI dashboard;
    private static URI prometheus;
    private static Process prometheusServer;
    private static Thread demoThread;
    private static FutureTask<Integer> demo;
    private static final ByteArrayOutputStream console = new ByteArrayOutputStream();
    /** Every metric name seen in the scrapes of /metrics during the run. */
    private static final Set<String> served = new TreeSet<>();
    private static PrintStream originalOut;

    @BeforeAll
    static void runTheDemoWithItsDashboard() throws Exception {
        int port = freePort();
        int kafkaPort = freePort();
        int registryPort = freePort();
        dashboard = URI.create("http://127.0.0.1:" + port + "/");
        if (Files.isExecutable(PROMETHEUS)) {
            prometheusServer = startPrometheus(port);
        }
        Path summary = work.resolve("summary.json");
        originalOut = System.out;
        System.setOut(new PrintStream(new Tee(originalOut, console), true, StandardCharsets.UTF_8));
        demo = new FutureTask<>(() -> LaplaceLora.commandLine().execute("demo", "--questions", "1200", "--drift-at", "400",
                "--inject-bad", "3", "--dashboard-port", Integer.toString(port), "--dashboard-linger-s", "600",
                "--kafka-port", Integer.toString(kafkaPort), "--registry-port", Integer.toString(registryPort),
                "--summary-json", summary.toString(), "--cache-dir", work.resolve("cache").toString()));
        demoThread = new Thread(demo, "demo");
        demoThread.start();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(6);
        while (!console.toString(StandardCharsets.UTF_8).contains("scorer, calibrator and refitter running") && !demo.isDone()
                && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        produceForeignRecords("127.0.0.1:" + kafkaPort, "http://127.0.0.1:" + registryPort);
        while (!Files.exists(summary) && !demo.isDone() && System.nanoTime() < deadline) {
            scrape();   // the services' meters go when they close, before the dashboard does
            Thread.sleep(500);
        }
        assertThat(demo.isDone()).as("the demo ended before its summary: %s", console).isFalse();
        assertThat(summary).exists();
        Thread.sleep(3000); // the dashboard's last events and one more scrape
    }

    @AfterAll
    static void stop() throws Exception {
        if (demoThread != null) {
            demoThread.interrupt();   // ends the linger
            assertThat(demo.get(2, TimeUnit.MINUTES)).isZero();
        }
        if (prometheusServer != null) {
            prometheusServer.destroy();
            prometheusServer.waitFor(30, TimeUnit.SECONDS);
        }
        if (originalOut != null) {
            System.setOut(originalOut);
        }
    }

    @Test
    void theDemoPrintsTheDashboardUrlBeforeTheFirstPrediction() {
        List<String> lines = console.toString(StandardCharsets.UTF_8).lines().toList();
        int url = indexOf(lines, "dashboard: " + dashboard);
        int scorerStarted = indexOf(lines, "scorer, calibrator and refitter running");   // no prediction can come before this line
        assertThat(url).as(String.join("\n", lines)).isNotNegative();
        assertThat(scorerStarted).isGreaterThan(url);
        assertThat(lines.get(url)).contains(dashboard + "metrics");
    }

    /**
     * What a user can produce into the demo's topics with any client: a question of their own making (its own id),
     * bytes that are not Avro, a label for nothing. The demo goes on, its accounting holds, and it reports them.
     */
    @Test
    void theDemoSetsApartRecordsOfSomeoneElsesMaking() throws Exception {
        JsonNode s = new ObjectMapper().readTree(work.resolve("summary.json").toFile());
        assertThat(s.get("predictions").asInt()).isEqualTo(1200);
        assertThat(s.get("dead_letters").asInt()).isEqualTo(3);
        assertThat(s.get("foreign_records").asInt()).as("the foreign question's prediction or dead letter, and the garbage's")
                .isGreaterThanOrEqualTo(2);
    }

    private static void produceForeignRecords(String bootstrap, String registry) throws Exception {
        Topics topics = KafkaSettings.of(bootstrap, registry, null, (short) 1).topics();
        Question mine = Question.newBuilder().setId("kcat-1").setTask("generic")
                .setText("").setPrompt("A question of my own making. Answer:").setAnswers(List.of(" yes", " no"))
                .setProducedAt(Instant.now()).build();
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(
                Map.of("bootstrap.servers", bootstrap), new org.apache.kafka.common.serialization.StringSerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            p.send(new ProducerRecord<>(topics.questions().name(), "kcat-1", topics.questions().serialize(mine))).get();
            p.send(new ProducerRecord<>(topics.questions().name(), "kcat-2",
                    "{\"id\": \"not avro\"}".getBytes(StandardCharsets.UTF_8))).get();
            p.send(new ProducerRecord<>(topics.labels().name(), "kcat-3",
                    "garbage".getBytes(StandardCharsets.UTF_8))).get();
        }
    }

    @Test
    void aRealBrowserShowsAllThreeMethodsADriftARefitAndReliabilityDiagrams() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "Debian's chromium and chromium-driver are not installed (.ci/run installs them): the browser test is skipped");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update", "--window-size=1400,2300");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        WebDriver browser = new ChromeDriver(service, options);
        try {
            browser.get(dashboard.toString());
            WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
            wait.until(b -> "true".equals(((JavascriptExecutor) b).executeScript("return document.body.dataset.caughtUp")));
            wait.until(b -> !b.findElements(By.cssSelector("#markers li.marker.refit")).isEmpty());
            for (String chart : List.of("chart-ece", "chart-nll", "chart-accuracy")) {
                String series = browser.findElement(By.id(chart)).getAttribute("data-series");
                for (String method : List.of("laplace", "temperature", "map")) {
                    assertThat(count(series, method)).as("%s: %s", chart, series).isGreaterThanOrEqualTo(10);
                }
                assertThat(browser.findElements(By.cssSelector("#" + chart + " canvas"))).isNotEmpty();
            }
            assertThat(browser.findElements(By.cssSelector("#markers li.marker.drift"))).isNotEmpty();
            assertThat(browser.findElements(By.cssSelector("#markers li.marker.refit.accepted"))).isNotEmpty();
            List<String> diagrams = new ArrayList<>();
            browser.findElements(By.cssSelector("svg.reliability")).forEach(e -> diagrams.add(e.getAttribute("data-method")));
            assertThat(diagrams).contains("laplace", "temperature", "map");
            assertThat(browser.findElements(By.cssSelector("svg.reliability rect.bin"))).isNotEmpty();
            assertThat(browser.findElement(By.id("segments")).getText()).contains("ECE");
            assertThat(browser.findElement(By.id("refits")).getText()).contains("accepted");
            assertThat(browser.findElement(By.id("connection")).getText()).contains("Kafka 127.0.0.1:");
            Path shot = Path.of("target", "dashboard.png");
            Files.write(shot, ((ChromeDriver) browser).getScreenshotAs(OutputType.BYTES));
            assertThat(Files.size(shot)).isPositive();
        } finally {
            browser.quit();
        }
    }

    @Test
    void aRealPrometheusScrapedTheCalibratorsEceForAllThreeMethods() throws Exception {
        assumeTrue(prometheusServer != null, "Debian's prometheus is not installed (.ci/run installs it): the Prometheus test is skipped");
        String query = "count_over_time(laplace_lora_calibration_ece{scope=\"window\",segment=\"all\"}[30m])";
        JsonNode answer = new ObjectMapper().readTree(get(prometheus.resolve("/api/v1/query?query="
                + URLEncoder.encode(query, StandardCharsets.UTF_8))));
        assertThat(answer.get("status").asText()).as(answer.toString()).isEqualTo("success");
        Set<String> methods = new TreeSet<>();
        for (JsonNode series : answer.get("data").get("result")) {
            methods.add(series.get("metric").get("method").asText());
            assertThat(series.get("value").get(1).asDouble()).as("scraped more than once during the run").isGreaterThan(1);
        }
        assertThat(methods).containsExactly("laplace", "map", "temperature");
    }

    private static void scrape() {
        try {
            String metrics = get(dashboard.resolve("/metrics"));
            metrics.lines().filter(l -> !l.startsWith("#") && !l.isBlank()).forEach(l -> served.add(l.split("[{ ]")[0]));
        } catch (IOException e) {
            // not listening yet
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void everyMetricTheGrafanaBoardAndTheAlertsQueryIsServed() throws Exception {
        assertThat(served).containsAll(DeployAssetsTest.queriedMetrics().stream().filter(m -> !m.equals("up")).toList());
        assertThat(get(dashboard.resolve("/health"))).contains("up");
        assertThat(get(dashboard.resolve("/ready"))).contains("ready");
    }

    private static Process startPrometheus(int dashboardPort) throws IOException, InterruptedException {
        int port = freePort();
        prometheus = URI.create("http://127.0.0.1:" + port);
        Path config = work.resolve("prometheus.yml");
        Files.writeString(config, """
                global:
                  scrape_interval: 1s
                scrape_configs:
                  - job_name: demo
                    static_configs:
                      - targets: ["127.0.0.1:%d"]
                """.formatted(dashboardPort));
        Process p = new ProcessBuilder(PROMETHEUS.toString(), "--config.file=" + config, "--storage.tsdb.path=" + work.resolve("tsdb"),
                "--web.listen-address=127.0.0.1:" + port).redirectErrorStream(true)
                .redirectOutput(work.resolve("prometheus.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            try {
                if (get(prometheus.resolve("/-/ready")).contains("Ready")) {
                    return p;
                }
            } catch (IOException e) {
                Thread.sleep(200);
            }
        }
        p.destroy();
        throw new IllegalStateException("Prometheus did not become ready: " + Files.readString(work.resolve("prometheus.log")));
    }

    private static String get(URI uri) throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
            throw new IOException(uri + ": HTTP " + r.statusCode() + " " + r.body());
        }
        return r.body();
    }

    private static int count(String series, String method) {
        for (String part : series.split(",")) {
            String[] kv = part.split(":");
            if (kv[0].equals(method)) {
                return Integer.parseInt(kv[1]);
            }
        }
        return 0;
    }

    private static int indexOf(List<String> lines, String text) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(text)) {
                return i;
            }
        }
        return -1;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** The console, to the terminal and kept for the test. */
    private static final class Tee extends OutputStream {
        private final OutputStream a;
        private final OutputStream b;

        Tee(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int c) throws IOException {
            a.write(c);
            synchronized (b) {
                b.write(c);
            }
        }

        @Override
        public void write(byte[] bytes, int off, int len) throws IOException {
            a.write(bytes, off, len);
            synchronized (b) {
                b.write(bytes, off, len);
            }
        }

        @Override
        public void flush() throws IOException {
            a.flush();
        }
    }
}
