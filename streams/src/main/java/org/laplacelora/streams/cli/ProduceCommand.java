package org.laplacelora.streams.cli;

import java.nio.file.Path;
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

@Command(name = "produce")
final class ProduceCommand extends AppCommand {
    @Mixin KafkaOptions kafkaOptions;
    @Option(names = "--task", required = true, paramLabel = "TASK", descriptionKey = "produce.task") String task;
    @Option(names = "--dataset", required = true, paramLabel = "FILE", descriptionKey = "produce.dataset") String dataset;
    @Option(names = "--questions", paramLabel = "N", descriptionKey = "produce.questions") Integer limit;
    @Mixin PublishOptions publish = new PublishOptions(50, 2000);
    @Option(names = "--label-fraction", defaultValue = "1.0", paramLabel = "F") double labelFraction;
    @Option(names = "--create-topics") boolean createTopics;
    @Mixin PartitionsOption partitions;
    @Mixin SeedOption seed = new SeedOption(0);

    @Override
    public Integer call() throws Exception {
        KafkaSettings kafka = kafkaOptions.settings();
        if (createTopics) {
            EmbeddedKafka.createTopics(kafka.bootstrapServers(), kafka.topics().newTopics(partitions.partitions, kafka.replicationFactor()));
        }
        List<Example> examples = Dataset.read(TaskKind.parse(task), dataset).examples();
        int n = limit == null ? examples.size() : Math.min(limit, examples.size());
        Map<String, String> source = Map.of("source", Path.of(dataset.replaceAll("\\[.*]$", "")).getFileName().toString());
        try (QuestionProducer producer = new QuestionProducer(kafka, publish.labelDelay(), labelFraction, seed.seed);
             ProgressBar bar = Progress.bar("produce", n, "questions")) {
            producer.publish(n, examples::get, i -> source, publish.injectBad, publish.rate, bar::stepTo);
            producer.close();
            out().printf("published %d questions, %d labels, %d malformed records to %s / %s%n",
                    producer.questionsSent(), producer.labelsSent(), producer.badSent(), kafka.topicNames().questions(), kafka.topicNames().labels());
        }
        return 0;
    }
}
