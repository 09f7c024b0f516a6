package org.laplacelora.streams.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.laplacelora.streams.cli.LaplaceLora;

/**
 * The README's "Run it as separate processes", as a user types it: `stack`, `topics`, the scorer and the calibrator
 * each a JVM of its own, `produce` publishing the demo's exported questions; then the scorer is killed with SIGKILL
 * in the middle of the stream and started again under the same application id. Exactly once, across the crash: a
 * read_committed consumer sees every question predicted once, none twice.
 */
class SeparateProcessesIT {
    private static final Duration START = Duration.ofSeconds(120);
    private static final int QUESTIONS = 600;

    @Test
    void everyQuestionIsPredictedExactlyOnceAcrossASigkillOfTheScorer(@TempDir Path assets, @TempDir Path cache, @TempDir Path work)
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
            String[] scorerArgs = concat(new String[] {"scorer"}, cluster, new String[] {"--model", assets.resolve("model").toString(),
                    "--adapter", assets.resolve("adapter").toString(), "--posterior", assets.resolve("posterior.safetensors").toString(),
                    "--application-id", "it-scorer", "--state-dir", work.resolve("scorer").toString(), "--metrics-port", "0"});
            try (ChildJvm calibrator = new ChildJvm(concat(new String[] {"calibrator"}, cluster,
                    new String[] {"--state-dir", work.resolve("calibrator").toString(), "--metrics-port", "0"}));
                 ChildJvm scorer = new ChildJvm(scorerArgs)) {
                scorer.awaitLine(l -> l.startsWith("scorer running"), START);
                calibrator.awaitLine(l -> l.startsWith("calibrator running"), START);
                Thread producing = new Thread(() -> LaplaceLora.commandLine().execute(concat(new String[] {"produce"}, cluster,
                        new String[] {"--task", "generic", "--dataset", assets.resolve("questions.jsonl").toString(), "--rate", "40",
                                "--label-delay-ms", "200"})), "produce");
                producing.start();

                List<ConsumerRecord<String, byte[]>> before = KafkaCluster.readCommitted(bootstrap, "predictions", Duration.ofSeconds(120),
                        questions(QUESTIONS / 4));
                assertThat(before.size()).as("predictions before the kill; the scorer said:%n%s%nthe calibrator said:%n%s", scorer.output(),
                        calibrator.output()).isGreaterThanOrEqualTo(QUESTIONS / 4);
                scorer.kill();
                try (ChildJvm restarted = new ChildJvm(scorerArgs)) {
                    restarted.awaitLine(l -> l.startsWith("scorer running"), START);
                    producing.join(Duration.ofSeconds(120).toMillis());
                    List<ConsumerRecord<String, byte[]>> all = readCommitted(bootstrap, "predictions", questions(QUESTIONS), Duration.ofSeconds(180));
                    Set<String> ids = new HashSet<>();
                    List<String> duplicates = all.stream().map(ConsumerRecord::key).filter(k -> !ids.add(k)).toList();
                    assertThat(duplicates).as("predicted twice").isEmpty();
                    assertThat(ids).as("every question predicted").hasSize(QUESTIONS);
                    assertThat(readCommitted(bootstrap, "labelled-outcomes", r -> r.size() >= QUESTIONS, Duration.ofSeconds(120)))
                            .as("the calibrator, a process of its own, joined every prediction with its label").hasSize(QUESTIONS);
                }
            }
        }
    }

    private static String after(String line) {
        return line.substring(line.indexOf(' ') + 1).trim();
    }

    private static String[] concat(String[]... parts) {
        return java.util.Arrays.stream(parts).flatMap(java.util.Arrays::stream).toArray(String[]::new);
    }

    /** read_committed from the beginning until {@code done}, then all of it once more: late duplicates too. */
    private static List<ConsumerRecord<String, byte[]>> readCommitted(String bootstrap, String topic,
                                                                      Predicate<List<ConsumerRecord<String, byte[]>>> done, Duration timeout) {
        KafkaCluster.readCommitted(bootstrap, topic, timeout, done);
        return KafkaCluster.readCommitted(bootstrap, topic, Duration.ofSeconds(5), r -> false);
    }

    private static Predicate<List<ConsumerRecord<String, byte[]>>> questions(int n) {
        return r -> r.stream().map(ConsumerRecord::key).distinct().count() >= n;
    }
}
