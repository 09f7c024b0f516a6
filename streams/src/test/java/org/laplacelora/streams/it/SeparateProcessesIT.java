package org.laplacelora.streams.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.laplacelora.schemas.avro.CalibrationMetrics;
import org.laplacelora.schemas.avro.PosteriorChunk;
import org.laplacelora.schemas.avro.PosteriorManifest;
import org.laplacelora.schemas.avro.RefitReport;
import org.laplacelora.streams.cli.LaplaceLora;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.kafka.Topics;

/**
 * The README's "Run it as separate processes", as a user types it: `stack`, `topics`, two scorers, the calibrator
 * and the refitter each a JVM of its own, `produce` publishing the demo's exported questions over 2 partitions.
 * Then the real faults, each a SIGKILL (no shutdown hook, no flush) followed by a restart under the same
 * application id, state directory and instance id (static membership: the restart takes its partitions back as
 * soon as it joins): a scorer three times (the first, the second, the first again) at 20, 40 and 60 % of the
 * stream, the calibrator once at 50 %, and the refitter in the middle of a refit it was asked for. Read back
 * read_committed: every question predicted exactly once, every labelled outcome counted exactly once in the
 * calibrator's running metrics, and no partial or doubled posterior version on the topic.
 */
class SeparateProcessesIT {
    private static final Duration START = Duration.ofSeconds(120);
    private static final int QUESTIONS = 2000;

    @Test
    void scorersCalibratorAndRefitterKilledWithSigkillLoseAndDoubleNothing(@TempDir Path assets, @TempDir Path cache, @TempDir Path work)
            throws Exception {
        assertThat(LaplaceLora.commandLine().execute("demo", "--export-assets", assets.toString(), "--questions",
                String.valueOf(QUESTIONS), "--drift-at", "-1", "--cache-dir", cache.toString())).isZero();
        assertThat(Files.readAllLines(assets.resolve("questions.jsonl"))).hasSize(QUESTIONS);
        try (ChildJvm stack = new ChildJvm("stack", "--kafka-port", "0", "--registry-port", "0")) {
            String bootstrap = after(stack.awaitLine(l -> l.startsWith("kafka "), START));
            String registry = after(stack.awaitLine(l -> l.startsWith("schema-registry "), START));
            String[] cluster = {"--bootstrap-servers", bootstrap, "--schema-registry-url", registry};
            assertThat(LaplaceLora.commandLine().execute(concat(new String[] {"topics", "--bootstrap-servers", bootstrap,
                    "--partitions", "2"}))).isZero();
            String[] model = {"--model", assets.resolve("model").toString(), "--adapter", assets.resolve("adapter").toString(),
                    "--posterior", assets.resolve("posterior.safetensors").toString(), "--threads", "1", "--metrics-port", "0"};
            String[][] scorerArgs = new String[2][];
            for (int i = 0; i < 2; i++) {
                scorerArgs[i] = concat(new String[] {"scorer"}, cluster, model, new String[] {"--application-id", "it-scorer",
                        "--state-dir", work.resolve("scorer-" + i).toString(), "--instance-id", "scorer-" + i});
            }
            String[] calibratorArgs = concat(new String[] {"calibrator"}, cluster, new String[] {"--application-id", "it-calibrator",
                    "--state-dir", work.resolve("calibrator").toString(), "--instance-id", "calibrator", "--metrics-port", "0"});
            // a gate that lets any refit through: the stream has no drift, and the test needs a version published after the kill
            String[] refitterArgs = concat(new String[] {"refitter"}, cluster, model, new String[] {"--application-id", "it-refitter",
                    "--state-dir", work.resolve("refitter").toString(), "--instance-id", "refitter", "--buffer-size", "500", "--gate-margin=-10", "--allow-boundary"});
            ChildJvm[] scorers = {new ChildJvm(scorerArgs[0]), new ChildJvm(scorerArgs[1])};
            ChildJvm calibrator = new ChildJvm(calibratorArgs);
            ChildJvm refitter = new ChildJvm(refitterArgs);
            List<ChildJvm> started = new ArrayList<>(List.of(scorers[0], scorers[1], calibrator, refitter));
            try {
                for (ChildJvm s : scorers) {
                    s.awaitLine(l -> l.startsWith("scorer running"), START);
                }
                calibrator.awaitLine(l -> l.startsWith("calibrator running"), START);
                refitter.awaitLine(l -> l.startsWith("refitter running"), START);
                Thread producing = new Thread(() -> LaplaceLora.commandLine().execute(concat(new String[] {"produce"}, cluster,
                        new String[] {"--task", "generic", "--dataset", assets.resolve("questions.jsonl").toString(), "--rate", "60",
                                "--label-delay-ms", "200"})), "produce");
                producing.start();

                int[] killAt = {QUESTIONS / 5, 2 * QUESTIONS / 5, 3 * QUESTIONS / 5};
                int[] victim = {0, 1, 0};
                boolean calibratorKilled = false;
                for (int k = 0; k < killAt.length; k++) {
                    if (!calibratorKilled && killAt[k] > QUESTIONS / 2) {
                        awaitPredictions(bootstrap, QUESTIONS / 2, scorers);
                        calibrator.kill();
                        calibrator = new ChildJvm(calibratorArgs);
                        started.add(calibrator);
                        calibratorKilled = true;
                    }
                    awaitPredictions(bootstrap, killAt[k], scorers);
                    scorers[victim[k]].kill();
                    scorers[victim[k]] = new ChildJvm(scorerArgs[victim[k]]);
                    started.add(scorers[victim[k]]);
                    scorers[victim[k]].awaitLine(l -> l.startsWith("scorer running"), START);
                }
                producing.join(Duration.ofSeconds(180).toMillis());

                List<ConsumerRecord<String, byte[]>> predictions = KafkaCluster.readAllOnce(bootstrap, "predictions", QUESTIONS, Duration.ofSeconds(180));
                assertThat(KafkaCluster.duplicates(predictions)).as("predicted twice").isEmpty();
                assertThat(KafkaCluster.keys(predictions)).as("every question predicted").hasSize(QUESTIONS);
                List<ConsumerRecord<String, byte[]>> outcomes = KafkaCluster.readAllOnce(bootstrap, "labelled-outcomes", QUESTIONS, Duration.ofSeconds(180));
                assertThat(KafkaCluster.duplicates(outcomes)).as("joined twice").isEmpty();
                assertThat(KafkaCluster.keys(outcomes)).hasSize(QUESTIONS);

                Topics topics = KafkaSettings.of(bootstrap, registry, null, (short) 1).topics();
                CalibrationMetrics running = lastRunning(bootstrap, topics);
                assertThat(running.getN()).as("every labelled outcome counted once in the running metrics, across the calibrator's SIGKILL")
                        .isEqualTo(QUESTIONS);

                // The refitter, killed while it refits: nothing partial is ever published, and it refits again after the restart.
                assertThat(LaplaceLora.commandLine().execute(concat(new String[] {"refit", "--now"}, cluster))).isZero();
                refitter.awaitLine(l -> l.contains("refitting (manual"), START);
                refitter.kill();
                refitter = new ChildJvm(refitterArgs);
                started.add(refitter);
                refitter.awaitLine(l -> l.startsWith("refitter running"), START);
                assertThat(LaplaceLora.commandLine().execute(concat(new String[] {"refit", "--now"}, cluster))).isZero();
                refitter.awaitLine(l -> l.contains("published version") || l.contains("refit rejected"), START);
                Thread.sleep(2000);
                assertVersionsWhole(bootstrap, topics);
            } finally {
                for (ChildJvm j : started) {
                    j.close();
                }
            }
        }
    }

    /** Every manifest on posteriors has all its chunks, no version is published twice, and each is an accepted refit's. */
    private static void assertVersionsWhole(String bootstrap, Topics topics) {
        Map<Long, PosteriorManifest> manifests = new HashMap<>();
        Map<String, Integer> chunks = new HashMap<>();
        for (ConsumerRecord<String, byte[]> r : KafkaCluster.readCommitted(bootstrap, topics.posteriors().name(), Duration.ofSeconds(5), x -> false)) {
            if (r.value() == null) {
                continue;
            }
            SpecificRecord v = topics.posteriors().deserialize(r.value());
            if (v instanceof PosteriorManifest m) {
                assertThat(manifests.put(m.getVersion(), m)).as("version %d published twice", m.getVersion()).isNull();
            } else {
                PosteriorChunk c = (PosteriorChunk) v;
                chunks.merge(c.getVersion() + "|" + c.getPart(), 1, Integer::sum);
            }
        }
        Set<Long> accepted = new HashSet<>();
        for (ConsumerRecord<String, byte[]> r : KafkaCluster.readCommitted(bootstrap, topics.refitReports().name(), Duration.ofSeconds(5), x -> false)) {
            RefitReport report = topics.refitReports().deserialize(r.value());
            if (report.getAccepted()) {
                assertThat(accepted.add(report.getVersion())).as("two accepted reports for version %d", report.getVersion()).isTrue();
            }
        }
        for (PosteriorManifest m : manifests.values()) {
            assertThat(chunks.get(m.getVersion() + "|POSTERIOR")).as("posterior chunks of version %d", m.getVersion()).isEqualTo(m.getChunks());
            if (m.getAdapterFile() != null) {
                assertThat(chunks.get(m.getVersion() + "|ADAPTER")).as("adapter chunks of version %d", m.getVersion())
                        .isEqualTo(m.getAdapterFile().getChunks());
            }
        }
        assertThat(manifests.keySet()).as("every published version is an accepted refit's, and the other way round")
                .containsExactlyInAnyOrderElementsOf(accepted);
        assertThat(manifests).as("the refit after the restart published").isNotEmpty();
    }

    private static CalibrationMetrics lastRunning(String bootstrap, Topics topics) {
        CalibrationMetrics last = null;
        for (ConsumerRecord<String, byte[]> r : KafkaCluster.readCommitted(bootstrap, topics.calibrationMetrics().name(), Duration.ofSeconds(5),
                x -> false)) {
            if ("laplace|running".equals(r.key())) {
                last = topics.calibrationMetrics().deserialize(r.value());
            }
        }
        assertThat(last).isNotNull();
        return last;
    }

    private static void awaitPredictions(String bootstrap, int n, ChildJvm[] scorers) throws InterruptedException {
        List<ConsumerRecord<String, byte[]>> seen = KafkaCluster.readCommitted(bootstrap, "predictions", Duration.ofSeconds(180), distinct(n));
        assertThat(KafkaCluster.keys(seen).size()).as("predictions before a kill; the scorers said:%n%s%n%s", scorers[0].output(), scorers[1].output())
                .isGreaterThanOrEqualTo(n);
    }



    private static String after(String line) {
        return line.substring(line.indexOf(' ') + 1).trim();
    }

    private static String[] concat(String[]... parts) {
        return java.util.Arrays.stream(parts).flatMap(java.util.Arrays::stream).toArray(String[]::new);
    }


    private static Predicate<List<ConsumerRecord<String, byte[]>>> distinct(int n) {
        return r -> r.stream().map(ConsumerRecord::key).distinct().count() >= n;
    }
}
