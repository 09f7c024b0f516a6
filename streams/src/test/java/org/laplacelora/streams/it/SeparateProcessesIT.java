package org.laplacelora.streams.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
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
                    "--application-id", "it-scorer", "--state-dir", work.resolve("scorer").toString()});
            try (ChildJvm calibrator = new ChildJvm(concat(new String[] {"calibrator"}, cluster,
                    new String[] {"--state-dir", work.resolve("calibrator").toString()}));
                 ChildJvm scorer = new ChildJvm(scorerArgs)) {
                scorer.awaitLine(l -> l.startsWith("scorer running"), START);
                calibrator.awaitLine(l -> l.startsWith("calibrator running"), START);
                Thread producing = new Thread(() -> LaplaceLora.commandLine().execute(concat(new String[] {"produce"}, cluster,
                        new String[] {"--task", "generic", "--dataset", assets.resolve("questions.jsonl").toString(), "--rate", "40",
                                "--label-delay-ms", "200"})), "produce");
                producing.start();

                List<ConsumerRecord<String, byte[]>> before = readCommitted(bootstrap, "predictions", QUESTIONS / 4, Duration.ofSeconds(120));
                assertThat(before.size()).as("predictions before the kill; the scorer said:%n%s%nthe calibrator said:%n%s", scorer.output(),
                        calibrator.output()).isGreaterThanOrEqualTo(QUESTIONS / 4);
                scorer.kill();
                try (ChildJvm restarted = new ChildJvm(scorerArgs)) {
                    restarted.awaitLine(l -> l.startsWith("scorer running"), START);
                    producing.join(Duration.ofSeconds(120).toMillis());
                    List<ConsumerRecord<String, byte[]>> all = readCommitted(bootstrap, "predictions", QUESTIONS, Duration.ofSeconds(180));
                    Set<String> ids = new HashSet<>();
                    List<String> duplicates = all.stream().map(ConsumerRecord::key).filter(k -> !ids.add(k)).toList();
                    assertThat(duplicates).as("predicted twice").isEmpty();
                    assertThat(ids).as("every question predicted").hasSize(QUESTIONS);
                    assertThat(readCommitted(bootstrap, "labelled-outcomes", QUESTIONS, Duration.ofSeconds(120)))
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

    /** read_committed, from the beginning, until {@code atLeast} records or the timeout; then a moment more for any extra. */
    private static List<ConsumerRecord<String, byte[]>> readCommitted(String bootstrap, String topic, int atLeast, Duration timeout) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "it-" + topic + "-" + System.nanoTime());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<ConsumerRecord<String, byte[]>> out = new java.util.ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            long end = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < end && out.size() < atLeast) {
                c.poll(Duration.ofMillis(500)).forEach(out::add);
            }
            long settle = System.nanoTime() + Duration.ofSeconds(3).toNanos();
            while (System.nanoTime() < settle) {
                c.poll(Duration.ofMillis(500)).forEach(out::add);
            }
        }
        return out;
    }
}
