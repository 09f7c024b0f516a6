package org.laplacelora.streams.cli;

import java.time.Duration;
import org.laplacelora.model.refit.PosteriorRefitSettingsBuilder;
import org.laplacelora.streams.refit.RefitterSettings;
import org.laplacelora.streams.refit.RefitterSettingsBuilder;
import picocli.CommandLine.Option;

/** The refitter's buffer, triggers, gate and retention. */
final class RefitterOptions {
    private static final RefitterSettings DEFAULTS = RefitterSettings.defaults();

    @Option(names = "--buffer-size", paramLabel = "N", description = "Most recent labelled questions kept for refits. Default: ${DEFAULT-VALUE}.")
    int bufferSize = DEFAULTS.bufferSize();

    @Option(names = "--buffer-age-s", paramLabel = "S", description = "Labelled questions older than this are dropped. Default: ${DEFAULT-VALUE}.")
    long bufferAgeS = DEFAULTS.bufferAge().toSeconds();

    @Option(names = "--every-labels", paramLabel = "M", description = "Refit after every M new labels (0: never). Default: ${DEFAULT-VALUE}.")
    int everyLabels = DEFAULTS.everyLabels();

    @Option(names = "--interval-s", paramLabel = "S", description = "Refit every S seconds (0: never). Default: ${DEFAULT-VALUE}.")
    long intervalS = DEFAULTS.interval().toSeconds();

    @Option(names = "--debounce-ms", paramLabel = "MS",
            description = "A trigger fires this long after its first event; events meanwhile join it (one refit per burst). Default: ${DEFAULT-VALUE}.")
    long debounceMs = DEFAULTS.debounce().toMillis();

    @Option(names = "--cooldown-s", paramLabel = "S",
            description = "After a refit, automatic triggers are ignored this long (refit --now is not). Default: ${DEFAULT-VALUE}.")
    long cooldownS = DEFAULTS.cooldown().toSeconds();

    @Option(names = "--min-examples", paramLabel = "N",
            description = "An automatic refit waits for this many labelled questions (since the drift, for a drift). Default: ${DEFAULT-VALUE}.")
    int minExamples = DEFAULTS.minExamples();

    @Option(names = "--drift-lookback", paramLabel = "N",
            description = "A drift refit also uses the N outcomes before the detection (detectors fire late). Default: ${DEFAULT-VALUE}.")
    int driftLookback = DEFAULTS.driftLookback();

    @Option(names = "--held-out", paramLabel = "F",
            description = "Fraction of the buffer held out to tune the prior precision and to gate. Default: ${DEFAULT-VALUE}.")
    double heldOut = DEFAULTS.refit().heldOutFraction();

    @Option(names = "--blend", paramLabel = "W",
            description = "Weight of the current posterior's curvature blended into the new one (0: none). Default: ${DEFAULT-VALUE}.")
    double blend = DEFAULTS.refit().blendWeight();

    @Option(names = "--gate-margin", paramLabel = "NATS",
            description = "Publish only if the held-out NLL drops by more than this. Default: ${DEFAULT-VALUE}.")
    double gateMargin = DEFAULTS.refit().gateMargin();

    @Option(names = "--evidence", description = "Tune the prior precision by the marginal likelihood instead of held-out likelihood.")
    boolean evidence = DEFAULTS.refit().evidence();

    @Option(names = "--keep-versions", paramLabel = "K",
            description = "Versions kept on the posteriors topic; older ones get tombstones. Default: ${DEFAULT-VALUE}.")
    int keepVersions = DEFAULTS.keepVersions();

    @Option(names = "--chunk-bytes", paramLabel = "B", description = "Largest chunk of a posterior file on the topic. Default: ${DEFAULT-VALUE}.")
    int chunkBytes = DEFAULTS.chunkBytes();

    RefitterSettings settings() {
        return RefitterSettingsBuilder.builder(DEFAULTS).bufferSize(bufferSize).bufferAge(Duration.ofSeconds(bufferAgeS))
                .everyLabels(everyLabels).interval(Duration.ofSeconds(intervalS)).debounce(Duration.ofMillis(debounceMs))
                .cooldown(Duration.ofSeconds(cooldownS)).minExamples(minExamples).driftLookback(driftLookback)
                .keepVersions(keepVersions).chunkBytes(chunkBytes)
                .refit(PosteriorRefitSettingsBuilder.builder(DEFAULTS.refit()).heldOutFraction(heldOut).blendWeight(blend)
                        .gateMargin(gateMargin).evidence(evidence).build())
                .build();
    }
}
