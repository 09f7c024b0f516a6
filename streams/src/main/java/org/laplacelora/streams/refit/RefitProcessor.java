package org.laplacelora.streams.refit;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.ContextualProcessor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.refit.PosteriorRefit;
import org.laplacelora.schemas.avro.DriftEvent;
import org.laplacelora.schemas.avro.HeldOutMetrics;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.schemas.avro.PosteriorChunk;
import org.laplacelora.schemas.avro.PosteriorManifest;
import org.laplacelora.schemas.avro.RefitReport;
import org.laplacelora.schemas.avro.RefitRequest;
import org.laplacelora.schemas.state.RefitterState;
import org.laplacelora.streams.posteriors.PosteriorVersions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Buffers labelled outcomes, turns drift events, label counts, the interval and requests into refits, and
 * publishes what comes of them: a new version (its chunks, then its manifest, then tombstones for versions
 * beyond the last K) and a report, all forwarded in one punctuation, so under exactly-once they commit in one
 * transaction with the buffer's and the triggers' state. A rollback republishes an old version's file as a
 * new version, so "the newest version wins" stays the one rule every scorer follows.
 */
final class RefitProcessor extends ContextualProcessor<String, SpecificRecord, String, Object> {
    private static final Logger LOG = LoggerFactory.getLogger(RefitProcessor.class);
    private static final String KEY = "state";

    private final Refitter refitter;
    private final RefitterSettings settings;
    private KeyValueStore<String, RefitterState> state;
    private RefitBuffer buffer;
    private RefitTriggers triggers;
    private long unusable;
    private String waitingFor;

    RefitProcessor(Refitter refitter, RefitterSettings settings) {
        this.refitter = refitter;
        this.settings = settings;
    }

    @Override
    public void init(ProcessorContext<String, Object> ctx) {
        super.init(ctx);
        this.state = ctx.getStateStore(RefitterTopology.STATE_STORE);
        this.buffer = new RefitBuffer(ctx.getStateStore(RefitterTopology.BUFFER_STORE));
        RefitterState stored = state.get(KEY);
        this.triggers = new RefitTriggers(settings, stored == null ? null : stored.getTriggers());
        if (buffer.size() > 0) {
            LOG.info("refit buffer restored: {} labelled question(s)", buffer.size());
        }
        long tick = Math.max(20, Math.min(1000, settings.debounce().toMillis() / 4));
        ctx.schedule(Duration.ofMillis(tick), PunctuationType.WALL_CLOCK_TIME, this::check);
    }

    @Override
    public void process(Record<String, SpecificRecord> r) {
        long now = context().currentSystemTimeMs();
        SpecificRecord in = r.value();
        if (in instanceof LabelledOutcome o) {
            add(o, now);
        } else if (in instanceof DriftEvent d) {
            String ignored = triggers.drift(d.getAtOutcome(), d.getPosteriorVersion(), refitter.servingVersion(), now);
            if (ignored == null) {
                LOG.info("drift event from {} at outcome {} (version {}): a refit is pending", d.getDetector(), d.getAtOutcome(),
                        d.getPosteriorVersion());
            } else {
                LOG.info("drift event from {} at outcome {} ignored: {}", d.getDetector(), d.getAtOutcome(), ignored);
            }
        } else {
            request((RefitRequest) in, now);
        }
        save(lastVersion());
    }

    private void add(LabelledOutcome o, long now) {
        if (o.getQuestion() == null) {
            if (unusable++ % 100 == 0) {
                LOG.warn("labelled outcome {} carries no question (the calibrator never saw it); not buffered ({} so far)",
                        o.getPrediction().getQuestionId(), unusable);
            }
            return;
        }
        buffer.add(o);
        triggers.label(now);
        buffer.evict(settings.bufferSize(), now - settings.bufferAge().toMillis());
    }

    private void request(RefitRequest q, long now) {
        RefitRequests.Action action = RefitRequests.Action.parse(q.getAction());
        if (action == null) {
            LOG.warn("ignoring refit request with unknown action '{}' (known: refit, rollback)", q.getAction());
            return;
        }
        switch (action) {
            case REFIT -> {
                LOG.info("manual refit requested by {}", q.getRequestedBy());
                triggers.manual(now);
            }
            case ROLLBACK -> rollback(q.getRollbackTo() == null ? -1 : q.getRollbackTo(), q.getRequestedBy(), now);
        }
    }

    private void check(long now) {
        triggers.tick(now);
        buffer.evict(settings.bufferSize(), now - settings.bufferAge().toMillis());
        RefitTriggers.Due due = triggers.due(now);
        if (due != null) {
            long available = buffer.countFrom(due.fromSequence());
            if (available >= settings.minExamples() || due.manual() && available >= 4) {
                waitingFor = null;
                refit(due, now);
            } else if (due.manual()) {
                report(refitter.servingVersion(), false, "the buffer holds " + available + " labelled questions; a refit needs at least 4",
                        Trigger.MANUAL.id(), available, 0, 0, null, null, 0, now);
                triggers.refitted(now);
            } else if (!due.trigger().equals(waitingFor)) {
                waitingFor = due.trigger();
                LOG.info("{} refit waits for labelled questions: {} of {} so far", due.trigger(), available, settings.minExamples());
            }
        }
        save(lastVersion());
    }

    private void refit(RefitTriggers.Due due, long now) {
        String trigger = due.trigger() + (due.events() > 1 ? " (" + due.events() + " events)" : "");
        if (due.trigger().contains(Trigger.DRIFT.id())) {
            int dropped = buffer.dropBefore(due.fromSequence());
            if (dropped > 0) {
                LOG.info("drift: dropped {} labelled question(s) from before outcome {}", dropped, due.fromSequence());
            }
        }
        List<LabelledOutcome> outcomes = buffer.from(0);
        LOG.info("refitting ({}) on {} labelled question(s)", trigger, outcomes.size());
        try {
            Refitter.Result r = refitter.refit(outcomes, settings.refit());
            if (r.unusable() > 0) {
                LOG.warn("{} buffered question(s) no longer encode for this model (too long, or another task); left out", r.unusable());
            }
            PosteriorRefit.Outcome o = r.outcome();
            HeldOutMetrics before = metrics(o.before());
            HeldOutMetrics after = metrics(o.after());
            if (o.accepted()) {
                long version = refitter.nextVersion(lastVersion());
                LaplacePosterior p = publish(version, r.file(), trigger, r.windowStart(), r.windowEnd(), before, after, now);
                report(version, true, o.reason(), trigger, outcomes.size(), o.fitExamples(), o.heldOutExamples(), before, after,
                        o.seconds(), now);
                LOG.info("published posterior version {} ({}; λ {}, {} s)", version, o.reason(), p.prior().lambda(),
                        String.format("%.1f", o.seconds()));
            } else {
                report(refitter.servingVersion(), false, o.reason(), trigger, outcomes.size(), o.fitExamples(), o.heldOutExamples(),
                        before, after, o.seconds(), now);
                LOG.info("refit rejected by the gate: {}; version {} keeps serving", o.reason(), refitter.servingVersion());
            }
        } catch (Exception e) {
            LOG.warn("refit failed: {}", e.toString());
            report(refitter.servingVersion(), false, "refit failed: " + e.getMessage(), trigger, outcomes.size(), 0, 0, null, null, 0, now);
        }
        triggers.refitted(now);
    }

    private void rollback(long to, String by, long now) {
        String trigger = "rollback to version " + to + (by == null || by.isEmpty() ? "" : " by " + by);
        try {
            byte[] file = refitter.file(to);
            long version = refitter.nextVersion(lastVersion());
            publish(version, file, trigger, -1, -1, null, null, now);
            report(version, true, "version " + version + " serves version " + to + "'s posterior", trigger, buffer.size(), 0, 0,
                    null, null, 0, now);
            LOG.info("rolled back: version {} is version {}'s posterior", version, to);
        } catch (Exception e) {
            LOG.warn("rollback to version {} refused: {}", to, e.getMessage());
            report(refitter.servingVersion(), false, "rollback refused: " + e.getMessage(), trigger, buffer.size(), 0, 0, null, null, 0, now);
        }
    }

    /** Chunks, then the manifest, then tombstones for the versions beyond the last K. */
    private LaplacePosterior publish(long version, byte[] file, String trigger, long windowStart, long windowEnd,
                                     HeldOutMetrics before, HeldOutMetrics after, long now) throws Exception {
        List<PosteriorChunk> chunks = PosteriorVersions.split(version, file, settings.chunkBytes());
        LaplacePosterior p = refitter.adopt(version, file, chunks.size());   // verifies it before anyone else sees it
        for (PosteriorChunk c : chunks) {
            forward(PosteriorVersions.chunkKey(version, c.getIndex()), c, now);
        }
        PosteriorManifest m = PosteriorManifest.newBuilder()
                .setVersion(version).setSha256(PosteriorVersions.sha256(file)).setChunks(chunks.size()).setBytes(file.length)
                .setModel(p.info().modelIdentity()).setAdapter(p.info().adapterIdentity())
                .setPriorPrecision(p.prior().lambda()).setCurvatureScale(p.prior().tau())
                .setExamples(p.info().examples()).setFactorRank(p.info().sketchRank()).setConvention(p.info().convention().id())
                .setTrigger(trigger)
                .setWindowStart(windowStart < 0 ? null : Instant.ofEpochMilli(windowStart))
                .setWindowEnd(windowEnd < 0 ? null : Instant.ofEpochMilli(windowEnd))
                .setHeldOutBefore(before).setHeldOutAfter(after)
                .setCreatedAt(Instant.ofEpochMilli(now)).build();
        forward(PosteriorVersions.manifestKey(version), m, now);
        save(version);
        List<Map.Entry<Long, Integer>> onTopic = List.copyOf(refitter.versionsOnTopic().entrySet());
        for (int i = 0; i < onTopic.size() - settings.keepVersions(); i++) {
            long old = onTopic.get(i).getKey();
            for (int c = 0; c < onTopic.get(i).getValue(); c++) {
                forward(PosteriorVersions.chunkKey(old, c), null, now);
            }
            forward(PosteriorVersions.manifestKey(old), null, now);
            refitter.retired(old);
            LOG.info("retired posterior version {} (keeping the last {})", old, settings.keepVersions());
        }
        return p;
    }

    private void forward(String key, Object value, long now) {
        context().forward(new Record<>(key, value, now));
    }

    private void report(long version, boolean accepted, String reason, String trigger, long bufferSize, long fit, long heldOut,
                        HeldOutMetrics before, HeldOutMetrics after, double seconds, long now) {
        RefitReport rep = RefitReport.newBuilder().setVersion(version).setAccepted(accepted).setReason(reason).setTrigger(trigger)
                .setBufferSize(bufferSize).setFitExamples(fit).setHeldOutExamples(heldOut)
                .setHeldOutBefore(before).setHeldOutAfter(after).setSeconds(seconds)
                .setReportedAt(Instant.ofEpochMilli(now)).build();
        context().forward(new Record<>(Long.toString(version), (Object) rep, now));
    }

    private long lastVersion() {
        RefitterState stored = state.get(KEY);
        return stored == null ? 0 : stored.getLastVersion();
    }

    private void save(long lastVersion) {
        state.put(KEY, RefitterState.newBuilder().setLastVersion(lastVersion).setTriggers(triggers.encode()).build());
    }

    private static HeldOutMetrics metrics(PosteriorRefit.HeldOut h) {
        return h == null ? null : HeldOutMetrics.newBuilder().setN(h.n()).setAccuracy(h.accuracy()).setEce(h.ece()).setNll(h.nll()).build();
    }
}
