package org.laplacelora.streams.refit;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.laplacelora.model.core.Autograd;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.refit.PosteriorRefit;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.model.tasks.InvalidQuestionException;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.schemas.avro.PosteriorManifest;
import org.laplacelora.streams.posteriors.PosteriorVersions;
import org.laplacelora.streams.posteriors.PosteriorWatcher;
import org.laplacelora.streams.posteriors.ServedModel;

/**
 * The model side of the refitter: the version in use (a {@link ServedModel} that a {@link PosteriorWatcher}
 * keeps on the newest committed version), the refit itself on a worker thread of its own — outside any Kafka
 * transaction, so the stream thread keeps polling and committing while it runs — and the files of the versions
 * on the posteriors topic (for rollbacks). Version 0 is the posterior and adapter the refitter (and every scorer)
 * started with.
 */
public final class Refitter implements AutoCloseable {
    /**
     * A refit's outcome, the files of the candidate when it was accepted, and how many buffered outcomes could
     * not be used.
     *
     * @param basedOn the version the candidate was compared with (and updated from)
     */
    public record Result(PosteriorRefit.Outcome outcome, PosteriorVersions.Files files, int unusable, long windowStart, long windowEnd,
                         long basedOn) {}

    /** How many chunks each file of a version has on the topic (0 adapter chunks: it carries none). */
    public record Chunks(int posterior, int adapter) {}

    private final ServedModel served;
    private final PosteriorWatcher watcher;
    private final PosteriorVersions.Files initialFiles;
    private final TreeMap<Long, Published> published = new TreeMap<>();
    private final Set<Long> retired = new HashSet<>();
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(() -> {
            Autograd.noGraphOnThisThread();
            r.run();
        }, "refit-worker");
        t.setDaemon(true);
        return t;
    });

    private record Published(PosteriorVersions.Files files, Chunks chunks) {}

    /**
     * @param watcher the posteriors topic's versions, which the served model follows; or null, with no topic to
     *     follow (a TopologyTestDriver): then the refitter serves what it publishes at once
     */
    public Refitter(ServedModel served, PosteriorWatcher watcher) throws IOException {
        this.served = served;
        this.watcher = watcher;
        this.initialFiles = new PosteriorVersions.Files(served.posterior().toBytes(), null);
    }

    public long servingVersion() {
        return served.posteriorVersion();
    }

    /** The number for the next version: above every version seen on the topic, published here or served. */
    public synchronized long nextVersion(long lastPublished) {
        long newest = Math.max(lastPublished, served.posteriorVersion());
        if (watcher != null) {
            newest = Math.max(newest, watcher.newestVersionSeen());
        }
        if (!published.isEmpty()) {
            newest = Math.max(newest, published.lastKey());
        }
        return newest + 1;
    }

    /** Refits on the worker thread; see {@link #refit}. */
    public Future<Result> submit(List<LabelledOutcome> outcomes, PosteriorRefit.Settings settings) {
        return worker.submit(() -> refit(outcomes, settings));
    }

    /**
     * Refits the version in use on labelled outcomes (those without their question, or whose question no longer
     * encodes, are skipped). An accepted candidate's files carry its adapter whenever it is not the starting one.
     */
    public Result refit(List<LabelledOutcome> outcomes, PosteriorRefit.Settings settings) throws IOException {
        List<EncodedExample> examples = new ArrayList<>();
        int unusable = 0;
        long start = Long.MAX_VALUE;
        long end = Long.MIN_VALUE;
        for (LabelledOutcome o : outcomes) {
            if (o.getQuestion() == null) {
                unusable++;
                continue;
            }
            try {
                examples.add(served.encode(o.getQuestion(), o.getLabel()));
                start = Math.min(start, o.getJoinedAt().toEpochMilli());
                end = Math.max(end, o.getJoinedAt().toEpochMilli());
            } catch (InvalidQuestionException e) {
                unusable++;
            }
        }
        try (ServedModel.Lease current = served.lease()) {
            PosteriorRefit.Outcome outcome = PosteriorRefit.refit(served.model().llama(), current.adapter(), served.task(),
                    current.posterior(), examples, settings, served.padId());
            PosteriorVersions.Files files = null;
            if (outcome.accepted()) {
                byte[] adapter = outcome.adapterFile();
                if (adapter == null && current.number() > 0) {
                    adapter = files(current.number()).adapter();     // a curvature refit keeps the mean it was given
                }
                files = new PosteriorVersions.Files(outcome.candidate().toBytes(), adapter);
            }
            return new Result(outcome, files, unusable, start, end, current.number());
        } catch (PosteriorVersions.InvalidVersionException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** A version's files: 0 is the starting posterior; others from what was published here or read from the topic. */
    public synchronized PosteriorVersions.Files files(long version) throws PosteriorVersions.InvalidVersionException {
        if (version == 0) {
            return initialFiles;
        }
        Published p = published.get(version);
        if (p != null) {
            return p.files();
        }
        if (watcher == null) {
            throw new PosteriorVersions.InvalidVersionException("version " + version + " is not known to this refitter");
        }
        return watcher.files(version);
    }

    /** Checks that a version's files parse and belong to the served model; returns its posterior. */
    public LaplacePosterior verify(PosteriorVersions.Files files) throws IOException {
        LaplacePosterior p = LaplacePosterior.fromBytes(files.posterior());
        if (!p.info().modelIdentity().equals(served.model().llama().identity())) {
            throw new IOException("the posterior belongs to model " + p.info().modelIdentity() + ", not the served one");
        }
        return p;
    }

    /**
     * Remembers a version this refitter has just published (its transaction not yet committed): kept for
     * rollbacks. With a watcher the served model adopts it once the watcher reads it, i.e. after the commit;
     * without one it is adopted now.
     */
    public synchronized void published(long version, PosteriorVersions.Files files, Chunks chunks) throws IOException {
        published.put(version, new Published(files, chunks));
        if (watcher == null) {
            served.swap(files, version);
        }
    }

    /** Whether the version in use is the newest this refitter published (so a refit compares with it). */
    public synchronized boolean serves(long lastPublished) {
        return served.posteriorVersion() >= lastPublished || !published.containsKey(lastPublished);
    }

    /** The versions on the topic (as far as known here) with their chunk counts, oldest first. */
    public synchronized NavigableMap<Long, Chunks> versionsOnTopic() {
        TreeMap<Long, Chunks> out = new TreeMap<>();
        if (watcher != null) {
            for (PosteriorManifest m : watcher.manifests()) {
                out.put(m.getVersion(), new Chunks(m.getChunks(), m.getAdapterFile() == null ? 0 : m.getAdapterFile().getChunks()));
            }
        }
        published.forEach((v, p) -> out.put(v, p.chunks()));
        out.keySet().removeAll(retired);
        return out;
    }

    /** Forgets a retired version. */
    public synchronized void retired(long version) {
        published.remove(version);
        retired.add(version);
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
