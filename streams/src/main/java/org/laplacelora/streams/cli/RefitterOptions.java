package org.laplacelora.streams.cli;

import java.time.Duration;
import java.util.List;
import org.laplacelora.model.refit.PosteriorRefitSettingsBuilder;
import org.laplacelora.model.refit.RefitMode;
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
    @Option(names = "--refit-mode", paramLabel = "online|curvature") String mode = DEFAULTS.refit().mode().id();
    @Option(names = "--fit-fraction", paramLabel = "F") double fitFraction = DEFAULTS.refit().fitFraction();
    @Option(names = "--tune-fraction", paramLabel = "F") double tuneFraction = DEFAULTS.refit().tuneFraction();
    @Option(names = "--min-gate", paramLabel = "N") int minGate = DEFAULTS.refit().minGate();
    @Option(names = "--forgetting", split = ",", paramLabel = "T,T,...") List<Double> forgetting = DEFAULTS.refit().forgetting();
    @Option(names = "--online-steps", paramLabel = "N") int steps = DEFAULTS.refit().steps();
    @Option(names = "--online-lr", paramLabel = "X") double learningRate = DEFAULTS.refit().learningRate();
    @Option(names = "--blend", paramLabel = "W") double blend = DEFAULTS.refit().blendWeight();
    @Option(names = "--gate-margin", paramLabel = "NATS") double gateMargin = DEFAULTS.refit().gateMargin();
    @Option(names = "--evidence") boolean evidence = DEFAULTS.refit().evidence();
    @Option(names = "--allow-boundary") boolean allowBoundary = DEFAULTS.refit().allowBoundary();
    @Option(names = "--keep-versions", paramLabel = "K") int keepVersions = DEFAULTS.keepVersions();
    @Option(names = "--chunk-bytes", paramLabel = "B") int chunkBytes = DEFAULTS.chunkBytes();

    RefitterSettings settings() {
        return RefitterSettingsBuilder.builder(DEFAULTS).bufferSize(bufferSize).bufferAge(Duration.ofSeconds(bufferAgeS))
                .everyLabels(everyLabels).interval(Duration.ofSeconds(intervalS)).debounce(Duration.ofMillis(debounceMs))
                .cooldown(Duration.ofSeconds(cooldownS)).minExamples(minExamples).driftLookback(driftLookback)
                .keepVersions(keepVersions).chunkBytes(chunkBytes)
                .refit(PosteriorRefitSettingsBuilder.builder(DEFAULTS.refit()).mode(RefitMode.parse(mode)).fitFraction(fitFraction)
                        .tuneFraction(tuneFraction).minGate(minGate).forgetting(forgetting).steps(steps).learningRate(learningRate)
                        .blendWeight(blend).gateMargin(gateMargin).evidence(evidence).allowBoundary(allowBoundary).build())
                .build();
    }
}
