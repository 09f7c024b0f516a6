package org.laplacelora.streams.cli;

import java.time.Duration;
import org.laplacelora.streams.calibrator.CalibratorSettings;
import org.laplacelora.streams.calibrator.CalibratorSettingsBuilder;
import picocli.CommandLine.Option;

/** Windows, label horizon and drift detectors of the calibrator. */
final class CalibratorOptions {
    private static final CalibratorSettings DEFAULTS = CalibratorSettings.defaults();

    @Option(names = "--window-size", paramLabel = "N") int windowSize = DEFAULTS.windowSize();
    @Option(names = "--label-horizon-ms", paramLabel = "MS") long horizonMs = DEFAULTS.horizon().toMillis();
    @Option(names = "--page-hinkley-delta", paramLabel = "SD") double phDelta = DEFAULTS.phDelta();
    @Option(names = "--page-hinkley-threshold", paramLabel = "SD") double phThreshold = DEFAULTS.phThreshold();
    @Option(names = "--page-hinkley-min", paramLabel = "N") int phMin = DEFAULTS.phMinOutcomes();
    @Option(names = "--ece-rise", paramLabel = "X") double eceRise = DEFAULTS.eceRise();
    @Option(names = "--label-free-z", paramLabel = "Z") double labelFreeZ = DEFAULTS.labelFreeZ();
    @Option(names = "--segment-attribute", paramLabel = "KEY") String segmentAttribute = DEFAULTS.segmentAttribute();
    @Option(names = "--max-segments", paramLabel = "N") int maxSegments = DEFAULTS.maxSegments();

    CalibratorSettings settings() {
        return CalibratorSettingsBuilder.builder(DEFAULTS).horizon(Duration.ofMillis(horizonMs)).windowSize(windowSize).phDelta(phDelta)
                .phThreshold(phThreshold).phMinOutcomes(phMin).eceRise(eceRise).labelFreeZ(labelFreeZ)
                .segmentAttribute(segmentAttribute).maxSegments(maxSegments).build();
    }
}
