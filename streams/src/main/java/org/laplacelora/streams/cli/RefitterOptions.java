package org.laplacelora.streams.cli;

import java.time.Duration;
import org.laplacelora.model.refit.PosteriorRefitSettingsBuilder;
import org.laplacelora.streams.refit.RefitterSettings;
import org.laplacelora.streams.refit.RefitterSettingsBuilder;
import picocli.CommandLine.Option;

/** The refitter's buffer, triggers, gate and retention. */
final class RefitterOptions {
    private static final RefitterSettings DEFAULTS = RefitterSettings.defaults();

    @Option(names = "--buffer-size", paramLabel = "N") int bufferSize = DEFAULTS.bufferSize();
    @Option(names = "--buffer-age-s", paramLabel = "S") long bufferAgeS = DEFAULTS.bufferAge().toSeconds();
    @Option(names = "--every-labels", paramLabel = "M") int everyLabels = DEFAULTS.everyLabels();
    @Option(names = "--interval-s", paramLabel = "S") long intervalS = DEFAULTS.interval().toSeconds();
    @Option(names = "--debounce-ms", paramLabel = "MS") long debounceMs = DEFAULTS.debounce().toMillis();
    @Option(names = "--cooldown-s", paramLabel = "S") long cooldownS = DEFAULTS.cooldown().toSeconds();
    @Option(names = "--min-examples", paramLabel = "N") int minExamples = DEFAULTS.minExamples();
    @Option(names = "--drift-lookback", paramLabel = "N") int driftLookback = DEFAULTS.driftLookback();
    @Option(names = "--held-out", paramLabel = "F") double heldOut = DEFAULTS.refit().heldOutFraction();
    @Option(names = "--blend", paramLabel = "W") double blend = DEFAULTS.refit().blendWeight();
    @Option(names = "--gate-margin", paramLabel = "NATS") double gateMargin = DEFAULTS.refit().gateMargin();
    @Option(names = "--evidence") boolean evidence = DEFAULTS.refit().evidence();
    @Option(names = "--keep-versions", paramLabel = "K") int keepVersions = DEFAULTS.keepVersions();
    @Option(names = "--chunk-bytes", paramLabel = "B") int chunkBytes = DEFAULTS.chunkBytes();

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
