package org.laplacelora.streams.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.laplacelora.streams.cli.LaplaceLora;

/**
 * The demo as a user runs it, on an empty cache (so the model is built, fine-tuned the paper's way and fitted
 * here), with one shift at question 400 of 1200: every valid question predicted exactly once, every malformed
 * record dead-lettered once, the drift detected, an online refit accepted and swapped in, and after the swap
 * Laplace-LoRA both right again and better calibrated than between the drift and the swap.
 */
class DemoIT {
    @Test
    void driftIsDetectedRefittedOnlineAndSwappedInOnAnEmptyCache(@TempDir Path cache, @TempDir Path out) throws Exception {
        Path summary = out.resolve("s.json");
        int code = LaplaceLora.commandLine().execute("demo", "--questions", "1200", "--drift-at", "400", "--inject-bad", "6",
                "--summary-json", summary.toString(), "--cache-dir", cache.toString());
        assertThat(code).isZero();
        JsonNode s = new ObjectMapper().readTree(summary.toFile());
        assertThat(s.get("questions_published").asInt()).isEqualTo(1200);
        assertThat(s.get("predictions").asInt()).isEqualTo(1200);
        assertThat(s.get("duplicate_predictions").asInt()).isZero();
        assertThat(s.get("dead_letters").asInt()).isEqualTo(6);
        assertThat(s.get("windows").size()).isEqualTo(12);
        for (JsonNode w : s.get("windows")) {
            for (String m : new String[] {"laplace", "temperature", "map"}) {
                assertThat(w.get(m).has("accuracy") && w.get(m).has("ece") && w.get(m).has("nll")).isTrue();
            }
        }
        assertThat(s.get("drift_events").get(0).get("at_question").asInt()).as("no alarm before the shift")
                .isGreaterThanOrEqualTo(400);
        JsonNode refit = s.get("refits").get(0);
        assertThat(refit.get("accepted").asBoolean()).as(refit.toString()).isTrue();
        assertThat(refit.get("trigger").asText()).startsWith("drift");
        assertThat(refit.get("mode").asText()).isEqualTo("online");
        assertThat(s.get("posterior_swaps").asInt()).isPositive();

        List<String> kinds = new ArrayList<>();
        s.get("phases").forEach(p -> kinds.add(p.get("kind").asText()));
        assertThat(kinds).containsExactly("before_drift", "drift_to_swap", "after_swap");
        JsonNode before = s.get("phases").get(0);
        JsonNode drifted = s.get("phases").get(1);
        JsonNode swapped = s.get("phases").get(2);
        assertThat(before.get("n").asInt() + drifted.get("n").asInt() + swapped.get("n").asInt()).isEqualTo(1200);
        assertThat(before.get("laplace").get("accuracy").asDouble()).as("better than chance before the drift").isGreaterThan(0.7);
        assertThat(drifted.get("laplace").get("accuracy").asDouble()).as("wrong after it").isLessThan(0.4);
        assertThat(swapped.get("laplace").get("accuracy").asDouble()).as("right again after the swap: the online refit moved the mean")
                .isGreaterThan(0.7);
        assertThat(swapped.get("laplace").get("ece").asDouble()).isLessThan(drifted.get("laplace").get("ece").asDouble() / 2);
        assertThat(s.get("refit_on_drift").get("laplace_ece_lower_after_swap").asBoolean()).isTrue();
        assertThat(s.get("posterior_versions").get(0).get("version").asInt()).isZero();
    }
}
