package org.laplacelora.streams.demo;

import io.soabase.recordbuilder.core.RecordBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.IntFunction;
import org.laplacelora.model.tasks.Example;
import org.laplacelora.streams.calibrator.CalibratorSettings;
import org.laplacelora.streams.refit.RefitterSettings;
import org.laplacelora.streams.scorer.ScorerSettings;

/**
 * One demo run: the stream of questions and how it is published, the embedded stack, and the services' settings.
 *
 * @param shifts the questions at which the distribution shifts, in order (none: empty)
 * @param injectBad malformed records mixed into the stream (each must come out as one dead letter)
 * @param rate questions per second
 * @param labelDelay how long after its question each label is published
 * @param partitions of the data topics
 * @param dataDir the broker's and registry's data directory; null for a temporary one
 * @param kafkaPort the broker's port, 0 for any free one
 * @param registryPort the registry's port, 0 for any free one
 * @param dashboardPort the dashboard's port (0: any free one); null: no dashboard
 * @param dashboardLinger how long the dashboard keeps serving after the summary (an interrupt ends it sooner)
 * @param question the i-th question of the stream (its id must be "q" + i)
 */
@RecordBuilder
public record DemoSettings(int questions, List<Integer> shifts, int injectBad, double rate, Duration labelDelay, int partitions, Path dataDir,
                           int kafkaPort, int registryPort, Integer dashboardPort, Duration dashboardLinger, ScorerSettings scorer, CalibratorSettings calibrator,
                           RefitterSettings refitter, IntFunction<Example> question) {
    public DemoSettings {
        shifts = List.copyOf(shifts);
    }

    /** How many shifts came before question i: 0 before the first, 1 after it, ... */
    public int segment(int i) {
        return segment(shifts, i);
    }

    /** How many of {@code shifts} (in order) came before question i. */
    public static int segment(List<Integer> shifts, int i) {
        int k = 0;
        while (k < shifts.size() && i >= shifts.get(k)) {
            k++;
        }
        return k;
    }
}
