package org.laplacelora.streams.refit;

import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.streams.kafka.OrderedKeys;

/**
 * The recent labelled questions, oldest first, in a changelogged store (so a restarted refitter, even on
 * another machine, gets them back from Kafka). Keyed by the calibrator's outcome sequence, zero-padded so
 * that the store's byte order is arrival order; bounded by count and by age.
 */
public final class RefitBuffer {
    private final KeyValueStore<String, LabelledOutcome> store;
    private long size;

    public RefitBuffer(KeyValueStore<String, LabelledOutcome> store) {
        this.store = store;
        try (KeyValueIterator<String, LabelledOutcome> it = store.all()) {
            long n = 0;
            while (it.hasNext()) {
                it.next();
                n++;
            }
            size = n;
        }
    }

    static String key(long sequence) {
        return OrderedKeys.of(sequence);
    }

    public long size() {
        return size;
    }

    public void add(LabelledOutcome o) {
        String k = key(o.getSequence());
        if (store.get(k) == null) {
            size++;
        }
        store.put(k, o);
    }

    /** Drops the oldest beyond {@code maxSize} and those joined before {@code oldestJoinedAt}; returns how many. */
    public int evict(int maxSize, long oldestJoinedAt) {
        List<String> drop = new ArrayList<>();
        try (KeyValueIterator<String, LabelledOutcome> it = store.all()) {
            long left = size;
            while (it.hasNext()) {
                KeyValue<String, LabelledOutcome> kv = it.next();
                if (left > maxSize || kv.value.getJoinedAt().toEpochMilli() < oldestJoinedAt) {
                    drop.add(kv.key);
                    left--;
                } else {
                    break;
                }
            }
        }
        drop.forEach(store::delete);
        size -= drop.size();
        return drop.size();
    }

    /** Drops everything before {@code sequence} (what came before a drift); returns how many. */
    public int dropBefore(long sequence) {
        if (sequence <= 0) {
            return 0;
        }
        List<String> drop = new ArrayList<>();
        try (KeyValueIterator<String, LabelledOutcome> it = store.range(key(0), key(sequence - 1))) {
            it.forEachRemaining(kv -> drop.add(kv.key));
        }
        drop.forEach(store::delete);
        size -= drop.size();
        return drop.size();
    }

    /** How many outcomes have a sequence ≥ {@code sequence}. */
    public long countFrom(long sequence) {
        long n = 0;
        try (KeyValueIterator<String, LabelledOutcome> it = store.range(key(sequence), key(Long.MAX_VALUE))) {
            while (it.hasNext()) {
                it.next();
                n++;
            }
        }
        return n;
    }

    /** The outcomes with a sequence ≥ {@code sequence}, oldest first. */
    public List<LabelledOutcome> from(long sequence) {
        List<LabelledOutcome> out = new ArrayList<>();
        try (KeyValueIterator<String, LabelledOutcome> it = store.range(key(sequence), key(Long.MAX_VALUE))) {
            it.forEachRemaining(kv -> out.add(kv.value));
        }
        return out;
    }
}
