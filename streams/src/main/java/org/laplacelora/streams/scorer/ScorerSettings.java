package org.laplacelora.streams.scorer;

import java.time.Duration;

/**
 * How the scorer batches and commits.
 *
 * @param commitInterval how often its transactions commit; predictions become visible to read_committed
 *     readers then (longer: more throughput, more latency)
 */
public record ScorerSettings(ScorerTopology.Batching batching, Duration commitInterval) {
    public static ScorerSettings defaults() {
        return new ScorerSettings(new ScorerTopology.Batching(32, Duration.ofMillis(200), 2), Duration.ofMillis(100));
    }

    public ScorerSettings withBatching(ScorerTopology.Batching b) {
        return new ScorerSettings(b, commitInterval);
    }

    public ScorerSettings withCommitInterval(Duration d) {
        return new ScorerSettings(batching, d);
    }
}
