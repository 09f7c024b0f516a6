package org.laplacelora.streams.calibrator;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.laplacelora.schemas.avro.CalibratorEvent;
import org.laplacelora.schemas.avro.Label;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.avro.Question;
import org.laplacelora.streams.serde.AvroBinary;

/**
 * Joins questions, predictions and labels by question id in whatever order they arrive. A prediction that
 * meets its label becomes an outcome; one whose label has not come within the horizon is reported missing,
 * and a label that comes after that is reported late — counted downstream, never silently dropped.
 */
final class JoinProcessor implements Processor<String, JoinInput, String, CalibratorEvent> {
    /** Every event goes to the single metrics task under this key. */
    static final String ALL = "all";

    private final Duration horizon;
    private ProcessorContext<String, CalibratorEvent> context;
    private KeyValueStore<String, byte[]> store;

    JoinProcessor(Duration horizon) {
        this.horizon = horizon;
    }

    @Override
    public void init(ProcessorContext<String, CalibratorEvent> ctx) {
        this.context = ctx;
        this.store = ctx.getStateStore(CalibratorTopology.JOIN_STORE);
        long tick = Math.max(10, Math.min(1000, horizon.toMillis() / 10));
        ctx.schedule(Duration.ofMillis(tick), PunctuationType.WALL_CLOCK_TIME, this::expire);
    }

    @Override
    public void process(Record<String, JoinInput> r) {
        String id = r.key();
        if (id == null) {
            return;
        }
        long now = context.currentSystemTimeMs();
        byte[] stored = store.get(id);
        JoinEntry e = stored == null ? new JoinEntry(null, null, null, now, false, false) : JoinEntry.decode(stored);
        JoinInput in = r.value();
        if (e.expired()) {
            if (in.label() != null) {
                forward(id, "label_late", null, now);
            }
            return;
        }
        if (e.joined()) {
            return; // a duplicate, or a question after its outcome: nothing more to do
        }
        if (in.question() != null) {
            e = e.withQuestion(AvroBinary.encode(in.question()));
        } else if (in.prediction() != null) {
            e = e.withPrediction(AvroBinary.encode(in.prediction()));
        } else {
            e = e.withLabel(AvroBinary.encode(in.label()));
        }
        if (e.prediction() != null && e.label() != null) {
            LabelledOutcome outcome = LabelledOutcome.newBuilder()
                    .setQuestion(e.question() == null ? null : AvroBinary.decode(e.question(), Question.class))
                    .setPrediction(AvroBinary.decode(e.prediction(), Prediction.class))
                    .setLabel(AvroBinary.decode(e.label(), Label.class).getLabel())
                    .setSequence(-1)   // assigned in arrival order by the metrics task
                    .setJoinedAt(Instant.ofEpochMilli(now))
                    .build();
            forward(id, "outcome", outcome, now);
            e = new JoinEntry(null, null, null, e.firstSeen(), true, false);
        }
        store.put(id, e.encode());
    }

    private void expire(long now) {
        List<KeyValue<String, byte[]>> all = new ArrayList<>();
        try (KeyValueIterator<String, byte[]> it = store.all()) {
            it.forEachRemaining(all::add);
        }
        for (KeyValue<String, byte[]> kv : all) {
            JoinEntry e = JoinEntry.decode(kv.value);
            if (now - e.firstSeen() < horizon.toMillis()) {
                continue;
            }
            if (e.joined() || e.expired() || e.prediction() == null) {
                store.delete(kv.key);          // done, or never predicted (dead-lettered, or scored elsewhere)
            } else {
                forward(kv.key, "label_missing", null, now);
                store.put(kv.key, e.asExpired(now).encode());
            }
        }
    }

    private void forward(String id, String kind, LabelledOutcome outcome, long now) {
        CalibratorEvent ev = CalibratorEvent.newBuilder().setKind(kind).setQuestionId(id).setOutcome(outcome)
                .setAt(Instant.ofEpochMilli(now)).build();
        context.forward(new Record<>(ALL, ev, now));
    }
}
