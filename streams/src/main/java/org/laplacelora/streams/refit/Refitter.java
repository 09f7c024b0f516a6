package org.laplacelora.streams.refit;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.laplacelora.model.core.CheckpointException;
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
 * The model side of the refitter: the model, adapter and posterior in use (a {@link ServedModel} that a
 * {@link PosteriorWatcher} keeps on the newest version), the refit itself, and the files of the versions on
 * the posteriors topic (for rollbacks). Version 0 is the posterior file the refitter (and every scorer)
 * started with.
 */
public final class Refitter {
    /** A refit's outcome with the candidate's file, and how many buffered outcomes could not be used. */
    public record Result(PosteriorRefit.Outcome outcome, byte[] file, int unusable, long windowStart, long windowEnd) {}

    private final ServedModel served;
    private final PosteriorWatcher watcher;
    private final byte[] initialFile;
    private final TreeMap<Long, Published> published = new TreeMap<>();
    private final java.util.Set<Long> retired = new java.util.HashSet<>();

    private record Published(byte[] file, int chunks) {}

    /** @param watcher the posteriors topic's versions, or null (then only the versions this refitter published) */
    public Refitter(ServedModel served, PosteriorWatcher watcher) throws IOException {
        this.served = served;
        this.watcher = watcher;
        this.initialFile = served.posterior().toBytes();
    }

    public long servingVersion() {
        return served.posteriorVersion();
    }

    /** The number for the next version: above every version seen on the topic, published here or served. */
    public long nextVersion(long lastPublished) {
        long newest = Math.max(lastPublished, served.posteriorVersion());
        if (watcher != null) {
            newest = Math.max(newest, watcher.newestVersionSeen());
        }
        if (!published.isEmpty()) {
            newest = Math.max(newest, published.lastKey());
        }
        return newest + 1;
    }

    /** Refits on labelled outcomes (those without their question, or whose question no longer encodes, are skipped). */
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
        PosteriorRefit.Outcome outcome = PosteriorRefit.refit(served.model().llama(), served.adapter(), served.task(), served.posterior(),
                examples, settings, served.padId());
        return new Result(outcome, outcome.accepted() ? outcome.candidate().toBytes() : null, unusable, start, end);
    }

    /** A version's file: 0 is the starting posterior; others from what was published here or read from the topic. */
    public byte[] file(long version) throws PosteriorVersions.InvalidVersionException {
        if (version == 0) {
            return initialFile;
        }
        Published p = published.get(version);
        if (p != null) {
            return p.file();
        }
        if (watcher == null) {
            throw new PosteriorVersions.InvalidVersionException("version " + version + " is not known to this refitter");
        }
        return watcher.file(version);
    }

    /** Serves a version here (so the next gate compares against it) and remembers its file for rollbacks. */
    public LaplacePosterior adopt(long version, byte[] file, int chunks) throws IOException, CheckpointException {
        LaplacePosterior p = LaplacePosterior.fromBytes(file);
        served.swap(p, version);
        published.put(version, new Published(file, chunks));
        return p;
    }

    /** The versions on the topic (as far as known here) with their chunk counts, oldest first. */
    public NavigableMap<Long, Integer> versionsOnTopic() {
        TreeMap<Long, Integer> out = new TreeMap<>();
        if (watcher != null) {
            for (PosteriorManifest m : watcher.manifests()) {
                out.put(m.getVersion(), m.getChunks());
            }
        }
        published.forEach((v, p) -> out.put(v, p.chunks()));
        out.keySet().removeAll(retired);
        return out;
    }

    /** Forgets a retired version. */
    public void retired(long version) {
        published.remove(version);
        retired.add(version);
    }
}
