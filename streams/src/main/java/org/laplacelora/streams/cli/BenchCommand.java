package org.laplacelora.streams.cli;

import picocli.CommandLine.Command;

@Command(name = "bench", subcommands = {ForwardBench.class, PredictiveBench.class, PosteriorSizeBench.class, PipelineBench.class, CalibratorBench.class, RefitBench.class, SwapBench.class})
final class BenchCommand extends CommandGroup {}
