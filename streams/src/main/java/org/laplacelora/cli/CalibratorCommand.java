package org.laplacelora.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.laplacelora.streams.config.KafkaSettings;
import org.laplacelora.streams.config.StreamsRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "calibrator", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs the calibrator: joins predictions with labels (any order), publishes running, per-posterior-version "
                + "and windowed calibration of Laplace-LoRA, temperature-scaled MAP and MAP, labelled outcomes, and drift events. "
                + "Runs until interrupted (Ctrl-C)."})
final class CalibratorCommand implements Callable<Integer> {
    @Mixin
    KafkaOptions kafkaOptions;

    @Mixin
    CalibratorOptions calibrator;

    @Option(names = "--application-id", defaultValue = "laplace-lora-calibrator", paramLabel = "ID", description = "Default: ${DEFAULT-VALUE}.")
    String applicationId;

    @Option(names = "--state-dir", paramLabel = "DIR", description = "Local state (default: a temporary directory).")
    Path stateDir;

    @Override
    public Integer call() throws Exception {
        KafkaSettings kafka = kafkaOptions.settings();
        Path state = stateDir != null ? stateDir : java.nio.file.Files.createTempDirectory("laplace-lora-calibrator");
        try (StreamsRunner app = StreamsRunner.start(calibrator.topology(kafka, kafka.registry()), kafka, applicationId, state,
                Duration.ofMillis(100))) {
            System.err.printf("calibrator running: %s + %s → %s (Ctrl-C to stop)%n", kafka.topics().predictions(),
                    kafka.topics().labels(), kafka.topics().calibrationMetrics());
            ScorerCommand.awaitShutdown();
        }
        return 0;
    }
}
