package org.laplacelora.cli;

import java.util.concurrent.Callable;
import org.laplacelora.streams.config.KafkaSettings;
import org.laplacelora.streams.refit.RefitRequests;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "refit", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Asks the running refitter to re-fit the posterior on its buffer now (whatever its debounce and cooldown). "
                + "The outcome, published or rejected by the validation gate, appears on refit-reports; "
                + "'posterior list' shows the versions."})
final class RefitCommand implements Callable<Integer> {
    @Mixin
    KafkaOptions kafkaOptions;

    @Option(names = "--now", required = true, description = "Refit now (required: a reminder that this acts on the running system).")
    boolean now;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        KafkaSettings kafka = kafkaOptions.settings();
        RefitRequests.send(kafka, kafka.registry(), RefitRequests.refitNow(RefitRequests.requester()));
        spec.commandLine().getOut().printf("refit requested on %s; the refitter reports on %s%n", kafka.topics().refitRequests(),
                kafka.topics().refitReports());
        return 0;
    }
}
