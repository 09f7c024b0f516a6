package org.laplacelora.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.kafka.streams.Topology;
import org.laplacelora.model.laplace.LinearisedPredictive;
import org.laplacelora.model.laplace.Link;
import org.laplacelora.schemas.avro.DeadLetter;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.avro.Question;
import org.laplacelora.schemas.registry.SchemaRegistry;
import org.laplacelora.schemas.serde.ConfluentAvroSerde;
import org.laplacelora.streams.config.KafkaSettings;
import org.laplacelora.streams.scorer.QuestionScorer;
import org.laplacelora.streams.scorer.ScorerTopology;
import picocli.CommandLine.Option;

/** The posterior, the link and the micro-batch limits of a scorer. */
final class ScoringOptions {
    @Option(names = "--posterior", required = true, paramLabel = "FILE", description = "The posterior (fit-posterior) to serve.")
    Path posterior;

    @Option(names = "--max-batch", defaultValue = "32", paramLabel = "N", description = "Largest micro-batch. Default: ${DEFAULT-VALUE}.")
    int maxBatch;

    @Option(names = "--max-wait-ms", defaultValue = "200", paramLabel = "MS",
            description = "Longest a question waits for its micro-batch to fill. Default: ${DEFAULT-VALUE}.")
    long maxWaitMs;

    @Option(names = "--commit-interval-ms", defaultValue = "100", paramLabel = "MS",
            description = "How often the scorer's transactions commit; predictions become visible then. Longer intervals "
                    + "raise throughput (docs/benchmarks.md) and add latency. Default: ${DEFAULT-VALUE}.")
    long commitIntervalMs;

    @Option(names = "--score-ahead", defaultValue = "" + ScorerTopology.Batching.DEFAULT_SCORE_AHEAD, paramLabel = "N",
            description = "Micro-batches scored on a thread of their own while the stream thread polls and commits; "
                    + "0 scores on the stream thread. Default: ${DEFAULT-VALUE}.")
    int scoreAhead;

    @Option(names = "--link", defaultValue = "mc", paramLabel = "mc|probit|binary", description = "Default: ${DEFAULT-VALUE}.")
    String link;

    @Option(names = "--samples", defaultValue = "20000", paramLabel = "N",
            description = "Monte Carlo samples per question (seeded by its id). Default: ${DEFAULT-VALUE}.")
    int samples;

    @Option(names = "--max-length", defaultValue = "512", paramLabel = "N",
            description = "Longest prompt in tokens (capped at the model's context); longer ones are dead-lettered TOO_LONG. Default: ${DEFAULT-VALUE}.")
    int maxLength;

    QuestionScorer load(ModelOptions model, AdapterOptions adapter) throws IOException {
        model.configureEngine();
        return QuestionScorer.load(model.model, model.tokenizer, adapter.adapter, posterior, model.device,
                new LinearisedPredictive(Link.parse(link), samples, 0), maxLength);
    }

    Topology topology(KafkaSettings kafka, QuestionScorer scorer, SchemaRegistry registry) {
        return ScorerTopology.build(kafka.topics(), scorer, ConfluentAvroSerde.value(Question.class, registry).deserializer(),
                ConfluentAvroSerde.value(Prediction.class, registry).serializer(),
                ConfluentAvroSerde.value(DeadLetter.class, registry).serializer(),
                new ScorerTopology.Batching(maxBatch, Duration.ofMillis(maxWaitMs), scoreAhead));
    }
}
