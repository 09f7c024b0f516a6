package org.laplacelora.streams.refit;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.posteriors.PosteriorWatcher;
import org.laplacelora.streams.posteriors.ServedModel;
import org.laplacelora.streams.posteriors.ServingApp;

/** The refitter service: the refitter and its topology as a Kafka Streams application, on the newest posterior version. */
public final class RefitterApp extends ServingApp {
    private static final Duration COMMIT_INTERVAL = Duration.ofMillis(100);

    private final Refitter refitter;

    /** @param overrides Streams and client settings (a refit runs on its own worker: the defaults need no long timeouts) */
    private RefitterApp(KafkaSettings kafka, PosteriorWatcher watcher, Refitter refitter, RefitterSettings settings, String applicationId,
                        Path stateDir, Map<String, Object> overrides) throws InterruptedException {
        super("refitter", kafka, watcher, RefitterTopology.build(kafka.topics(), refitter, settings), applicationId, stateDir, COMMIT_INTERVAL,
                overrides);
        this.refitter = refitter;
    }

    /** @param served model, adapter and starting posterior (version 0); the app keeps it on the newest version */
    public static RefitterApp start(KafkaSettings kafka, ServedModel served, RefitterSettings settings, String applicationId,
                                    Path stateDir) throws IOException, InterruptedException {
        return start(kafka, served, settings, applicationId, stateDir, Map.of());
    }

    /** @param overrides Streams and client settings of this application, e.g. a short {@code transaction.timeout.ms} */
    public static RefitterApp start(KafkaSettings kafka, ServedModel served, RefitterSettings settings, String applicationId,
                                    Path stateDir, Map<String, Object> overrides) throws IOException, InterruptedException {
        PosteriorWatcher watcher = new PosteriorWatcher(kafka, served, applicationId);
        Refitter refitter = new Refitter(served, watcher);   // before the watcher runs: version 0 is the starting file
        try {
            return new RefitterApp(kafka, watcher, refitter, settings, applicationId, stateDir, overrides);
        } catch (RuntimeException | InterruptedException e) {
            refitter.close();
            throw e;
        }
    }

    @Override
    public void close() throws InterruptedException {
        try {
            super.close();
        } finally {
            refitter.close();
        }
    }
}
