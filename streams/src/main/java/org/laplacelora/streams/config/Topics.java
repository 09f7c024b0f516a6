package org.laplacelora.streams.config;

import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;

/** The topic names (every one configurable) and how the embedded stack creates them. */
public record Topics(String questions, String labels, String predictions, String questionsDlq, String calibrationMetrics,
                     String driftEvents, String labelledOutcomes, String refitRequests, String posteriors, String refitReports) {
    public static Topics defaults() {
        return new Topics("questions", "labels", "predictions", "questions-dlq", "calibration-metrics", "drift-events",
                "labelled-outcomes", "refit-requests", "posteriors", "refit-reports");
    }

    /** Every topic with replication factor {@code replication}; posteriors compacted. */
    public List<NewTopic> newTopics(int partitions, short replication) {
        return List.of(
                new NewTopic(questions, partitions, replication),
                new NewTopic(labels, partitions, replication),
                new NewTopic(predictions, partitions, replication),
                new NewTopic(questionsDlq, 1, replication),
                new NewTopic(calibrationMetrics, 1, replication),
                new NewTopic(driftEvents, 1, replication),
                new NewTopic(labelledOutcomes, partitions, replication),
                new NewTopic(refitRequests, 1, replication),
                new NewTopic(posteriors, 1, replication).configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)),
                new NewTopic(refitReports, 1, replication));
    }
}
