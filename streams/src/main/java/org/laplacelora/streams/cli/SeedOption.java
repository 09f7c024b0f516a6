package org.laplacelora.streams.cli;

import picocli.CommandLine.Option;

/** --seed: every random choice a command makes follows from it. */
final class SeedOption {
    @Option(names = "--seed", paramLabel = "S") long seed;

    SeedOption(long defaultSeed) {
        this.seed = defaultSeed;
    }
}
