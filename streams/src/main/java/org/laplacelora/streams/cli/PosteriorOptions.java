package org.laplacelora.streams.cli;

import java.io.IOException;
import java.nio.file.Path;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.streams.posteriors.ServedModel;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** A model, its adapter and a posterior fitted on them (--posterior). */
final class PosteriorOptions {
    @Mixin AdaptedModelOptions adapted;
    @Option(names = "--posterior", required = true, paramLabel = "FILE", descriptionKey = "posterior.posterior") Path posterior;

    LaplacePosterior load() throws IOException {
        return LaplacePosterior.load(posterior);
    }

    /** Model, adapter and posterior (version 0) to serve questions of at most {@code maxLength} tokens. */
    ServedModel serve(int maxLength) throws IOException {
        ModelOptions m = adapted.model;
        m.configureEngine();
        return ServedModel.load(m.model, m.tokenizer, adapted.adapter, posterior, m.device, maxLength);
    }
}
