package org.laplacelora.streams.cli;

import java.time.Duration;
import picocli.CommandLine.Option;

/** How questions are published: their rate, the delay of their labels, and malformed records mixed in. */
final class PublishOptions {
    @Option(names = "--rate", paramLabel = "Q/S") double rate;
    @Option(names = "--label-delay-ms", paramLabel = "MS") long labelDelayMs;
    @Option(names = "--inject-bad", paramLabel = "B") int injectBad;

    PublishOptions(double rate, long labelDelayMs) {
        this.rate = rate;
        this.labelDelayMs = labelDelayMs;
    }

    Duration labelDelay() {
        return Duration.ofMillis(labelDelayMs);
    }
}
