package org.laplacelora.streams.calibrator;

import java.nio.file.Path;
import java.util.Map;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.kafka.StreamsRunner;

/** The calibrator service: its topology as a Kafka Streams application. */
public final class CalibratorApp implements AutoCloseable {
    private final StreamsRunner streams;

    private CalibratorApp(StreamsRunner streams) {
        this.streams = streams;
    }

    public static CalibratorApp start(KafkaSettings kafka, CalibratorSettings settings, String applicationId, Path stateDir)
            throws InterruptedException {
        return start(kafka, settings, applicationId, stateDir, Map.of());
    }

    /** @param overrides Streams settings (stream threads, for one) */
    public static CalibratorApp start(KafkaSettings kafka, CalibratorSettings settings, String applicationId, Path stateDir,
                                      Map<String, Object> overrides) throws InterruptedException {
        StreamsRunner streams = StreamsRunner.start(CalibratorTopology.build(kafka.topics(), settings), kafka, applicationId, stateDir,
                settings.commitInterval(), overrides);
        streams.bindMeters("calibrator");
        return new CalibratorApp(streams);
    }

    /** Ready: the app is RUNNING. */
    public boolean ready() {
        return streams.running();
    }

    /** Runs until Ctrl-C, or until the app stops on a failure (thrown). */
    public void awaitStop() throws InterruptedException {
        streams.awaitStop();
    }

    @Override
    public void close() {
        streams.close();
    }
}
