package org.laplacelora.streams.scorer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import org.laplacelora.streams.telemetry.Telemetry;

/** The scorer's meters: micro-batch time, question-to-prediction latency, predictions (dead letters: {@link org.laplacelora.streams.kafka.DeadLetters}). */
final class ScorerMeters {
    private static final Timer BATCH = Timer.builder(Telemetry.PREFIX + "scorer.batch").description("Time to score one micro-batch")
            .publishPercentileHistogram().register(Telemetry.registry());
    private static final Timer END_TO_END = Timer.builder(Telemetry.PREFIX + "scorer.end_to_end")
            .description("From the question's produced_at to its prediction handed to Kafka").publishPercentileHistogram()
            .maximumExpectedValue(Duration.ofMinutes(5)).register(Telemetry.registry());
    private static final Counter PREDICTIONS = Counter.builder(Telemetry.PREFIX + "predictions").description("Predictions produced")
            .register(Telemetry.registry());

    private ScorerMeters() {}

    static void batch(long nanos) {
        BATCH.record(Duration.ofNanos(nanos));
    }

    static void prediction(long producedAtMs, long nowMs) {
        PREDICTIONS.increment();
        END_TO_END.record(Duration.ofMillis(Math.max(0, nowMs - producedAtMs)));
    }
}
