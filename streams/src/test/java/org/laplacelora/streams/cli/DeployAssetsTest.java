package org.laplacelora.streams.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The Prometheus and Grafana assets under deploy/ and how docker-compose.yml wires them: the Grafana dashboard parses and
 * queries Prometheus, the provisioning files point where compose mounts them, Prometheus scrapes exactly the app services
 * at the ports their commands serve /metrics on, and — where Debian's promtool is installed (CI installs it) — the
 * scrape config and alert rules validate. {@link #queriedMetrics()} lists the metric names the dashboard and the alerts
 * query, for a test that checks a real scrape serves each of them.
 */
public class DeployAssetsTest {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path COMPOSE = Path.of("..", "docker-compose.yml");
    private static final Path PROMETHEUS = Path.of("..", "deploy", "prometheus", "prometheus.yml");
    private static final Path ALERTS = Path.of("..", "deploy", "prometheus", "alerts.yml");
    private static final Path GRAFANA_DATASOURCE = Path.of("..", "deploy", "grafana", "provisioning", "datasources", "prometheus.yml");
    private static final Path GRAFANA_PROVIDER = Path.of("..", "deploy", "grafana", "provisioning", "dashboards", "laplace-lora.yml");
    private static final Path GRAFANA_DASHBOARD = Path.of("..", "deploy", "grafana", "dashboards", "laplace-lora.json");
    /** The app services Prometheus scrapes, each under a job of the same name. */
    private static final List<String> SCRAPED = List.of("scorer", "calibrator", "refitter", "dashboard");
    private static final Pattern METRIC = Pattern.compile("laplace_lora_[a-z_]+");
    /** What may appear in an expr besides this project's metrics: PromQL functions and keywords, labels, {@code up}. */
    private static final Set<String> PROMQL_WORDS = Set.of("up", "sum", "max", "min", "avg", "count", "by", "without", "rate",
            "increase", "histogram_quantile", "or", "and", "unless", "on", "ignoring", "le", "job", "instance", "service", "method",
            "scope", "segment", "detector", "kind", "outcome", "trigger", "reason", "topic");

    @Test
    void grafanaDashboardParsesAndEveryTargetHasAnExpr() throws Exception {
        JsonNode dashboard = JSON.readTree(GRAFANA_DASHBOARD.toFile());
        assertThat(dashboard.path("uid").asText()).isEqualTo("laplace-lora");
        assertThat(dashboard.path("title").asText()).isEqualTo("Laplace-LoRA Streams");
        assertThat(dashboard.path("schemaVersion").asInt()).isGreaterThanOrEqualTo(36);
        String datasourceUid = YAML.readTree(GRAFANA_DATASOURCE.toFile()).get("datasources").get(0).get("uid").asText();
        List<JsonNode> panels = panels(dashboard);
        assertThat(panels).isNotEmpty();
        assertThat(panels).extracting(p -> p.path("type").asText()).contains("timeseries", "stat");
        for (JsonNode panel : panels) {
            JsonNode targets = panel.path("targets");
            assertThat(targets.isArray() && !targets.isEmpty()).as("targets of panel %s", panel.path("title")).isTrue();
            for (JsonNode target : targets) {
                assertThat(target.path("expr").asText()).as("expr in panel %s", panel.path("title")).isNotBlank();
                String uid = target.path("datasource").path("uid").asText(panel.path("datasource").path("uid").asText());
                assertThat(uid).as("datasource of panel %s", panel.path("title")).isEqualTo(datasourceUid);
            }
        }
        assertThat(panels).extracting(p -> p.path("id").asInt()).doesNotHaveDuplicates();
    }

    @Test
    void grafanaProvisioningPointsAtWhatComposeMounts() throws Exception {
        JsonNode services = YAML.readTree(COMPOSE.toFile()).get("services");
        Map<String, String> grafana = mounts(services.get("grafana"));
        assertThat(grafana).containsEntry("./deploy/grafana/provisioning", "/etc/grafana/provisioning")
                .containsEntry("./deploy/grafana/dashboards", "/var/lib/grafana/dashboards");
        // the provisioning files sit where Grafana looks under the mounted provisioning folder
        Path provisioning = Path.of("..", "deploy", "grafana", "provisioning");
        assertThat(GRAFANA_DATASOURCE.startsWith(provisioning.resolve("datasources"))).isTrue();
        assertThat(GRAFANA_PROVIDER.startsWith(provisioning.resolve("dashboards"))).isTrue();
        // the file provider reads the folder compose mounts the dashboards at, and the dashboard is in it
        JsonNode provider = YAML.readTree(GRAFANA_PROVIDER.toFile()).get("providers").get(0);
        assertThat(provider.get("type").asText()).isEqualTo("file");
        assertThat(provider.get("options").get("path").asText()).isEqualTo(grafana.get("./deploy/grafana/dashboards"));
        assertThat(GRAFANA_DASHBOARD.getParent()).isEqualTo(Path.of("..", "deploy", "grafana", "dashboards"));
        // the datasource is the compose Prometheus, by service name and its container port
        JsonNode datasource = YAML.readTree(GRAFANA_DATASOURCE.toFile()).get("datasources").get(0);
        assertThat(datasource.get("type").asText()).isEqualTo("prometheus");
        assertThat(datasource.get("uid").asText()).isEqualTo("prometheus");
        assertThat(services.get("prometheus").get("ports").get(0).asText()).endsWith(":9090");
        assertThat(datasource.get("url").asText()).isEqualTo("http://prometheus:9090");
        assertThat(services.get("grafana").get("depends_on").has("prometheus")).isTrue();
        // Prometheus reads its config (and, next to it, the alert rules) from the folder compose mounts
        Map<String, String> prometheus = mounts(services.get("prometheus"));
        assertThat(prometheus).containsEntry("./deploy/prometheus", "/etc/prometheus");
        assertThat(args(services.get("prometheus"))).contains("--config.file=/etc/prometheus/prometheus.yml");
        assertThat(PROMETHEUS.getParent()).isEqualTo(Path.of("..", "deploy", "prometheus"));
        List<String> ruleFiles = new ArrayList<>();
        YAML.readTree(PROMETHEUS.toFile()).get("rule_files").forEach(f -> ruleFiles.add(f.asText()));
        assertThat(ruleFiles).containsExactly("alerts.yml");
        assertThat(PROMETHEUS.resolveSibling(ruleFiles.get(0))).isEqualTo(ALERTS);
    }

    @Test
    void prometheusScrapesExactlyTheAppServicesAtTheirMetricsPorts() throws Exception {
        JsonNode services = YAML.readTree(COMPOSE.toFile()).get("services");
        JsonNode config = YAML.readTree(PROMETHEUS.toFile());
        assertThat(config.get("global").get("scrape_interval").asText()).isEqualTo("5s");
        Map<String, List<String>> jobs = new LinkedHashMap<>();
        for (JsonNode job : config.get("scrape_configs")) {
            List<String> targets = new ArrayList<>();
            job.get("static_configs").forEach(c -> c.get("targets").forEach(t -> targets.add(t.asText())));
            assertThat(job.path("metrics_path").asText("/metrics")).isEqualTo("/metrics");
            jobs.put(job.get("job_name").asText(), targets);
        }
        assertThat(jobs.keySet()).containsExactlyInAnyOrderElementsOf(SCRAPED);
        for (String service : SCRAPED) {
            assertThat(services.has(service)).as("compose service %s", service).isTrue();
            List<String> command = args(services.get(service));
            int i = command.indexOf("--metrics-port") >= 0 ? command.indexOf("--metrics-port") : command.indexOf("--port");
            assertThat(i).as("--metrics-port or --port in the command of %s", service).isNotNegative();
            assertThat(command).as("command of %s", service).containsSubsequence("--bind", "0.0.0.0");
            assertThat(jobs.get(service)).containsExactly(service + ":" + command.get(i + 1));
        }
    }

    @Test
    void alertRulesSayHowBadAndWhatToDo() throws Exception {
        List<String> exprs = new ArrayList<>();
        for (JsonNode group : YAML.readTree(ALERTS.toFile()).get("groups")) {
            for (JsonNode rule : group.get("rules")) {
                assertThat(rule.path("alert").asText()).isNotBlank();
                String name = rule.get("alert").asText();
                assertThat(rule.has("for")).as("for: of %s", name).isTrue();
                assertThat(rule.path("labels").path("severity").asText()).as("severity of %s", name).isIn("warning", "critical");
                assertThat(rule.path("annotations").path("summary").asText()).as("summary of %s", name).isNotBlank();
                assertThat(rule.path("annotations").path("description").asText()).as("description of %s", name).isNotBlank();
                exprs.add(rule.get("expr").asText());
            }
        }
        assertThat(exprs).anySatisfy(e -> assertThat(e).contains("laplace_lora_calibration_ece{", "method=\"laplace\"",
                        "scope=\"window\"", "segment=\"all\"", "> 0.10"))
                .anySatisfy(e -> assertThat(e).contains("laplace_lora_drift_events_total", "kind=\"label\"", "increase("))
                .anySatisfy(e -> assertThat(e).contains("laplace_lora_refits_total", "outcome=\"rejected\""))
                .anySatisfy(e -> assertThat(e).contains("laplace_lora_dead_letters_total"))
                .anySatisfy(e -> assertThat(e).contains("laplace_lora_ready{service=\"scorer\"} == 0", "up{job=\"scorer\"} == 0"));
    }

    @Test
    void promtoolValidatesTheRulesAndTheConfig() throws Exception {
        boolean installed;
        try {
            Process version = new ProcessBuilder("promtool", "--version").redirectErrorStream(true).start();
            version.getInputStream().readAllBytes();
            installed = version.waitFor(30, TimeUnit.SECONDS) && version.exitValue() == 0;
        } catch (IOException e) {
            installed = false;
        }
        assumeTrue(installed, "promtool is not installed (CI installs Debian's prometheus)");
        promtool("check", "rules", ALERTS.toString());
        promtool("check", "config", PROMETHEUS.toString());
    }

    @Test
    void queriesUseOnlyThisProjectsMetricsAndUp() {
        Set<String> metrics = queriedMetrics();
        assertThat(metrics).isNotEmpty().allSatisfy(m -> assertThat(m.startsWith("laplace_lora_") || m.equals("up")).as(m).isTrue());
        assertThat(metrics).contains("laplace_lora_calibration_ece", "laplace_lora_estimated_accuracy", "laplace_lora_ready",
                "laplace_lora_drift_events_total", "laplace_lora_refits_total", "laplace_lora_dead_letters_total",
                "laplace_lora_scorer_batch_seconds_bucket", "laplace_lora_scorer_end_to_end_seconds_bucket");
        // no other metric slips in: what is left of an expr, less its label matchers, ranges, numbers and this project's
        // metrics, is PromQL and label names (and Prometheus' own up)
        for (String expr : exprs()) {
            String rest = METRIC.matcher(expr.replaceAll("\\{[^}]*\\}", " ").replaceAll("\\[[^\\]]*\\]", " ")).replaceAll(" ");
            Matcher words = Pattern.compile("[A-Za-z_:][A-Za-z0-9_:]*").matcher(rest);
            while (words.find()) {
                assertThat(words.group()).as("identifier in %s", expr).isIn(PROMQL_WORDS);
            }
        }
    }

    /**
     * Every metric name the Grafana dashboard's and the alert rules' exprs use, exactly as written there (so a histogram's
     * {@code _bucket} series, not its base name). Prometheus' own {@code up} is left out: it is never in a service's scrape.
     */
    public static Set<String> queriedMetrics() {
        Set<String> metrics = new TreeSet<>();
        for (String expr : exprs()) {
            Matcher m = METRIC.matcher(expr);
            while (m.find()) {
                metrics.add(m.group());
            }
        }
        return metrics;
    }

    /** The exprs of the Grafana dashboard's targets and of the alert rules. */
    private static List<String> exprs() {
        try {
            List<String> exprs = new ArrayList<>();
            for (JsonNode panel : panels(JSON.readTree(GRAFANA_DASHBOARD.toFile()))) {
                panel.path("targets").forEach(t -> exprs.add(t.path("expr").asText()));
            }
            for (JsonNode group : YAML.readTree(ALERTS.toFile()).get("groups")) {
                group.get("rules").forEach(r -> exprs.add(r.path("expr").asText()));
            }
            return exprs;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The dashboard's panels that query (rows left out, the panels of collapsed rows included). */
    private static List<JsonNode> panels(JsonNode dashboard) {
        List<JsonNode> panels = new ArrayList<>();
        for (JsonNode panel : dashboard.path("panels")) {
            if (panel.path("type").asText().equals("row")) {
                panel.path("panels").forEach(panels::add);
            } else {
                panels.add(panel);
            }
        }
        return panels;
    }

    /** A compose service's volumes, host path to container path (the mode left off). */
    private static Map<String, String> mounts(JsonNode service) {
        Map<String, String> mounts = new LinkedHashMap<>();
        service.path("volumes").forEach(v -> {
            String[] parts = v.asText().split(":");
            mounts.put(parts[0], parts[1]);
        });
        return mounts;
    }

    private static List<String> args(JsonNode service) {
        List<String> args = new ArrayList<>();
        service.path("command").forEach(a -> args.add(a.asText()));
        return args;
    }

    private static void promtool(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("promtool"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", command) + "\n" + output).isZero();
    }
}
