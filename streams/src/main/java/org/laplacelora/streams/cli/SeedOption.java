package org.laplacelora.streams.cli;

import picocli.CommandLine.Option;

/** --seed: every random choice a command makes follows from it. */
final class SeedOption {
    @Option(names = "--seed", paramLabel = "S",
            description = "Seed of this command's random choices (sampling, Monte Carlo draws, initialisation, shuffling, "
                    + "generated questions). Default: ${DEFAULT-VALUE}.")
    long seed;

    SeedOption(long defaultSeed) {
        this.seed = defaultSeed;
    }
}
