package org.laplacelora.streams.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import me.tongfei.progressbar.ProgressBar;
import org.laplacelora.model.tasks.Dataset;
import org.laplacelora.model.tasks.Example;
import org.laplacelora.model.tasks.TaskKind;
import org.laplacelora.streams.kafka.EmbeddedKafka;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.produce.QuestionProducer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "produce",
        description = {"Publishes a dataset file's questions to the questions topic and their answers to the labels topic, "
                + "each label after a delay and for a fraction of the questions, as a labelling process would."})
final class ProduceCommand extends AppCommand {
    @Mixin
    KafkaOptions kafkaOptions;

    @Option(names = "--task", required = true, paramLabel = "TASK", description = "winogrande, arc, obqa, boolq or generic.")
    String task;

    @Option(names = "--dataset", required = true, paramLabel = "FILE", description = "Official JSONL of the task (FILE[a:b] for a slice).")
    String dataset;

    @Option(names = "--questions", paramLabel = "N", description = "Publish at most N questions (default: all).")
    Integer limit;

    @Option(names = "--rate", defaultValue = "50", paramLabel = "Q/S", description = "Questions per second (0: as fast as possible). Default: ${DEFAULT-VALUE}.")
    double rate;

    @Option(names = "--label-delay-ms", defaultValue = "2000", paramLabel = "MS", description = "Delay before each label. Default: ${DEFAULT-VALUE}.")
    long labelDelayMs;

    @Option(names = "--label-fraction", defaultValue = "1.0", paramLabel = "F", description = "Fraction of questions labelled. Default: ${DEFAULT-VALUE}.")
    double labelFraction;

    @Option(names = "--inject-bad", defaultValue = "0", paramLabel = "B",
            description = "Also publish B malformed records, spread over the run (undecodable, unknown task, bad choices, empty text).")
    int injectBad;

    @Option(names = "--create-topics", description = "Create missing topics first (partitions --partitions).")
    boolean createTopics;

    @Option(names = "--partitions", defaultValue = "2", paramLabel = "N", description = "Default: ${DEFAULT-VALUE}.")
    int partitions;

    @Mixin
    SeedOption seed = new SeedOption(0);


    @Override
    public Integer call() throws Exception {
        KafkaSettings kafka = kafkaOptions.settings();
        if (createTopics) {
            EmbeddedKafka.createTopics(kafka.bootstrapServers(), kafka.topics().newTopics(partitions, kafka.replicationFactor()));
        }
        List<Example> examples = Dataset.read(TaskKind.parse(task), dataset).examples();
        int n = limit == null ? examples.size() : Math.min(limit, examples.size());
        try (QuestionProducer producer = new QuestionProducer(kafka, Duration.ofMillis(labelDelayMs), labelFraction, seed.seed);
             ProgressBar bar = Progress.bar("produce", n, "questions")) {
            long start = System.nanoTime();
            int bad = 0;
            for (int i = 0; i < n; i++) {
                producer.send(examples.get(i), Map.of("source", Path.of(dataset.replaceAll("\\[.*]$", "")).getFileName().toString()));
                while (bad < injectBad && (long) (bad + 1) * n <= (long) (i + 1) * injectBad) {
                    producer.sendBad(bad++, examples.get(i));
                }
                bar.step();
                if (rate > 0) {
                    long due = start + (long) ((i + 1) * 1e9 / rate);
                    long sleep = due - System.nanoTime();
                    if (sleep > 0) {
                        Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
                    }
                }
            }
            producer.close();
            out().printf("published %d questions, %d labels, %d malformed records to %s / %s%n",
                    producer.questionsSent(), producer.labelsSent(), producer.badSent(), kafka.topicNames().questions(), kafka.topicNames().labels());
        }
        return 0;
    }
}
