package org.laplacelora.streams.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.laplacelora.cli.LaplaceLora;

/**
 * The demo as a user runs it, on an empty cache (so the model is built, fine-tuned and fitted here): every
 * valid question predicted exactly once, every malformed record dead-lettered once, windows for all methods,
 * the model clearly better than chance before the drift and confidently wrong after it, the drift detected.
 */
class DemoIT {
    @Test
    void demoOnAnEmptyCache(@TempDir Path cache, @TempDir Path out) throws Exception {
        Path summary = out.resolve("s.json");
        int code = LaplaceLora.commandLine().execute("demo", "--questions", "160", "--inject-bad", "6", "--window-size", "20",
                "--rate", "80", "--summary-json", summary.toString(), "--cache-dir", cache.toString());
        assertThat(code).isZero();
        JsonNode s = new ObjectMapper().readTree(summary.toFile());
        assertThat(s.get("questions_published").asInt()).isEqualTo(160);
        assertThat(s.get("predictions").asInt()).isEqualTo(160);
        assertThat(s.get("duplicate_predictions").asInt()).isZero();
        assertThat(s.get("dead_letters").asInt()).isEqualTo(6);
        JsonNode windows = s.get("windows");
        assertThat(windows.size()).isEqualTo(8);
        for (JsonNode w : windows) {
            for (String m : new String[] {"laplace", "temperature", "map"}) {
                assertThat(w.get(m).has("accuracy") && w.get(m).has("ece") && w.get(m).has("nll")).isTrue();
            }
        }
        double before = (windows.get(0).get("map").get("accuracy").asDouble() + windows.get(1).get("map").get("accuracy").asDouble()) / 2;
        double after = (windows.get(6).get("map").get("accuracy").asDouble() + windows.get(7).get("map").get("accuracy").asDouble()) / 2;
        double eceAfter = (windows.get(6).get("map").get("ece").asDouble() + windows.get(7).get("map").get("ece").asDouble()) / 2;
        assertThat(before).isGreaterThan(0.7);
        assertThat(after).isLessThan(0.35);
        assertThat(eceAfter).isGreaterThan(0.45);
        assertThat(s.get("drift_events").size()).isPositive();
        assertThat(s.get("drift_events").get(0).get("at_question").asInt()).isGreaterThanOrEqualTo(80);
        assertThat(s.get("posterior_versions").get(0).get("version").asInt()).isZero();
    }
}
