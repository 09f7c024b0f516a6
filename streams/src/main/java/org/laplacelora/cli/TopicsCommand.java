package org.laplacelora.cli;

import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.NewTopic;
import org.laplacelora.streams.config.KafkaSettings;
import org.laplacelora.streams.embedded.EmbeddedKafka;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "topics", mixinStandardHelpOptions = true,
        description = "Creates the pipeline's topics that do not exist yet (posteriors compacted), on any cluster.")
final class TopicsCommand implements Callable<Integer> {
    @Mixin
    KafkaOptions kafkaOptions;

    @Option(names = "--partitions", defaultValue = "2", paramLabel = "N",
            description = "Partitions of questions, labels, predictions and labelled-outcomes. Default: ${DEFAULT-VALUE}.")
    int partitions;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        KafkaSettings kafka = kafkaOptions.settings();
        var topics = kafka.topics().newTopics(partitions, kafka.replicationFactor());
        EmbeddedKafka.createTopics(kafka.bootstrapServers(), topics);
        spec.commandLine().getOut().println("topics present on " + kafka.bootstrapServers() + ": "
                + topics.stream().map(NewTopic::name).toList());
        return 0;
    }
}
