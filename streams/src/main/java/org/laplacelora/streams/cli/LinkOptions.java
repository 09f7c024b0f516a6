package org.laplacelora.streams.cli;

import org.laplacelora.model.laplace.predictive.LinearisedPredictive;
import org.laplacelora.model.laplace.predictive.Link;
import org.laplacelora.model.laplace.predictive.Links;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** --link and --samples: how the predictive's E[softmax] is computed. */
final class LinkOptions {
    @Option(names = "--link", paramLabel = "auto|mc|probit|binary") String link = Links.DEFAULT.id();
    @Mixin SamplesOption samples;

    LinkOptions(int defaultSamples) {
        this.samples = new SamplesOption(defaultSamples);
    }

    LinearisedPredictive predictive(long seed) {
        return new LinearisedPredictive(Link.parse(link), samples.samples, seed);
    }
}
