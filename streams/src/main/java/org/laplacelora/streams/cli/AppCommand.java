package org.laplacelora.streams.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** What every command shares: --help and --version, options in declaration order, and picocli's writers (tests capture them). */
@Command(mixinStandardHelpOptions = true, sortOptions = false, versionProvider = LaplaceLora.Version.class,
        resourceBundle = "org.laplacelora.streams.cli.Help")
abstract class AppCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }
}
