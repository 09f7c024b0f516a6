package org.laplacelora.streams.cli;

/** A command that only groups subcommands: run alone, it shows its usage. */
abstract class CommandGroup extends AppCommand {
    @Override
    public Integer call() {
        spec.commandLine().usage(out());
        return 0;
    }
}
