package org.laplacelora.streams.cli;

import picocli.CommandLine.Option;

/** --samples: Monte Carlo samples of the predictive per question. */
final class SamplesOption {
    @Option(names = "--samples", paramLabel = "N",
            description = "Monte Carlo samples per question (seeded by its id). Default: ${DEFAULT-VALUE}.")
    int samples;

    SamplesOption(int defaultSamples) {
        this.samples = defaultSamples;
    }
}
