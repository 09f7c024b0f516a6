package org.laplacelora.streams.calibrator;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.ContextualProcessor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.laplacelora.schemas.avro.CalibratorEvent;
import org.laplacelora.schemas.avro.Label;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.avro.PredictionSignal;
import org.laplacelora.schemas.avro.Question;
import org.laplacelora.schemas.state.JoinEntry;
import org.laplacelora.streams.kafka.DeadLetterReason;
import org.laplacelora.streams.kafka.DeadLetters;
import org.laplacelora.streams.kafka.OrderedKeys;
import org.laplacelora.streams.kafka.Topic;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import java.nio.charset.StandardCharsets;

/**
 * Joins questions, predictions and labels by question id in whatever order they arrive, one task per input
 * partition. A prediction that meets its label becomes an outcome; one whose label has not come within the
 * horizon is reported missing, and a label that comes after that is reported late — counted downstream, never
 * silently dropped. The horizon is stream time (the records' own timestamps), so a replay or a restart gives
 * the same missing and late counts; each id's deadline sits in a second store keyed by time, so expiry reads
 * only what is due and the cost per record does not grow with the number of open questions.
 */
final class JoinProcessor extends ContextualProcessor<String, SpecificRecord, String, Object> {
    /** Every event goes to the single metrics task under this key. */
    static final String ALL = "all";

    private final Duration horizon;
    private final Topic<String, Label> labels;
    private KeyValueStore<String, JoinEntry> store;
    /** "first seen (19 digits)|id" → "": the ids by the time their horizon started, oldest first. */
    private KeyValueStore<String, String> deadlines;
    /** Stream time at which the oldest id's horizon passes (Long.MAX_VALUE when none is open; MIN_VALUE: not read yet). */
    private long nextDue;

    JoinProcessor(Duration horizon, Topic<String, Label> labels) {
        this.horizon = horizon;
        this.labels = labels;
    }

    @Override
    public void init(ProcessorContext<String, Object> ctx) {
        super.init(ctx);
        this.store = ctx.getStateStore(CalibratorTopology.JOIN_STORE);
        this.deadlines = ctx.getStateStore(CalibratorTopology.DEADLINE_STORE);
        this.nextDue = Long.MIN_VALUE;     // the first record expires what is due and reads the next deadline
    }

    /**
     * A join store written before the deadline index existed has entries and no deadlines: they are indexed once, on
     * the first record (one scan), so that they expire like the rest. With an index there is nothing to do (one seek).
     */
    private void indexOlderEntries() {
        try (KeyValueIterator<String, String> indexed = deadlines.all()) {
            if (indexed.hasNext()) {
                return;
            }
        }
        List<KeyValue<String, JoinEntry>> entries = new ArrayList<>();
        try (KeyValueIterator<String, JoinEntry> it = store.all()) {
            it.forEachRemaining(entries::add);
        }
        entries.forEach(kv -> deadlines.put(deadline(kv.value.getFirstSeen(), kv.key), ""));
    }

    /** When the oldest open id's horizon passes, read off the index (one seek). */
    private long oldestDeadline() {
        try (KeyValueIterator<String, String> it = deadlines.all()) {
            return it.hasNext() ? OrderedKeys.parse(it.next().key) + horizon.toMillis() : Long.MAX_VALUE;
        }
    }

    @Override
    public void process(Record<String, SpecificRecord> r) {
        String id = r.key();
        if (id == null) {
            return;
        }
        // Stream time only moves with records: what the record that moved it past a deadline finds is expired first.
        long now = context().currentStreamTimeMs();
        if (nextDue == Long.MIN_VALUE) {
            indexOlderEntries();
        }
        if (now >= nextDue) {
            expire(now);
        }
        JoinEntry e = store.get(id);
        if (e == null) {
            e = entry(now, false, false);
            open(id, now);
        }
        SpecificRecord in = r.value();
        if (e.getExpired()) {
            if (in instanceof Label) {
                forward(id, EventKind.LABEL_LATE, null, null, now);
            }
            return;
        }
        if (in instanceof Label l && (e.getJoined() || e.getLabel() != null)) {
            RecordMetadata meta = context().recordMetadata().orElseThrow();
            reject(id, l, meta.partition(), meta.offset(), DeadLetterReason.DUPLICATE_LABEL, "question " + id + " already has its label"
                    + (e.getJoined() ? " and its outcome" : "") + " (the first wins)", now);
            return;
        }
        if (e.getJoined()) {
            return; // a duplicate prediction or question, or a question after its outcome: nothing more to do
        }
        if (in instanceof Question q) {
            if (!q.getId().equals(id) || e.getQuestion() != null) {
                return;   // keyed by another id, or a second question with this id: the scorer dead-letters both; the first counts
            }
            e.setQuestion(q);
        } else if (in instanceof Prediction p) {
            if (e.getPrediction() != null) {
                return;   // a second prediction under this id: the first counts (it is the one counted as awaiting its label)
            }
            forward(id, EventKind.PREDICTION, null, signal(p), now);
            e.setPrediction(p);
        } else {
            RecordMetadata meta = context().recordMetadata().orElseThrow();
            e.setLabel((Label) in);
            e.setLabelPartition(meta.partition());
            e.setLabelOffset(meta.offset());
        }
        if (e.getPrediction() != null && e.getLabel() != null && e.getLabel().getLabel() >= e.getPrediction().getLaplace().size()) {
            reject(id, e.getLabel(), e.getLabelPartition(), e.getLabelOffset(), DeadLetterReason.LABEL_OUT_OF_RANGE, "label "
                    + e.getLabel().getLabel() + " but question " + id + " has " + e.getPrediction().getLaplace().size() + " choices", now);
            e.setLabel(null);   // a right one may still come
        }
        if (e.getPrediction() != null && e.getLabel() != null) {
            LabelledOutcome outcome = LabelledOutcome.newBuilder()
                    .setQuestion(e.getQuestion())
                    .setPrediction(e.getPrediction())
                    .setLabel(e.getLabel().getLabel())
                    .setSequence(-1)   // assigned in arrival order by the metrics task
                    .setJoinedAt(Instant.ofEpochMilli(context().currentSystemTimeMs()))
                    .build();
            forward(id, EventKind.OUTCOME, outcome, null, now);
            e = entry(e.getFirstSeen(), true, false);
        }
        store.put(id, e);
    }

    private static JoinEntry entry(long firstSeen, boolean joined, boolean expired) {
        return JoinEntry.newBuilder().setFirstSeen(firstSeen).setJoined(joined).setExpired(expired).build();
    }

    private void open(String id, long firstSeen) {
        deadlines.put(deadline(firstSeen, id), "");
        nextDue = Math.min(nextDue, firstSeen + horizon.toMillis());
    }

    private static String deadline(long firstSeen, String id) {
        return OrderedKeys.of(firstSeen) + "|" + id;
    }

    /** Every id whose horizon has passed in stream time: reported, kept one more horizon once expired, then dropped. */
    private void expire(long now) {
        long cutoff = now - horizon.toMillis();
        List<String> due = new ArrayList<>();
        // Keys are "time|id" with a 19-digit time: every key of a time up to the cutoff sorts below the bare next time.
        try (KeyValueIterator<String, String> it = deadlines.range(deadline(0, ""), OrderedKeys.of(cutoff + 1))) {
            it.forEachRemaining(kv -> due.add(kv.key));
        }
        for (String key : due) {
            deadlines.delete(key);
            String id = key.substring(20);
            JoinEntry e = store.get(id);
            if (e == null || e.getFirstSeen() != OrderedKeys.parse(key)) {
                continue;                      // already gone, or a newer entry under the same id with its own deadline
            }
            if (e.getPrediction() == null && e.getLabel() != null && !e.getExpired()) {
                reject(id, e.getLabel(), e.getLabelPartition(), e.getLabelOffset(), DeadLetterReason.NO_PREDICTION, "no prediction of "
                        + "question " + id + " within the label horizon (" + horizon.toSeconds() + " s)", now);
                store.delete(id);
            } else if (e.getJoined() || e.getExpired() || e.getPrediction() == null) {
                store.delete(id);          // done, or never predicted (dead-lettered, or scored elsewhere)
            } else {
                forward(id, EventKind.LABEL_MISSING, null, signal(e.getPrediction()), now);
                store.put(id, entry(now, e.getJoined(), true));
                open(id, now);
            }
        }
        nextDue = oldestDeadline();
    }

    /** What the metrics task reads of a prediction while its label is awaited, and when it is given up on. */
    private static PredictionSignal signal(Prediction p) {
        return PredictionSignal.newBuilder().setPosteriorVersion(p.getPosteriorVersion()).setEntropy(p.getEntropy())
                .setEpistemic(p.getEpistemic()).setConfidences(CalibratorTopology.confidences(p)).build();
    }

    /** A label the join cannot use, to labels-dlq (its bytes encoded again: the join keeps the decoded label). */
    private void reject(String id, Label label, Integer partition, Long offset, DeadLetterReason reason, String message, long now) {
        context().forward(new Record<>(id, DeadLetters.of(labels.name(), partition == null ? -1 : partition, offset == null ? -1 : offset,
                id.getBytes(StandardCharsets.UTF_8), labels.serialize(label), reason, message), now));
    }

    private void forward(String id, EventKind kind, LabelledOutcome outcome, PredictionSignal signal, long now) {
        CalibratorEvent ev = CalibratorEvent.newBuilder().setKind(kind.id()).setQuestionId(id).setOutcome(outcome).setSignal(signal)
                .setAt(Instant.ofEpochMilli(context().currentSystemTimeMs())).build();
        context().forward(new Record<>(ALL, ev, now));
    }
}
