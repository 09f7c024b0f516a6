package org.laplacelora.streams.cli;

import picocli.CommandLine.Option;

/** --samples: Monte Carlo samples of the predictive per question. */
final class SamplesOption {
    @Option(names = "--samples", paramLabel = "N") int samples;

    SamplesOption(int defaultSamples) {
        this.samples = defaultSamples;
    }
}
