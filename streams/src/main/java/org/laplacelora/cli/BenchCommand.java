package org.laplacelora.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks that print their numbers with the command that produced them (see docs/).",
        subcommands = {ForwardBench.class, PredictiveBench.class, PosteriorSizeBench.class, PipelineBench.class, RefitBench.class,
            SwapBench.class})
final class BenchCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
