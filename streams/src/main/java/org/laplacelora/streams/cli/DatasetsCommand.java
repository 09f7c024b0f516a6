package org.laplacelora.streams.cli;

import picocli.CommandLine.Command;

@Command(name = "datasets", subcommands = {SentimentDatasetCommand.class, GeneratedDatasetCommand.class})
final class DatasetsCommand extends CommandGroup {}
