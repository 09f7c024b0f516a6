package org.laplacelora.streams.refit;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.ContextualProcessor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.laplacelora.model.laplace.posterior.FitReport;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.refit.PosteriorRefit;
import org.laplacelora.schemas.avro.DriftEvent;
import org.laplacelora.schemas.avro.ForgettingCandidate;
import org.laplacelora.schemas.avro.HeldOutMetrics;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.schemas.avro.MethodMetrics;
import org.laplacelora.schemas.avro.PosteriorChunk;
import org.laplacelora.schemas.avro.PosteriorManifest;
import org.laplacelora.schemas.avro.RefitReport;
import org.laplacelora.streams.telemetry.Telemetry;
import io.micrometer.core.instrument.Counter;
import org.laplacelora.schemas.avro.RefitRequest;
import org.laplacelora.schemas.avro.VersionFile;
import org.laplacelora.schemas.avro.VersionPart;
import org.laplacelora.schemas.state.RefitterState;
import org.laplacelora.streams.calibrator.Detector;
import org.laplacelora.streams.posteriors.PosteriorVersions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Buffers labelled outcomes, turns drift events, label counts, the interval and requests into refits, and
 * publishes what comes of them. A refit runs on the {@link Refitter}'s worker, off the stream thread, so no
 * transaction stays open while it works; a later punctuation finds it done and forwards its result — a new
 * version (the chunks of its posterior and adapter files, then its manifest, then tombstones for versions
 * beyond the last K) and a report — so under exactly-once they commit in one short transaction with the
 * refitter's state. The next refit waits until the refitter serves that version, which its watcher swaps in
 * only once the transaction has committed. A rollback republishes an old version's files as a new version, so
 * "the newest version wins" stays the one rule every scorer follows.
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
    private Running running;

    /**
     * A refit on the worker: what triggered it, on how many outcomes (the last with sequence {@code lastSequence}; the
     * served version's hits on them), from when.
     */
    private record Running(Future<Refitter.Result> result, String trigger, boolean drift, int outcomes, long lastSequence, ServedHits hits,
                           long lastVersion, long startedAt) {}

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
        } else if (in instanceof DriftEvent d && Detector.LABEL_FREE.equals(d.getKind())) {
            LOG.info("label-free drift event from {} (version {}): shown, but a refit needs labels", d.getDetector(),
                    d.getPosteriorVersion());
        } else if (in instanceof DriftEvent d) {
            boolean changePoint = Detector.of(d.getDetector()).map(Detector::changePoint).orElse(false);
            String ignored = triggers.drift(d.getAtOutcome(), changePoint, d.getPosteriorVersion(), refitter.servingVersion(), now);
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
                if (running != null) {
                    LOG.info("manual refit requested by {} while a refit runs; refused", q.getRequestedBy());
                    report(refitter.servingVersion(), false, String.format("a refit (%s) has been running for %.0f s; ask again when "
                            + "its report is out", running.trigger(), (now - running.startedAt()) / 1e3), Trigger.MANUAL.id(),
                            buffer.size(), null, now);
                    return;
                }
                LOG.info("manual refit requested by {}", q.getRequestedBy());
                triggers.manual(now);
            }
            case ROLLBACK -> rollback(q.getRollbackTo() == null ? -1 : q.getRollbackTo(), q.getRequestedBy(), now);
        }
    }

    private void check(long now) {
        triggers.tick(now);
        buffer.evict(settings.bufferSize(), now - settings.bufferAge().toMillis());
        if (running != null) {
            if (running.result().isDone()) {
                finish(running, now);
                running = null;
            }
        } else {
            RefitTriggers.Due due = triggers.due(now);
            if (due != null && refitter.serves(lastVersion())) {
                long available = buffer.countFrom(due.fromSequence());
                int needed = settings.refit().minimumBuffer();
                if (available >= Math.max(needed, settings.minExamples()) || due.manual() && available >= needed) {
                    waitingFor = null;
                    start(due, now);
                } else if (due.manual()) {
                    report(refitter.servingVersion(), false, "the buffer holds " + available + " labelled questions; a refit needs at least "
                            + needed, Trigger.MANUAL.id(), available, null, now);
                    triggers.refitted(now);
                } else if (!due.trigger().equals(waitingFor)) {
                    waitingFor = due.trigger();
                    LOG.info("{} refit waits for labelled questions: {} of {} so far", due.trigger(), available,
                            Math.max(needed, settings.minExamples()));
                }
            }
        }
        save(lastVersion());
    }

    private void start(RefitTriggers.Due due, long now) {
        String trigger = due.trigger() + (due.events() > 1 ? " (" + due.events() + " events)" : "");
        if (due.trigger().contains(Trigger.DRIFT.id())) {
            int dropped = buffer.dropBefore(due.fromSequence());
            if (dropped > 0) {
                LOG.info("drift: dropped {} labelled question(s) from before outcome {}", dropped, due.fromSequence());
            }
        }
        List<LabelledOutcome> outcomes = buffer.from(0);
        LOG.info("refitting ({}, {}) on {} labelled question(s)", trigger, settings.refit().mode().id(), outcomes.size());
        long lastSequence = outcomes.stream().mapToLong(LabelledOutcome::getSequence).max().orElse(-1);
        running = new Running(refitter.submit(outcomes, settings.refit()), trigger, due.trigger().contains(Trigger.DRIFT.id()),
                outcomes.size(), lastSequence, ServedHits.of(outcomes, refitter.servingVersion()), lastVersion(), now);
    }

    /**
     * Publishes (or reports) what the worker made of a refit; the trigger is spent either way, except by a drift refit
     * overtaken by a change it never saw.
     */
    private void finish(Running r, long now) {
        Overtaken overtaken = r.drift() ? overtaken(r) : null;
        if (overtaken != null) {
            triggers.overtaken(overtaken.from(), now);
        } else {
            triggers.refitted(now);
        }
        Refitter.Result result;
        try {
            result = r.result().get();
        } catch (Exception e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            LOG.warn("refit failed: {}", cause.toString());
            report(refitter.servingVersion(), false, "refit failed: " + cause.getMessage(), r.trigger(), r.outcomes(), null, now);
            return;
        }
        if (result.unusable() > 0) {
            LOG.warn("{} buffered question(s) no longer encode for this model (too long, or another task); left out", result.unusable());
        }
        PosteriorRefit.Outcome o = result.outcome();
        if (lastVersion() != r.lastVersion()) {
            report(refitter.servingVersion(), false, "superseded: version " + lastVersion() + " was published while it ran ("
                    + o.reason() + ")", r.trigger(), r.outcomes(), o, now);
            return;
        }
        if (overtaken != null) {
            // What it learnt is what the stream was before the change: the refit from the change on replaces it.
            report(refitter.servingVersion(), Verdict.OVERTAKEN, String.format("overtaken: %s; version %d keeps serving and a refit on the outcomes "
                    + "from %d follows (%s)", overtaken.why(), refitter.servingVersion(), overtaken.from(), o.reason()), r.trigger(),
                    r.outcomes(), o, now);
            LOG.info("refit overtaken ({}): not published", overtaken.why());
            return;
        }
        if (!o.accepted()) {
            report(refitter.servingVersion(), false, o.reason(), r.trigger(), r.outcomes(), o, now);
            LOG.info("refit rejected by the gate: {}; version {} keeps serving", o.reason(), refitter.servingVersion());
            return;
        }
        try {
            long version = refitter.nextVersion(lastVersion());
            LaplacePosterior p = publish(version, result.files(), o.candidate(), r.trigger(), result.windowStart(), result.windowEnd(), o,
                    now);
            report(version, true, o.reason(), r.trigger(), r.outcomes(), o, now);
            LOG.info("published version {} ({} refit; {}; λ {}, {} s)", version, o.mode().id(), o.reason(), p.prior().lambda(),
                    String.format("%.1f", o.seconds()));
        } catch (Exception e) {
            LOG.warn("publishing the refit failed: {}", e.toString());
            report(refitter.servingVersion(), false, "publishing failed: " + e.getMessage(), r.trigger(), r.outcomes(), o, now);
        }
    }

    /** A change the refit never saw, and the first outcome of what came after it. */
    private record Overtaken(long from, String why) {}

    /**
     * Whether the stream changed while a drift refit ran, after its last row: a detector marked an onset there, or the
     * served version's accuracy on the latest outcomes labelled since differs from its accuracy on the refit's rows.
     */
    private Overtaken overtaken(Running r) {
        long onset = triggers.changeAfter(r.lastSequence());
        if (onset >= 0) {
            return new Overtaken(onset, String.format("a change was detected at outcome %d while it ran, after its last row (%d)", onset,
                    r.lastSequence()));
        }
        ServedHits.Change c = r.hits().changeIn(buffer.from(r.lastSequence() + 1));
        return c == null ? null : new Overtaken(c.fromSequence(), String.format("version %d was right on %.0f%% of the latest %d outcomes "
                + "labelled while it ran, against %.0f%% of the %d it learnt from (z %.1f)", r.hits().version(), 100 * c.hits().accuracy(),
                c.hits().n(), 100 * r.hits().accuracy(), r.hits().n(), c.z()));
    }

    private void rollback(long to, String by, long now) {
        String trigger = "rollback to version " + to + (by == null || by.isEmpty() ? "" : " by " + by);
        try {
            PosteriorVersions.Files files = refitter.files(to);
            long version = refitter.nextVersion(lastVersion());
            publish(version, files, refitter.verify(files), trigger, -1, -1, null, now);
            report(version, true, "version " + version + " serves version " + to + "'s posterior and adapter", trigger, buffer.size(),
                    null, now);
            LOG.info("rolled back: version {} is version {}'s posterior and adapter", version, to);
        } catch (Exception e) {
            LOG.warn("rollback to version {} refused: {}", to, e.getMessage());
            report(refitter.servingVersion(), false, "rollback refused: " + e.getMessage(), trigger, buffer.size(), null, now);
        }
    }

    /** The chunks of both files, then the manifest, then tombstones for the versions beyond the last K. */
    /** @param p the version's posterior: the refit's candidate, or a rolled-back file's, verified */
    private LaplacePosterior publish(long version, PosteriorVersions.Files files, LaplacePosterior p, String trigger, long windowStart,
                                     long windowEnd, PosteriorRefit.Outcome o, long now) throws Exception {
        List<PosteriorChunk> chunks = PosteriorVersions.split(version, VersionPart.POSTERIOR, files.posterior(), settings.chunkBytes());
        List<PosteriorChunk> adapterChunks = files.adapter() == null ? List.of()
                : PosteriorVersions.split(version, VersionPart.ADAPTER, files.adapter(), settings.chunkBytes());
        for (PosteriorChunk c : chunks) {
            forward(PosteriorVersions.chunkKey(version, VersionPart.POSTERIOR, c.getIndex()), c, now);
        }
        for (PosteriorChunk c : adapterChunks) {
            forward(PosteriorVersions.chunkKey(version, VersionPart.ADAPTER, c.getIndex()), c, now);
        }
        PosteriorManifest m = PosteriorManifest.newBuilder()
                .setVersion(version).setSha256(PosteriorVersions.sha256(files.posterior())).setChunks(chunks.size())
                .setBytes(files.posterior().length)
                .setModel(p.info().modelIdentity()).setAdapter(p.info().adapterIdentity())
                .setPriorPrecision(p.prior().lambda()).setCurvatureScale(p.prior().tau())
                .setExamples(p.info().examples()).setFactorRank(p.info().sketchRank()).setConvention(p.info().convention().id())
                .setTrigger(trigger)
                .setWindowStart(windowStart < 0 ? null : Instant.ofEpochMilli(windowStart))
                .setWindowEnd(windowEnd < 0 ? null : Instant.ofEpochMilli(windowEnd))
                .setHeldOutBefore(o == null ? null : metrics(o.before().laplace()))
                .setHeldOutAfter(o == null ? null : metrics(o.after().laplace()))
                .setAdapterFile(files.adapter() == null ? null : VersionFile.newBuilder().setSha256(PosteriorVersions.sha256(files.adapter()))
                        .setChunks(adapterChunks.size()).setBytes(files.adapter().length).build())
                .setTemperature(p.temperature())
                .setRefitMode(o == null ? null : o.mode().id())
                .setForgetting(o == null || Double.isNaN(forgetting(p)) ? null : forgetting(p))
                .setCreatedAt(Instant.ofEpochMilli(now)).build();
        forward(PosteriorVersions.manifestKey(version), m, now);
        save(version);
        refitter.published(version, files, new Refitter.Chunks(chunks.size(), adapterChunks.size()));
        List<Map.Entry<Long, Refitter.Chunks>> onTopic = List.copyOf(refitter.versionsOnTopic().entrySet());
        for (int i = 0; i < onTopic.size() - settings.keepVersions(); i++) {
            long old = onTopic.get(i).getKey();
            for (int c = 0; c < onTopic.get(i).getValue().posterior(); c++) {
                forward(PosteriorVersions.chunkKey(old, VersionPart.POSTERIOR, c), null, now);
            }
            for (int c = 0; c < onTopic.get(i).getValue().adapter(); c++) {
                forward(PosteriorVersions.chunkKey(old, VersionPart.ADAPTER, c), null, now);
            }
            forward(PosteriorVersions.manifestKey(old), null, now);
            refitter.retired(old);
            LOG.info("retired version {} (keeping the last {})", old, settings.keepVersions());
        }
        return p;
    }

    /** τ_f of an online refit's posterior (NaN for others). */
    private static double forgetting(LaplacePosterior p) {
        return p.report() instanceof FitReport.Refit r ? r.forgetting() : Double.NaN;
    }

    private void forward(String key, Object value, long now) {
        context().forward(new Record<>(key, value, now));
    }

    /** How a refit ended, as the refit counter's {@code outcome} tag names it. */
    private enum Verdict {
        ACCEPTED, REJECTED,
        /** Not published, as rejected, but a refit from the change follows: no cause for alarm. */
        OVERTAKEN;

        String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private void report(long version, boolean accepted, String reason, String trigger, long bufferSize, PosteriorRefit.Outcome o,
                        long now) {
        report(version, accepted ? Verdict.ACCEPTED : Verdict.REJECTED, reason, trigger, bufferSize, o, now);
    }

    private void report(long version, Verdict verdict, String reason, String trigger, long bufferSize, PosteriorRefit.Outcome o, long now) {
        RefitReport.Builder rep = RefitReport.newBuilder().setVersion(version).setAccepted(verdict == Verdict.ACCEPTED).setReason(reason).setTrigger(trigger)
                .setBufferSize(bufferSize).setFitExamples(0).setHeldOutExamples(0).setSeconds(0).setReportedAt(Instant.ofEpochMilli(now));
        if (o != null) {
            rep.setFitExamples(o.fitRows()).setHeldOutExamples(o.tuningRows() + o.gateRows()).setTuningExamples((long) o.tuningRows())
                    .setGateExamples((long) o.gateRows()).setHeldOutBefore(metrics(o.before().laplace()))
                    .setHeldOutAfter(metrics(o.after().laplace())).setGateBefore(metrics(o.before())).setGateAfter(metrics(o.after()))
                    .setRefitMode(o.mode().id()).setLambdaAtBoundary(o.lambdaAtBoundary()).setSeconds(o.seconds())
                    .setForgetting(Double.isNaN(forgetting(o.candidate())) ? null : forgetting(o.candidate()))
                    .setCandidates(o.candidates().stream().map(c -> ForgettingCandidate.newBuilder().setForgetting(c.forgetting())
                            .setPriorPrecision(c.lambda()).setLambdaAtBoundary(c.lambdaAtRangeBoundary()).setTemperature(c.temperature())
                            .setTuningNll(c.tuningNll()).build()).toList());
        }
        context().forward(new Record<>(Long.toString(version), (Object) rep.build(), now));
        Counter.builder(Telemetry.PREFIX + "refits").description("Refits by outcome and trigger").tag("outcome", verdict.id())
                .tag("trigger", trigger.split(" ", 2)[0]).register(Telemetry.registry()).increment();   // "drift (12 events)": drift
    }

    private long lastVersion() {
        RefitterState stored = state.get(KEY);
        return stored == null ? 0 : stored.getLastVersion();
    }

    private void save(long lastVersion) {
        state.put(KEY, RefitterState.newBuilder().setLastVersion(lastVersion).setTriggers(triggers.encode()).build());
    }

    private static HeldOutMetrics metrics(PosteriorRefit.Scores h) {
        return HeldOutMetrics.newBuilder().setN(h.n()).setAccuracy(h.accuracy()).setEce(h.ece()).setNll(h.nll()).build();
    }

    private static MethodMetrics metrics(PosteriorRefit.MethodScores m) {
        return MethodMetrics.newBuilder().setLaplace(metrics(m.laplace())).setTemperature(metrics(m.temperature())).setMap(metrics(m.map()))
                .build();
    }
}
