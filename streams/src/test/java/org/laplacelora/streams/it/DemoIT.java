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
 * here, once for both tests), on the in-process KRaft cluster: with one shift at question 400 of 1200, and with the
 * defaults' two shifts.
 */
class DemoIT {
    @TempDir static Path cache;

    /**
     * Every valid question predicted exactly once, every malformed record dead-lettered once, the drift detected, an
     * online refit accepted and swapped in, and after the swap Laplace-LoRA both right again and better calibrated than
     * between the drift and the swap.
     */
    @Test
    void driftIsDetectedRefittedOnlineAndSwappedInOnAnEmptyCache(@TempDir Path out) throws Exception {
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
        // A refit on 250 noisy rows is right on 70–79 % of what follows (docs/demo.md); 60 % is far above the drifted ~25 %.
        assertThat(swapped.get("laplace").get("accuracy").asDouble()).as("right again after the swap: the online refit moved the mean")
                .isGreaterThan(0.6);
        assertThat(swapped.get("laplace").get("ece").asDouble()).isLessThan(drifted.get("laplace").get("ece").asDouble() / 2);
        assertThat(s.get("refit_on_drift").get("laplace_ece_lower_after_swap").asBoolean()).isTrue();
        assertThat(s.get("posterior_versions").get(0).get("version").asInt()).isZero();
    }

    /**
     * The defaults: 3600 questions, the inputs and the rule shift at 1200 and return at 2400. Each shift is detected,
     * answered by an accepted online refit (versions 1 and 2, which the predictions carry), and after each swap
     * Laplace-LoRA's accuracy is back within 5 points of (or above) its accuracy before the first shift; between the
     * shift and the swap it is about 25 %. Of the swaps recorded since refits count their rows from the latest change
     * point and that came before the next shift (docs/demo.md), the lowest was 1.1 points below.
     */
    @Test
    void twoShiftsTwoOnlineRefitsAndTheAccuracyComesBackAfterEachSwap(@TempDir Path out) throws Exception {
        Path summary = out.resolve("s.json");
        int code = LaplaceLora.commandLine().execute("demo", "--summary-json", summary.toString(), "--cache-dir", cache.toString(),
                "--no-dashboard");
        assertThat(code).isZero();
        JsonNode s = new ObjectMapper().readTree(summary.toFile());
        assertThat(s.get("predictions").asInt()).isEqualTo(3600);
        List<Integer> drifts = new ArrayList<>();
        s.get("drift_events").forEach(d -> drifts.add(d.get("at_question").asInt()));
        assertThat(drifts).as("no alarm before the first shift").allMatch(q -> q >= 1200);
        assertThat(drifts).as("the first shift").anyMatch(q -> q < 2400);
        assertThat(drifts).as("the return").anyMatch(q -> q >= 2400);

        List<Integer> accepted = new ArrayList<>();
        for (JsonNode r : s.get("refits")) {
            if (r.get("accepted").asBoolean()) {
                assertThat(r.get("mode").asText()).isEqualTo("online");
                assertThat(r.get("trigger").asText()).startsWith("drift");
                accepted.add(r.get("version").asInt());
            }
        }
        assertThat(accepted).as(s.get("refits").toString()).startsWith(1, 2);
        List<Integer> served = new ArrayList<>();
        s.get("posterior_versions").forEach(v -> served.add(v.get("version").asInt()));
        assertThat(served).as("versions the predictions carry").startsWith(0, 1, 2);

        List<String> kinds = new ArrayList<>();
        s.get("phases").forEach(p -> kinds.add(p.get("kind").asText()));
        assertThat(kinds).containsExactly("before_drift", "drift_to_swap", "after_swap", "drift_to_swap", "after_swap");
        double before = s.get("phases").get(0).get("laplace").get("accuracy").asDouble();
        for (int i : new int[] {2, 4}) {
            JsonNode p = s.get("phases").get(i);
            assertThat(p.get("laplace").get("accuracy").asDouble()).as("after swap %d (%s) against %.3f before the first shift", i / 2, p, before)
                    .isGreaterThanOrEqualTo(before - 0.05);
            assertThat(p.get("n").asInt()).as("outcomes after swap %d", i / 2).isGreaterThan(100);
        }
    }
}
