package org.laplacelora.streams.cli;

import org.apache.kafka.clients.admin.NewTopic;
import org.laplacelora.streams.kafka.EmbeddedKafka;
import org.laplacelora.streams.kafka.KafkaSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "topics")
final class TopicsCommand extends AppCommand {
    @Mixin KafkaOptions kafkaOptions;
    @Mixin PartitionsOption partitions;

    @Override
    public Integer call() throws Exception {
        KafkaSettings kafka = kafkaOptions.settings();
        var topics = kafka.topics().newTopics(partitions.partitions, kafka.replicationFactor());
        EmbeddedKafka.createTopics(kafka.bootstrapServers(), topics);
        out().println("topics present on " + kafka.bootstrapServers() + ": "
                + topics.stream().map(NewTopic::name).toList());
        return 0;
    }
}
