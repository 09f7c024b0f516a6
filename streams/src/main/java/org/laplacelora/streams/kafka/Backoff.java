package org.laplacelora.streams.kafka;

import java.time.Duration;

/** How long to wait before the n-th try after a passing failure (the registry or a broker out of reach): 1, 2, 4 ... 30 s. */
public final class Backoff {
    public static final Duration MAX = Duration.ofSeconds(30);

    private Backoff() {}

    /** @param attempt 0 for the first wait */
    public static long millis(int attempt) {
        return Math.min(MAX.toMillis(), 1000L << Math.min(attempt, 5));
    }
}
