package org.laplacelora.streams.refit;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.laplacelora.schemas.avro.DriftEvent;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.schemas.avro.RefitReport;
import org.laplacelora.schemas.avro.RefitRequest;
import org.laplacelora.schemas.registry.SchemaRegistry;
import org.laplacelora.schemas.serde.ConfluentAvroSerde;
import org.laplacelora.streams.config.KafkaSettings;
import org.laplacelora.streams.config.StreamsRunner;
import org.laplacelora.streams.scorer.QuestionScorer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The refitter application: a watcher on the posteriors topic, the refitter and its Streams topology. */
public final class RefitterApp implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RefitterApp.class);

    /**
     * A refit runs on the stream thread, inside the transaction that publishes it: allow it minutes (the
     * broker's default ceiling for a transaction is 15).
     */
    private static final Map<String, Object> LONG_REFITS = Map.of(
            StreamsConfig.consumerPrefix(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG), (int) Duration.ofMinutes(30).toMillis(),
            StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG), (int) Duration.ofMinutes(15).toMillis());

    private final PosteriorWatcher watcher;
    private final StreamsRunner streams;

    private RefitterApp(PosteriorWatcher watcher, StreamsRunner streams) {
        this.watcher = watcher;
        this.streams = streams;
    }

    /** @param scorer model, adapter and starting posterior (version 0); the app keeps it on the newest version */
    public static RefitterApp start(KafkaSettings kafka, SchemaRegistry registry, QuestionScorer scorer, RefitSettings settings,
                                    String applicationId, Path stateDir) throws IOException, InterruptedException {
        PosteriorWatcher watcher = new PosteriorWatcher(kafka, registry, scorer, applicationId);
        Refitter refitter = new Refitter(scorer, watcher);   // before the watcher runs: version 0 is the starting file
        watcher.start();
        if (!watcher.awaitCaughtUp(Duration.ofSeconds(60))) {
            LOG.warn("the posteriors topic was not read to its end within 60 s; starting anyway");
        }
        RefitterTopology.RefitterSerdes serdes = new RefitterTopology.RefitterSerdes(
                ConfluentAvroSerde.value(LabelledOutcome.class, registry).deserializer(),
                ConfluentAvroSerde.value(DriftEvent.class, registry).deserializer(),
                ConfluentAvroSerde.value(RefitRequest.class, registry).deserializer(),
                new PosteriorRecords(registry).serde(),
                ConfluentAvroSerde.value(RefitReport.class, registry));
        try {
            StreamsRunner streams = StreamsRunner.start(RefitterTopology.build(kafka.topics(), serdes, refitter, settings), kafka,
                    applicationId, stateDir, Duration.ofMillis(100), LONG_REFITS);
            return new RefitterApp(watcher, streams);
        } catch (RuntimeException | InterruptedException e) {
            watcher.close();
            throw e;
        }
    }

    public PosteriorWatcher watcher() {
        return watcher;
    }

    @Override
    public void close() throws InterruptedException {
        streams.close();
        watcher.close();
    }
}
