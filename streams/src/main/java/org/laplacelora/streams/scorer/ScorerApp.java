package org.laplacelora.streams.scorer;

import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.streams.StreamsConfig;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.posteriors.PosteriorWatcher;
import org.laplacelora.streams.posteriors.ServingApp;

/** The scorer service: its topology as a Kafka Streams application, on the newest posterior version. */
public final class ScorerApp extends ServingApp {
    /**
     * A batch scored ahead is delivered when the stream thread next wakes, so it must not sleep Kafka Streams'
     * default 100 ms in an empty poll.
     */
    private static final Map<String, Object> STREAMS_SETTINGS = Map.of(StreamsConfig.POLL_MS_CONFIG, 10L);

    private ScorerApp(KafkaSettings kafka, QuestionScorer scorer, BatchScoring model, ScorerSettings settings, String applicationId,
                      Path stateDir) throws InterruptedException {
        super("scorer", kafka, new PosteriorWatcher(kafka, scorer.served(), applicationId), ScorerTopology.build(kafka.topics(), scorer,
                model, settings.batching()), applicationId, stateDir, settings.commitInterval(), STREAMS_SETTINGS);
    }

    public static ScorerApp start(KafkaSettings kafka, QuestionScorer scorer, ScorerSettings settings, String applicationId,
                                  Path stateDir) throws InterruptedException {
        return new ScorerApp(kafka, scorer, scorer::score, settings, applicationId, stateDir);
    }

    /** @param model what scores a batch: the scorer itself, or a wrapper around it (tests slow it down) */
    public static ScorerApp start(KafkaSettings kafka, QuestionScorer scorer, BatchScoring model, ScorerSettings settings,
                                  String applicationId, Path stateDir) throws InterruptedException {
        return new ScorerApp(kafka, scorer, model, settings, applicationId, stateDir);
    }
}
