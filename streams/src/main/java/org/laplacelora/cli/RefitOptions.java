package org.laplacelora.cli;

import java.time.Duration;
import org.laplacelora.model.laplace.PosteriorRefit;
import org.laplacelora.streams.refit.RefitSettings;
import picocli.CommandLine.Option;

/** The refitter's buffer, triggers, gate and retention. */
final class RefitOptions {
    @Option(names = "--buffer-size", defaultValue = "2000", paramLabel = "N",
            description = "Most recent labelled questions kept for refits. Default: ${DEFAULT-VALUE}.")
    int bufferSize;

    @Option(names = "--buffer-age-s", defaultValue = "86400", paramLabel = "S",
            description = "Labelled questions older than this are dropped. Default: ${DEFAULT-VALUE}.")
    long bufferAgeS;

    @Option(names = "--every-labels", defaultValue = "0", paramLabel = "M",
            description = "Refit after every M new labels (0: never). Default: ${DEFAULT-VALUE}.")
    int everyLabels;

    @Option(names = "--interval-s", defaultValue = "0", paramLabel = "S",
            description = "Refit every S seconds (0: never). Default: ${DEFAULT-VALUE}.")
    long intervalS;

    @Option(names = "--debounce-ms", defaultValue = "10000", paramLabel = "MS",
            description = "A trigger fires this long after its first event; events meanwhile join it (one refit per burst). Default: ${DEFAULT-VALUE}.")
    long debounceMs;

    @Option(names = "--cooldown-s", defaultValue = "300", paramLabel = "S",
            description = "After a refit, automatic triggers are ignored this long (refit --now is not). Default: ${DEFAULT-VALUE}.")
    long cooldownS;

    @Option(names = "--min-examples", defaultValue = "64", paramLabel = "N",
            description = "An automatic refit waits for this many labelled questions (since the drift, for a drift). Default: ${DEFAULT-VALUE}.")
    int minExamples;

    @Option(names = "--drift-lookback", defaultValue = "25", paramLabel = "N",
            description = "A drift refit also uses the N outcomes before the detection (detectors fire late). Default: ${DEFAULT-VALUE}.")
    int driftLookback;

    @Option(names = "--held-out", defaultValue = "0.3", paramLabel = "F",
            description = "Fraction of the buffer held out to tune the prior precision and to gate. Default: ${DEFAULT-VALUE}.")
    double heldOut;

    @Option(names = "--blend", defaultValue = "0", paramLabel = "W",
            description = "Weight of the current posterior's curvature blended into the new one (0: none). Default: ${DEFAULT-VALUE}.")
    double blend;

    @Option(names = "--gate-margin", defaultValue = "0.01", paramLabel = "NATS",
            description = "Publish only if the held-out NLL drops by more than this. Default: ${DEFAULT-VALUE}.")
    double gateMargin;

    @Option(names = "--evidence", description = "Tune the prior precision by the marginal likelihood instead of held-out likelihood.")
    boolean evidence;

    @Option(names = "--keep-versions", defaultValue = "5", paramLabel = "K",
            description = "Versions kept on the posteriors topic; older ones get tombstones. Default: ${DEFAULT-VALUE}.")
    int keepVersions;

    @Option(names = "--chunk-bytes", defaultValue = "524288", paramLabel = "B",
            description = "Largest chunk of a posterior file on the topic. Default: ${DEFAULT-VALUE}.")
    int chunkBytes;

    RefitSettings settings() {
        PosteriorRefit.Options d = PosteriorRefit.Options.defaults();
        return new RefitSettings(bufferSize, Duration.ofSeconds(bufferAgeS), everyLabels, Duration.ofSeconds(intervalS),
                Duration.ofMillis(debounceMs), Duration.ofSeconds(cooldownS), minExamples, driftLookback, keepVersions, chunkBytes,
                new PosteriorRefit.Options(heldOut, blend, gateMargin, evidence, d.batchSize(), d.tuningSamples(), d.seed()));
    }
}
