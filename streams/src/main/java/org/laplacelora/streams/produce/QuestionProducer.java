package org.laplacelora.streams.produce;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.laplacelora.model.tasks.Example;
import org.laplacelora.model.tasks.TaskKind;
import org.laplacelora.schemas.avro.Label;
import org.laplacelora.schemas.avro.Question;
import org.laplacelora.schemas.registry.SchemaRegistry;
import org.laplacelora.schemas.serde.ConfluentAvroSerde;
import org.laplacelora.streams.config.KafkaSettings;

/**
 * Publishes questions to the questions topic and, after a delay and for a fraction of them, their labels to
 * the labels topic — as a labelling process would. Can also publish malformed records, one of each kind of
 * dead letter in turn, to exercise the scorer's dead-letter path.
 */
public final class QuestionProducer implements AutoCloseable {
    private final KafkaProducer<String, byte[]> producer;
    private final KafkaSettings kafka;
    private final ConfluentAvroSerde<Question> questions;
    private final ConfluentAvroSerde<Label> labels;
    private final Duration labelDelay;
    private final double labelFraction;
    private final Random random;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "label-producer");
        t.setDaemon(true);
        return t;
    });
    private final AtomicLong questionsSent = new AtomicLong();
    private final AtomicLong labelsSent = new AtomicLong();
    private final AtomicLong badSent = new AtomicLong();

    public QuestionProducer(KafkaSettings kafka, SchemaRegistry registry, Duration labelDelay, double labelFraction, long seed) {
        Map<String, Object> p = new java.util.HashMap<>(kafka.kafka());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        this.kafka = kafka;
        this.questions = ConfluentAvroSerde.value(Question.class, registry);
        this.labels = ConfluentAvroSerde.value(Label.class, registry);
        this.labelDelay = labelDelay;
        this.labelFraction = labelFraction;
        this.random = new Random(seed);
    }

    /** The Avro question of a dataset example (the scorer renders the prompt from it). */
    public static Question toQuestion(Example e, Map<String, String> attributes) {
        org.laplacelora.model.tasks.Question q = e.question();
        return Question.newBuilder()
                .setId(q.id())
                .setTask(q.task().id())
                .setText(q.task() == TaskKind.GENERIC ? "" : q.text())
                .setChoices(q.choices())
                .setContext(q.context())
                .setPrompt(q.prompt())
                .setAnswers(q.answers())
                .setProducedAt(Instant.now())
                .setAttributes(attributes)
                .build();
    }

    /** Sends the question now and, unless it is left unlabelled, its label after the delay. */
    public void send(Example e, Map<String, String> attributes) {
        Question q = toQuestion(e, attributes);
        producer.send(new ProducerRecord<>(kafka.topics().questions(), q.getId(), questions.serialize(kafka.topics().questions(), q)));
        questionsSent.incrementAndGet();
        if (e.labelled() && random.nextDouble() < labelFraction) {
            Label l = Label.newBuilder().setQuestionId(q.getId()).setLabel(e.label()).setLabelledAt(Instant.now()).build();
            byte[] bytes = labels.serialize(kafka.topics().labels(), l);
            scheduler.schedule(() -> {
                producer.send(new ProducerRecord<>(kafka.topics().labels(), l.getQuestionId(), bytes));
                labelsSent.incrementAndGet();
            }, labelDelay.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** The kinds of malformed record {@link #sendBad} cycles through, with the dead-letter reason each should get. */
    public static final List<String> BAD_KINDS = List.of("UNDECODABLE", "UNKNOWN_TASK", "BAD_CHOICES", "EMPTY_TEXT");

    /** Sends the k-th malformed record, shaped after a valid question. */
    public void sendBad(int k, Example template) {
        String kind = BAD_KINDS.get(k % BAD_KINDS.size());
        String id = "bad-" + k + "-" + kind.toLowerCase(java.util.Locale.ROOT);
        Question valid = toQuestion(template, Map.of("injected", kind));
        byte[] value = switch (kind) {
            case "UNDECODABLE" -> ("not avro: " + id).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            case "UNKNOWN_TASK" -> questions.serialize(kafka.topics().questions(), Question.newBuilder(valid).setId(id).setTask("sudoku").build());
            case "BAD_CHOICES" -> questions.serialize(kafka.topics().questions(), Question.newBuilder(valid).setId(id)
                    .setChoices(List.of("only one")).setAnswers(List.of("only one")).build());
            default -> questions.serialize(kafka.topics().questions(), Question.newBuilder(valid).setId(id).setText("").setPrompt(" ").build());
        };
        producer.send(new ProducerRecord<>(kafka.topics().questions(), id, value));
        badSent.incrementAndGet();
    }

    public long questionsSent() {
        return questionsSent.get();
    }

    public long labelsSent() {
        return labelsSent.get();
    }

    public long badSent() {
        return badSent.get();
    }

    /** Waits for the pending labels, then flushes and closes. */
    @Override
    public void close() {
        scheduler.shutdown();
        try {
            scheduler.awaitTermination(labelDelay.toMillis() + 30_000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        producer.flush();
        producer.close(Duration.ofSeconds(30));
    }
}
