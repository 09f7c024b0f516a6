package org.laplacelora.streams.cli;

import picocli.CommandLine.Command;

@Command(name = "bench",
        description = "Benchmarks that print their numbers with the command that produced them (see docs/).",
        subcommands = {ForwardBench.class, PredictiveBench.class, PosteriorSizeBench.class, PipelineBench.class, RefitBench.class,
            SwapBench.class})
final class BenchCommand extends CommandGroup {}
