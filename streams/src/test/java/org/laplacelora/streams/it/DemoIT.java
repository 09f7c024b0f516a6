package org.laplacelora.streams.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.laplacelora.streams.cli.LaplaceLora;

/**
 * The demo as a user runs it, on an empty cache (so the model is built, fine-tuned and fitted here): every
 * valid question predicted exactly once, every malformed record dead-lettered once, windows for all methods,
 * the model clearly better than chance before the drift and confidently wrong after it, the drift detected.
 */
/**
 * The demo command on an empty cache: the model is built and fitted, 1200 questions stream through
 * the embedded KRaft broker with a drift at question 400, the calibrator detects it, the refitter refits
 * and publishes a new posterior version, the scorer swaps it in, and Laplace-LoRA's windowed ECE on the
 * drifted questions comes down while MAP's and temperature scaling's stay high.
 */
class DemoIT {
    @Test
    void driftIsDetectedRefittedAndSwappedInOnAnEmptyCache(@TempDir Path cache, @TempDir Path out) throws Exception {
        Path summary = out.resolve("s.json");
        int code = LaplaceLora.commandLine().execute("demo", "--questions", "1200", "--drift-at", "400", "--inject-bad", "6",
                "--summary-json", summary.toString(), "--cache-dir", cache.toString());
        assertThat(code).isZero();
        JsonNode s = new ObjectMapper().readTree(summary.toFile());
        assertThat(s.get("questions_published").asInt()).isEqualTo(1200);
        assertThat(s.get("predictions").asInt()).isEqualTo(1200);
        assertThat(s.get("duplicate_predictions").asInt()).isZero();
        assertThat(s.get("dead_letters").asInt()).isEqualTo(6);
        JsonNode windows = s.get("windows");
        assertThat(windows.size()).isEqualTo(24);
        for (JsonNode w : windows) {
            for (String m : new String[] {"laplace", "temperature", "map"}) {
                assertThat(w.get(m).has("accuracy") && w.get(m).has("ece") && w.get(m).has("nll")).isTrue();
            }
        }
        JsonNode r = s.get("refit_on_drift");
        assertThat(r.get("before_drift").get("laplace_accuracy").asDouble()).isGreaterThan(0.7);
        assertThat(r.get("drift_events_after_drift").asInt()).isPositive();
        assertThat(s.get("drift_events").get(0).get("at_question").asInt()).isGreaterThanOrEqualTo(400);
        assertThat(r.get("new_versions_after_drift").asInt()).isPositive();
        assertThat(s.get("refits").get(0).get("accepted").asBoolean()).isTrue();
        assertThat(s.get("refits").get(0).get("trigger").asText()).startsWith("drift");
        assertThat(s.get("posterior_swaps").asInt()).isPositive();
        JsonNode drifted = r.get("drift_to_swap");
        JsonNode swapped = r.get("after_swap");
        assertThat(drifted.get("windows").asInt()).isPositive();
        assertThat(swapped.get("windows").asInt()).isPositive();
        assertThat(r.get("laplace_ece_lower_after_swap").asBoolean()).isTrue();
        assertThat(swapped.get("laplace_ece").asDouble()).isLessThan(drifted.get("laplace_ece").asDouble() / 2);
        assertThat(swapped.get("map_ece").asDouble()).as("MAP stays miscalibrated").isGreaterThan(0.4);
        assertThat(swapped.get("temperature_ece").asDouble()).as("the fixed temperature too").isGreaterThan(0.4);
        assertThat(s.get("posterior_versions").get(0).get("version").asInt()).isZero();
    }
}
