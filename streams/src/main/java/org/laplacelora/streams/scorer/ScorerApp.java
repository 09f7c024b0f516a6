package org.laplacelora.streams.scorer;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.streams.StreamsConfig;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.kafka.StreamsRunner;
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
                      Path stateDir, Map<String, Object> overrides) throws InterruptedException {
        super("scorer", kafka, new PosteriorWatcher(kafka, scorer.served(), applicationId), ScorerTopology.build(kafka.topics(), scorer,
                model, settings.batching()), applicationId, stateDir, settings.commitInterval(), with(overrides));
    }

    public static ScorerApp start(KafkaSettings kafka, QuestionScorer scorer, ScorerSettings settings, String applicationId,
                                  Path stateDir) throws InterruptedException {
        return start(kafka, scorer, settings, applicationId, stateDir, Map.of());
    }

    /** @param overrides Streams and client settings of this application, e.g. {@link StreamsRunner#staticMember} */
    public static ScorerApp start(KafkaSettings kafka, QuestionScorer scorer, ScorerSettings settings, String applicationId,
                                  Path stateDir, Map<String, Object> overrides) throws InterruptedException {
        return new ScorerApp(kafka, scorer, scorer::score, settings, applicationId, stateDir, overrides);
    }

    /** @param model what scores a batch: the scorer itself, or a wrapper around it (tests slow it down) */
    public static ScorerApp start(KafkaSettings kafka, QuestionScorer scorer, BatchScoring model, ScorerSettings settings,
                                  String applicationId, Path stateDir) throws InterruptedException {
        return new ScorerApp(kafka, scorer, model, settings, applicationId, stateDir, Map.of());
    }

    private static Map<String, Object> with(Map<String, Object> overrides) {
        Map<String, Object> all = new HashMap<>(STREAMS_SETTINGS);
        all.putAll(overrides);
        return all;
    }
}
