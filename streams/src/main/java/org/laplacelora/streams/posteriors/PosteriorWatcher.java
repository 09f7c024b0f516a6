package org.laplacelora.streams.posteriors;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.laplacelora.schemas.avro.PosteriorChunk;
import org.laplacelora.schemas.avro.PosteriorManifest;
import org.laplacelora.schemas.avro.VersionPart;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.kafka.Topic;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a served model on the newest posterior version: reads the whole posteriors topic (read_committed, every
 * partition, from the start), assembles each version whose manifest and chunks are all there, verifies it
 * (sha256 and sizes of its posterior and adapter files, the posterior's own digest, the base model's identity and
 * the adapter's) and swaps both in;
 * the scorer takes a version per micro-batch, so a swap happens between batches. A corrupt or incomplete
 * version is ignored with a log line and counted, and the version in use keeps serving. Without a model
 * it only catalogues the versions (for the refitter's rollbacks and {@code posterior list}).
 */
public final class PosteriorWatcher implements Runnable, AutoCloseable, PosteriorWatcherMBean {
    private static final Logger LOG = LoggerFactory.getLogger(PosteriorWatcher.class);

    private final KafkaSettings kafka;
    private final Topic<String, SpecificRecord> posteriors;
    private final ServedModel served;
    private final Map<Long, Map<VersionPart, Map<Integer, PosteriorChunk>>> chunks = new HashMap<>();
    private final TreeMap<Long, PosteriorManifest> manifests = new TreeMap<>();
    private final Set<Long> rejected = new HashSet<>();
    private final AtomicLong swaps = new AtomicLong();
    private final AtomicLong rejections = new AtomicLong();
    private final AtomicLong newestSeen = new AtomicLong(-1);
    private final CountDownLatch caughtUp = new CountDownLatch(1);
    private final Thread thread;
    private final String name;
    private ObjectName mbean;
    private volatile boolean stop;

    /**
     * @param served the model to keep on the newest version, or null to only catalogue the versions
     * @param name names its thread and its JMX bean (e.g. "scorer", "refitter")
     */
    public PosteriorWatcher(KafkaSettings kafka, ServedModel served, String name) {
        this.kafka = kafka;
        this.posteriors = kafka.topics().posteriors();
        this.served = served;
        this.name = name;
        this.thread = new Thread(this, "posterior-watcher-" + name);
        this.thread.setDaemon(true);
    }

    /** Starts reading, and shows the counts over JMX as {@code org.laplacelora:type=PosteriorWatcher,name=<name>}. */
    public PosteriorWatcher start() {
        try {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            ObjectName name = new ObjectName("org.laplacelora:type=PosteriorWatcher,name=" + ObjectName.quote(this.name));
            if (!server.isRegistered(name)) {
                server.registerMBean(this, name);
                this.mbean = name;
            }
        } catch (JMException e) {
            LOG.warn("posterior watcher metrics not registered over JMX: {}", e.toString());
        }
        thread.start();
        return this;
    }

    @Override
    public long getServingVersion() {
        return served == null ? -1 : served.posteriorVersion();
    }

    @Override
    public long getNewestVersionSeen() {
        return newestVersionSeen();
    }

    @Override
    public long getSwaps() {
        return swaps();
    }

    @Override
    public long getRejections() {
        return rejections();
    }

    /** Versions swapped in so far. */
    public long swaps() {
        return swaps.get();
    }

    /** Versions refused (corrupt, incomplete at manifest time, or of another model or adapter). */
    public long rejections() {
        return rejections.get();
    }

    /** The highest version number any manifest on the topic has had (-1: none), retired or not. */
    public long newestVersionSeen() {
        return newestSeen.get();
    }

    /** Waits until everything on the topic when the watcher started has been read (and served). */
    public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
        return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The manifests of the versions on the topic now (not retired), oldest first. */
    public synchronized List<PosteriorManifest> manifests() {
        return List.copyOf(manifests.values());
    }

    /** A version's files, assembled and verified. */
    public synchronized PosteriorVersions.Files files(long version) throws PosteriorVersions.InvalidVersionException {
        PosteriorManifest m = manifests.get(version);
        if (m == null) {
            throw new PosteriorVersions.InvalidVersionException("version " + version + " is not on the topic (never published, or retired)");
        }
        return PosteriorVersions.files(m, chunks.getOrDefault(version, Map.of()));
    }

    @Override
    public void run() {
        try (KafkaConsumer<String, byte[]> c = kafka.readCommittedConsumer(null)) {
            List<TopicPartition> partitions = c.partitionsFor(posteriors.name()).stream()
                    .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            c.assign(partitions);
            c.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = c.endOffsets(partitions);
            while (!stop) {
                boolean any = false;
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    take(r);
                    any = true;
                }
                if (any) {
                    serveNewest();
                }
                if (caughtUp.getCount() > 0 && partitions.stream().allMatch(tp -> c.position(tp) >= end.get(tp))) {
                    caughtUp.countDown();
                }
            }
        } catch (RuntimeException e) {
            if (!stop) {
                LOG.error("posterior watcher stopped", e);
            }
        }
    }

    synchronized void take(ConsumerRecord<String, byte[]> r) {
        long v = PosteriorVersions.versionOf(r.key());
        if (v < 0) {
            return;
        }
        if (r.value() == null) {            // a tombstone: the version was retired
            chunks.remove(v);
            manifests.remove(v);
            return;
        }
        try {
            SpecificRecord rec = posteriors.deserialize(r.value());
            if (rec instanceof PosteriorManifest m) {
                manifests.put(v, m);
                newestSeen.accumulateAndGet(v, Math::max);
            } else {
                PosteriorChunk ch = (PosteriorChunk) rec;
                chunks.computeIfAbsent(v, k -> new EnumMap<>(VersionPart.class)).computeIfAbsent(ch.getPart(), k -> new HashMap<>())
                        .put(ch.getIndex(), ch);
            }
        } catch (Exception e) {
            reject(v, "undecodable record " + r.key() + ": " + e.getMessage());
        }
    }

    /** Swaps in the newest version that assembles and verifies, if it is newer than the one in use. */
    synchronized void serveNewest() {
        if (served == null) {
            return;
        }
        for (Long v : manifests.descendingKeySet()) {
            if (v <= served.posteriorVersion()) {
                return;
            }
            if (rejected.contains(v)) {
                continue;
            }
            try {
                PosteriorVersions.Files files = PosteriorVersions.files(manifests.get(v), chunks.getOrDefault(v, Map.of()));
                served.swap(files, v);
                swaps.incrementAndGet();
                LOG.info("serving version {} ({} posterior bytes{}, trigger {})", v, files.posterior().length,
                        files.adapter() == null ? "" : ", " + files.adapter().length + " adapter bytes", manifests.get(v).getTrigger());
                return;
            } catch (Exception e) {
                reject(v, e.getMessage());
            }
        }
    }

    private void reject(long v, String why) {
        if (rejected.add(v)) {
            rejections.incrementAndGet();
            LOG.warn("ignoring posterior version {}: {}{}", v, why,
                    served == null ? "" : "; still serving version " + served.posteriorVersion());
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop = true;
        thread.join(5000);
        if (mbean != null) {
            try {
                ManagementFactory.getPlatformMBeanServer().unregisterMBean(mbean);
            } catch (JMException e) {
                LOG.debug("unregistering {}: {}", mbean, e.toString());
            }
        }
    }
}
