package org.laplacelora.streams.cli;

import java.time.Duration;
import org.laplacelora.model.laplace.predictive.Method;
import org.laplacelora.streams.calibrator.CalibratorSettings;
import org.laplacelora.streams.calibrator.CalibratorSettingsBuilder;
import picocli.CommandLine.Option;

/** Windows, label horizon and drift detectors of the calibrator. */
final class CalibratorOptions {
    private static final CalibratorSettings DEFAULTS = CalibratorSettings.defaults();

    @Option(names = "--window-size", paramLabel = "N", description = "Labelled outcomes per tumbling window. Default: ${DEFAULT-VALUE}.")
    int windowSize = DEFAULTS.windowSize();

    @Option(names = "--label-horizon-ms", paramLabel = "MS",
            description = "How long a prediction waits for its label before it counts as missing (later labels count as late). Default: ${DEFAULT-VALUE}.")
    long horizonMs = DEFAULTS.horizon().toMillis();

    @Option(names = "--drift-method", paramLabel = "M",
            description = "Whose outcomes the drift detectors watch: laplace, temperature or map. Default: ${DEFAULT-VALUE}.")
    String driftMethod = DEFAULTS.driftMethod().id();

    @Option(names = "--page-hinkley-delta", paramLabel = "NATS", description = "Page-Hinkley tolerance δ on per-example NLL. Default: ${DEFAULT-VALUE}.")
    double phDelta = DEFAULTS.phDelta();

    @Option(names = "--page-hinkley-threshold", paramLabel = "NATS", description = "Page-Hinkley alarm threshold λ. Default: ${DEFAULT-VALUE}.")
    double phThreshold = DEFAULTS.phThreshold();

    @Option(names = "--page-hinkley-min", paramLabel = "N", description = "Outcomes before Page-Hinkley may fire. Default: ${DEFAULT-VALUE}.")
    int phMin = DEFAULTS.phMinOutcomes();

    @Option(names = "--ece-rise", paramLabel = "X",
            description = "A window's ECE this much above the version's first window fires (fraction). Default: ${DEFAULT-VALUE}.")
    double eceRise = DEFAULTS.eceRise();

    CalibratorSettings settings() {
        return CalibratorSettingsBuilder.builder(DEFAULTS).horizon(Duration.ofMillis(horizonMs)).windowSize(windowSize).phDelta(phDelta)
                .phThreshold(phThreshold).phMinOutcomes(phMin).eceRise(eceRise).driftMethod(Method.parse(driftMethod)).build();
    }
}
