package org.laplacelora.streams.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * docker-compose.yml: its app services run commands this CLI accepts, and — where Debian's docker-compose
 * is installed (CI installs it) — the file validates, without a Docker daemon.
 */
class DockerComposeTest {
    private static final Path COMPOSE = Path.of("..", "docker-compose.yml");

    @Test
    void servicesAndTheirCommandsMatchTheApp() throws Exception {
        JsonNode compose = new ObjectMapper(new YAMLFactory()).readTree(COMPOSE.toFile());
        JsonNode services = compose.get("services");
        assertThat(services.fieldNames()).toIterable().contains("kafka", "schema-registry", "topics", "scorer", "calibrator",
                "refitter", "dashboard", "prometheus", "grafana");
        for (String service : List.of("topics", "scorer", "calibrator", "refitter", "dashboard")) {
            List<String> command = new ArrayList<>();
            services.get(service).get("command").forEach(a -> command.add(a.asText()));
            // parseArgs throws on an unknown option, a missing required one or a malformed value
            LaplaceLora.commandLine().parseArgs(command.toArray(String[]::new));
            assertThat(command).contains("kafka:29092", "http://schema-registry:8081");
        }
        assertThat(services.get("kafka").get("image").asText()).startsWith("apache/kafka:");
        assertThat(services.get("schema-registry").get("image").asText()).startsWith("confluentinc/cp-schema-registry:");
        assertThat(Files.isRegularFile(Path.of("Dockerfile"))).isTrue();
    }

    @Test
    void dockerComposeValidatesTheFile() throws Exception {
        boolean installed;
        try {
            installed = new ProcessBuilder("docker-compose", "version").redirectErrorStream(true).start().waitFor(30, TimeUnit.SECONDS);
        } catch (java.io.IOException e) {
            installed = false;
        }
        assumeTrue(installed, "docker-compose is not installed (CI installs Debian's)");
        Process p = new ProcessBuilder("docker-compose", "-f", COMPOSE.toString(), "config", "-q").redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(output).isZero();
    }
}
