package org.laplacelora.streams.cli;

import org.apache.kafka.clients.admin.NewTopic;
import org.laplacelora.streams.kafka.EmbeddedKafka;
import org.laplacelora.streams.kafka.KafkaSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "topics",
        description = "Creates the pipeline's topics that do not exist yet (posteriors compacted), on any cluster.")
final class TopicsCommand extends AppCommand {
    @Mixin
    KafkaOptions kafkaOptions;

    @Option(names = "--partitions", defaultValue = "2", paramLabel = "N",
            description = "Partitions of questions, labels, predictions and labelled-outcomes. Default: ${DEFAULT-VALUE}.")
    int partitions;


    @Override
    public Integer call() throws Exception {
        KafkaSettings kafka = kafkaOptions.settings();
        var topics = kafka.topics().newTopics(partitions, kafka.replicationFactor());
        EmbeddedKafka.createTopics(kafka.bootstrapServers(), topics);
        out().println("topics present on " + kafka.bootstrapServers() + ": "
                + topics.stream().map(NewTopic::name).toList());
        return 0;
    }
}
