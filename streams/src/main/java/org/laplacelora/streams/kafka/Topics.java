package org.laplacelora.streams.kafka;

import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.laplacelora.schemas.avro.CalibrationMetrics;
import org.laplacelora.schemas.avro.DeadLetter;
import org.laplacelora.schemas.avro.DriftEvent;
import org.laplacelora.schemas.avro.Label;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.avro.Question;
import org.laplacelora.schemas.avro.RefitReport;
import org.laplacelora.schemas.avro.RefitRequest;
import org.laplacelora.schemas.registry.SchemaRegistry;
import org.laplacelora.schemas.serde.ConfluentAvroSerde;

/**
 * The pipeline's topics, each tied to its serdes: keys are strings (question ids, detectors, versions), values
 * Avro in Confluent's wire format against the schema registry. Names come from {@link TopicNames}.
 */
public record Topics(Topic<String, Question> questions, Topic<String, Label> labels, Topic<String, Prediction> predictions,
                     Topic<String, DeadLetter> questionsDlq, Topic<String, CalibrationMetrics> calibrationMetrics,
                     Topic<String, DriftEvent> driftEvents, Topic<String, LabelledOutcome> labelledOutcomes,
                     Topic<String, RefitRequest> refitRequests, Topic<String, SpecificRecord> posteriors,
                     Topic<String, RefitReport> refitReports, Topic<String, DeadLetter> labelsDlq) {
    public static Topics of(TopicNames names, SchemaRegistry registry) {
        return new Topics(
                avro(names.questions(), Question.class, registry),
                avro(names.labels(), Label.class, registry),
                avro(names.predictions(), Prediction.class, registry),
                avro(names.questionsDlq(), DeadLetter.class, registry),
                avro(names.calibrationMetrics(), CalibrationMetrics.class, registry),
                avro(names.driftEvents(), DriftEvent.class, registry),
                avro(names.labelledOutcomes(), LabelledOutcome.class, registry),
                avro(names.refitRequests(), RefitRequest.class, registry),
                new Topic<>(names.posteriors(), Serdes.String(), PosteriorRecords.serde(registry)),
                avro(names.refitReports(), RefitReport.class, registry),
                avro(names.labelsDlq(), DeadLetter.class, registry));
    }

    private static <T extends SpecificRecord> Topic<String, T> avro(String name, Class<T> type, SchemaRegistry registry) {
        Serde<T> values = ConfluentAvroSerde.value(type, registry);
        return new Topic<>(name, Serdes.String(), values);
    }

    /**
     * Every topic with replication factor {@code replication}: the data topics with {@code partitions}
     * partitions, the rest with one; posteriors compacted.
     */
    public List<NewTopic> newTopics(int partitions, short replication) {
        return List.of(
                new NewTopic(questions.name(), partitions, replication),
                new NewTopic(labels.name(), partitions, replication),
                new NewTopic(predictions.name(), partitions, replication),
                new NewTopic(questionsDlq.name(), 1, replication),
                new NewTopic(calibrationMetrics.name(), 1, replication),
                new NewTopic(driftEvents.name(), 1, replication),
                new NewTopic(labelledOutcomes.name(), partitions, replication),
                new NewTopic(refitRequests.name(), 1, replication),
                new NewTopic(posteriors.name(), 1, replication)
                        .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)),
                new NewTopic(refitReports.name(), 1, replication),
                new NewTopic(labelsDlq.name(), 1, replication));
    }
}
