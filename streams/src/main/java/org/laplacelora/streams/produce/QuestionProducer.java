package org.laplacelora.streams.produce;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;
import java.util.function.IntFunction;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.laplacelora.model.tasks.Example;
import org.laplacelora.model.tasks.TaskKind;
import org.laplacelora.model.tasks.TaskQuestion;
import org.laplacelora.schemas.avro.Label;
import org.laplacelora.schemas.avro.Question;
import org.laplacelora.schemas.serde.SchemaRegistryUnavailableException;
import org.laplacelora.streams.kafka.Backoff;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.kafka.Topic;
import org.laplacelora.streams.kafka.DeadLetterReason;

/**
 * Publishes questions to the questions topic and, after a delay and for a fraction of them, their labels to
 * the labels topic — as a labelling process would. Can also publish malformed records, one of each kind of
 * dead letter in turn, to exercise the scorer's dead-letter path.
 */
public final class QuestionProducer implements AutoCloseable {
    private final KafkaProducer<String, byte[]> producer;
    private final Topic<String, Question> questions;
    private final Topic<String, Label> labels;
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
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(QuestionProducer.class);
    /** How long a producer waits for a schema registry out of reach before it gives up. */
    static final java.time.Duration REGISTRY_PATIENCE = java.time.Duration.ofMinutes(5);
    private final AtomicLong badSent = new AtomicLong();

    public QuestionProducer(KafkaSettings kafka, Duration labelDelay, double labelFraction, long seed) {
        this.producer = kafka.producer();
        this.questions = kafka.topics().questions();
        this.labels = kafka.topics().labels();
        this.labelDelay = labelDelay;
        this.labelFraction = labelFraction;
        this.random = new Random(seed);
    }

    /** The Avro question of a dataset example (the scorer renders the prompt from it). */
    public static Question toQuestion(Example e, Map<String, String> attributes) {
        TaskQuestion q = e.question();
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
        producer.send(whenRegistryAnswers(() -> questions.record(q.getId(), q)));
        questionsSent.incrementAndGet();
        if (e.labelled() && random.nextDouble() < labelFraction) {
            Label l = Label.newBuilder().setQuestionId(q.getId()).setLabel(e.label()).setLabelledAt(Instant.now()).build();
            ProducerRecord<String, byte[]> record = whenRegistryAnswers(() -> labels.record(l.getQuestionId(), l));
            scheduler.schedule(() -> {
                producer.send(record);
                labelsSent.incrementAndGet();
            }, labelDelay.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /**
     * A record serialized once the schema registry answers: while it is out of reach (the serde's first use of a
     * subject asks it), waits and tries again, 1 s, 2 s, ... up to 30 s apart, for at most {@link #REGISTRY_PATIENCE}.
     */
    private static <T> T whenRegistryAnswers(java.util.function.Supplier<T> serialized) {
        long deadline = System.nanoTime() + REGISTRY_PATIENCE.toNanos();
        for (int attempt = 0; ; attempt++) {
            try {
                return serialized.get();
            } catch (SchemaRegistryUnavailableException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                long waitMs = Backoff.millis(attempt);
                LOG.warn("{}; trying again in {} s", e.getMessage(), waitMs / 1000);
                try {
                    Thread.sleep(waitMs);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /**
     * Publishes questions 0 … n − 1 at {@code rate} per second (0: as fast as possible), with {@code bad} malformed
     * records spread evenly among them.
     *
     * @param attributes the attributes of question i (source, segment, ...)
     * @param progress called with the number of questions published so far
     */
    public void publish(int n, IntFunction<Example> question, IntFunction<Map<String, String>> attributes, int bad, double rate,
                        IntConsumer progress) throws InterruptedException {
        int injected = 0;
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            Example e = question.apply(i);
            send(e, attributes.apply(i));
            while (injected < bad && (long) (injected + 1) * n <= (long) (i + 1) * bad) {
                sendBad(injected++, e);
            }
            progress.accept(i + 1);
            if (rate > 0) {
                long sleep = start + (long) ((i + 1) * 1e9 / rate) - System.nanoTime();
                if (sleep > 0) {
                    Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
                }
            }
        }
    }

    /** The malformed records {@link #sendBad} cycles through, by the dead-letter reason each must get. */
    public static final List<DeadLetterReason> BAD_KINDS = List.of(DeadLetterReason.UNDECODABLE, DeadLetterReason.UNKNOWN_TASK,
            DeadLetterReason.BAD_CHOICES, DeadLetterReason.EMPTY_TEXT);

    /** Sends the k-th malformed record, shaped after a valid question. */
    public void sendBad(int k, Example template) {
        DeadLetterReason kind = BAD_KINDS.get(k % BAD_KINDS.size());
        String id = "bad-" + k + "-" + kind.name().toLowerCase(Locale.ROOT);
        Question valid = toQuestion(template, Map.of("injected", kind.name()));
        Question bad = switch (kind) {
            case UNKNOWN_TASK -> Question.newBuilder(valid).setId(id).setTask("sudoku").build();
            case BAD_CHOICES -> Question.newBuilder(valid).setId(id).setChoices(List.of("only one")).setAnswers(List.of("only one")).build();
            case EMPTY_TEXT -> Question.newBuilder(valid).setId(id).setText("").setPrompt(" ").build();
            default -> null;
        };
        byte[] value = bad == null ? ("not avro: " + id).getBytes(StandardCharsets.UTF_8) : questions.serialize(bad);
        producer.send(new ProducerRecord<>(questions.name(), id, value));
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
