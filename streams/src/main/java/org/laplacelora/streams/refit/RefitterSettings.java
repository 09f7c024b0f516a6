package org.laplacelora.streams.refit;

import io.soabase.recordbuilder.core.RecordBuilder;
import java.time.Duration;
import org.laplacelora.model.refit.PosteriorRefit;
import org.laplacelora.streams.posteriors.PosteriorVersions;

/**
 * How the refitter keeps its buffer, when it refits and what it publishes.
 *
 * @param bufferSize most labelled questions kept (the oldest go first)
 * @param bufferAge labelled questions older than this are dropped
 * @param everyLabels refit after this many new labels (0: never)
 * @param interval refit this often (zero: never)
 * @param debounce a trigger fires once no other has come for this long, so a burst of drift events gives one refit
 * @param cooldown after a refit, drift, label and interval triggers are ignored this long (manual requests are not)
 * @param minExamples an automatic refit waits until the buffer (since the drift, for a drift) holds this many
 * @param driftLookback a drift refit uses the outcomes from this many before the detection on (detectors fire late)
 * @param keepVersions versions kept on the posteriors topic; older ones are retired with tombstones
 * @param chunkBytes largest chunk of a posterior file
 * @param refit how a refit works: its mode, the buffer's split, the online update, the gate
 */
@RecordBuilder
public record RefitterSettings(int bufferSize, Duration bufferAge, int everyLabels, Duration interval, Duration debounce,
                               Duration cooldown, int minExamples, int driftLookback, int keepVersions, int chunkBytes,
                               PosteriorRefit.Settings refit) implements RefitterSettingsBuilder.With {
    public RefitterSettings {
        if (bufferSize < 4 || minExamples < 4 || keepVersions < 1 || chunkBytes < 1024) {
            throw new IllegalArgumentException("buffer size and min examples must be ≥ 4, versions kept ≥ 1, chunks ≥ 1 KiB");
        }
        if (minExamples > bufferSize) {
            throw new IllegalArgumentException("min examples (" + minExamples + ") cannot exceed the buffer size (" + bufferSize + ")");
        }
    }

    public static RefitterSettings defaults() {
        return new RefitterSettings(2000, Duration.ofDays(1), 0, Duration.ZERO, Duration.ofSeconds(10), Duration.ofMinutes(5),
                PosteriorRefit.Settings.defaults().minimumBuffer(),
                25, 5, PosteriorVersions.CHUNK_BYTES, PosteriorRefit.Settings.defaults());
    }
}
