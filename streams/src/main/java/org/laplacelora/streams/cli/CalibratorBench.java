package org.laplacelora.streams.cli;

import java.time.Duration;
import me.tongfei.progressbar.ProgressBar;
import org.laplacelora.streams.bench.CalibratorBenchmark;
import org.laplacelora.streams.calibrator.CalibratorSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "calibrator")
final class CalibratorBench extends AppCommand {
    @Option(names = "--open", defaultValue = "10000", paramLabel = "N", descriptionKey = "calibrator-bench.open") int open;
    @Option(names = "--warmup", defaultValue = "100000", paramLabel = "N", descriptionKey = "calibrator-bench.warmup") int warmup;
    @Option(names = "--outcomes", defaultValue = "100000", paramLabel = "N", descriptionKey = "calibrator-bench.outcomes") int outcomes;
    @Option(names = "--partitions", defaultValue = "1", paramLabel = "P", descriptionKey = "calibrator-bench.partitions") int partitions;
    @Option(names = "--commit-interval-ms", paramLabel = "MS") long commitIntervalMs = CalibratorSettings.defaults().commitInterval().toMillis();

    @Override
    public Integer call() throws Exception {
        try (ProgressBar bar = Progress.bar("producing", (long) open + warmup + outcomes, "questions")) {
            CalibratorBenchmark.run(open, warmup, outcomes, partitions, Duration.ofMillis(commitIntervalMs), System.out, bar::stepTo);
        }
        return 0;
    }
}
