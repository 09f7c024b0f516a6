package org.laplacelora.streams.cli;

import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.refit.RefitRequests;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code refit --now}: a request to the running refitter (the {@code refitter} service), not a refit in this process. */
@Command(name = "refit")
final class RefitNowCommand extends AppCommand {
    @Mixin KafkaOptions kafkaOptions;
    @Option(names = "--now", required = true) boolean now;

    @Override
    public Integer call() throws Exception {
        KafkaSettings kafka = kafkaOptions.settings();
        RefitRequests.send(kafka, RefitRequests.refitNow(RefitRequests.requester()));
        out().printf("refit requested on %s; the refitter reports on %s%n", kafka.topicNames().refitRequests(),
                kafka.topicNames().refitReports());
        return 0;
    }
}
