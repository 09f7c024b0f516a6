package org.laplacelora.streams.kafka;

import java.util.Map;

/**
 * The topic names, every one configurable in the client properties file as {@code laplace.lora.topic.<default
 * name>=<name>} (for example {@code laplace.lora.topic.questions=prod.questions}).
 */
public record TopicNames(String questions, String labels, String predictions, String questionsDlq, String calibrationMetrics,
                         String driftEvents, String labelledOutcomes, String refitRequests, String posteriors,
                         String refitReports, String labelsDlq) {
    static final String PREFIX = "laplace.lora.topic.";

    public static TopicNames defaults() {
        return new TopicNames("questions", "labels", "predictions", "questions-dlq", "calibration-metrics", "drift-events",
                "labelled-outcomes", "refit-requests", "posteriors", "refit-reports", "labels-dlq");
    }

    /** The defaults, each overridden where {@code properties} names it. */
    static TopicNames from(Map<String, Object> properties) {
        TopicNames d = defaults();
        return new TopicNames(name(properties, d.questions()), name(properties, d.labels()), name(properties, d.predictions()),
                name(properties, d.questionsDlq()), name(properties, d.calibrationMetrics()), name(properties, d.driftEvents()),
                name(properties, d.labelledOutcomes()), name(properties, d.refitRequests()), name(properties, d.posteriors()),
                name(properties, d.refitReports()), name(properties, d.labelsDlq()));
    }

    private static String name(Map<String, Object> properties, String fallback) {
        Object v = properties.get(PREFIX + fallback);
        return v == null ? fallback : v.toString();
    }
}
