package org.laplacelora.streams.cli;

import picocli.CommandLine.Option;

/** --partitions of the data topics (questions, labels, predictions, labelled-outcomes) when they are created. */
final class PartitionsOption {
    @Option(names = "--partitions", paramLabel = "N") int partitions = 2;
}
