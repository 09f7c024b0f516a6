package org.laplacelora.streams.kafka;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.ThreadMetadata;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.laplacelora.streams.telemetry.Telemetry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one topology as a Kafka Streams application with exactly-once processing (v2). A stream thread that
 * fails is replaced (its task restarts from the last commit, which gets past a failure of the moment), unless the
 * failure is deterministic: state this version cannot read ({@link StaleStateException}), or the same failure at
 * the same record {@link #REPEATS} times in a row, which a new thread would only meet again. Then the app stops
 * with that one error, which names the record (Kafka Streams puts its topic, partition and offset in the
 * message), and {@link #awaitStop} reports it.
 */
public final class StreamsRunner implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StreamsRunner.class);
    private final KafkaStreams streams;
    private final String name;
    private final CountDownLatch stopped = new CountDownLatch(1);
    /** Failures at one record that make it deterministic. */
    static final int REPEATS = 3;
    /** Kafka's rule for the name of a group's static member. */
    private static final Pattern INSTANCE_ID = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

    private volatile Throwable failure;
    /** Passing failures in a row (registry or broker out of reach): each waits longer before the next thread, up to {@link Backoff#MAX}. */
    private final AtomicInteger transientFailures = new AtomicInteger();
    /** Passing failures in a row after which it is not passing: about half an hour of waiting at the longest backoff. */
    static final int MAX_PASSING = 60;
    /** A passing failure this long after the previous one starts a new count. */
    static final Duration QUIET = Duration.ofMinutes(5);
    private volatile long lastTransientAt = System.nanoTime() - Duration.ofDays(1).toNanos();
    private AutoCloseable meters = () -> {};
    private String lastFailure;
    private int sameFailures;

    /** Static members of replaced threads to take out of the group, when the instance has a name; else null. */
    private final ReplacedMembers replaced;

    private StreamsRunner(KafkaStreams streams, String name, String instanceId, Map<String, Object> adminSettings) {
        this.streams = streams;
        this.name = name;
        this.replaced = instanceId == null ? null : new ReplacedMembers(name, instanceId, adminSettings,
                () -> streams.metadataForLocalThreads().stream().map(ThreadMetadata::threadName).collect(Collectors.toSet()));
    }

    /**
     * @param stateDir local state (restored from changelogs when missing or stale)
     * @param commitInterval how often transactions commit (outputs become visible to read_committed readers)
     * @param overrides Streams and client settings of this application (they win over the defaults here)
     */
    public static StreamsRunner start(Topology topology, KafkaSettings kafka, String applicationId, Path stateDir,
                                      Duration commitInterval, Map<String, Object> overrides) throws InterruptedException {
        Properties p = new Properties();
        p.putAll(kafka.kafka());
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) kafka.replicationFactor());
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, (int) commitInterval.toMillis());
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        p.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
        p.putAll(overrides);
        StreamsRunner runner = new StreamsRunner(new KafkaStreams(topology, p), applicationId,
                (String) p.get(StreamsConfig.mainConsumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG)), kafka.kafka());
        // Settles on RUNNING, or on stopping by itself (state this version cannot read): then start fails at once.
        // RUNNING is remembered, not read back: a second rebalance (a task restored after a SIGKILL, another
        // instance joining) can leave RUNNING again within milliseconds, and that is not a failure to start.
        CountDownLatch settled = new CountDownLatch(1);
        AtomicBoolean reachedRunning = new AtomicBoolean();
        runner.streams.setStateListener((now, before) -> {
            LOG.info("{}: {} -> {}", applicationId, before, now);
            if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) {
                runner.stopped.countDown();
            }
            if (now == KafkaStreams.State.RUNNING) {
                reachedRunning.set(true);
            }
            if (reachedRunning.get() || runner.stopped.getCount() == 0) {
                settled.countDown();
            }
        });
        runner.streams.setUncaughtExceptionHandler(runner::onFailure);
        runner.streams.start();
        boolean inTime = settled.await(120, TimeUnit.SECONDS);
        KafkaStreams.State state = runner.streams.state();
        if (!reachedRunning.get() || runner.failure != null || !state.isRunningOrRebalancing()) {
            runner.streams.close(Duration.ofSeconds(5));
            runner.closeReplaced();
            if (runner.failure != null) {
                throw runner.stoppedOnFailure();
            }
            throw new IllegalStateException(applicationId + (reachedRunning.get() ? " stopped right after it started (state "
                    : inTime ? " stopped before it ran (state " : " did not reach RUNNING within 120 s (state ") + state + ")");
        }
        return runner;
    }

    /**
     * Kafka's static membership for an instance named {@code instanceId} (stable across its restarts, unique in its
     * application): a restart takes the instance's partitions back as soon as it joins, where a new member waits
     * out the session of the one it replaces (45 s by default) — a SIGKILLed and restarted scorer stalls its
     * partitions for that long otherwise. Kafka Streams suffixes the name with each stream thread's index; the member
     * of a thread replaced after a failure is taken out of the group ({@link ReplacedMembers}).
     */
    public static Map<String, Object> staticMember(String instanceId) {
        // checked here, so that a bad name fails before anything starts rather than in the stream thread
        if (!INSTANCE_ID.matcher(instanceId).matches() || instanceId.equals(".") || instanceId.equals("..")) {
            throw new IllegalArgumentException("instance id '" + instanceId + "': Kafka takes 1 to 249 letters, digits, '.', '_' and '-'");
        }
        return Map.of(StreamsConfig.mainConsumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG), instanceId);
    }

    private StreamThreadExceptionResponse onFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof StaleStateException stale) {
                failure = stale;
                LOG.error("{}: {}", name, stale.getMessage());
                return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
            }
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof RetriableException) {
                // the registry or a broker out of reach: not the record's fault, and no count towards stopping
                long at = System.nanoTime();
                if (at - lastTransientAt > QUIET.toNanos()) {
                    transientFailures.set(0);   // a new outage: its backoff starts from 1 s again
                }
                lastTransientAt = at;
                int inARow = transientFailures.incrementAndGet();
                if (inARow > MAX_PASSING) {
                    failure = new IllegalStateException(String.format("%d passing failures in a row, the last: %s", inARow - 1, t.getMessage()), e);
                    LOG.error("{}: {}; stopping", name, failure.getMessage(), e);
                    return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
                }
                long waitMs = Backoff.millis(inARow - 1);
                LOG.warn("{}: {} (a passing failure: {} in a row); a new stream thread in {} s, from the last commit", name, t.getMessage(),
                        inARow, waitMs / 1000.0);
                try {
                    Thread.sleep(waitMs);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                }
                return replace();
            }
        }
        transientFailures.set(0);
        String signature = signature(e);
        sameFailures = signature.equals(lastFailure) ? sameFailures + 1 : 1;
        lastFailure = signature;
        if (sameFailures >= REPEATS) {
            failure = new IllegalStateException(String.format("the same failure %d times in a row, so not a passing one: %s",
                    sameFailures, signature), e);
            LOG.error("{}: {}; stopping", name, failure.getMessage(), e);
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        }
        LOG.error("{}: stream thread failed ({} of {} in a row); replacing it", name, sameFailures, REPEATS, e);
        return replace();
    }

    /** Replaces the failing stream thread, which is the current one. */
    private StreamThreadExceptionResponse replace() {
        if (replaced != null) {
            replaced.remove(Thread.currentThread());
        }
        return StreamThreadExceptionResponse.REPLACE_THREAD;
    }

    private void closeReplaced() {
        if (replaced != null) {
            replaced.close();
        }
    }

    /** What makes two failures the same: every message down the causes (the first names the record). */
    private static String signature(Throwable e) {
        StringBuilder b = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            b.append(b.length() == 0 ? "" : "; caused by ").append(t.getClass().getSimpleName()).append(": ").append(t.getMessage());
        }
        return b.toString();
    }

    public KafkaStreams streams() {
        return streams;
    }

    /** Reports this app as {@code service} in the process's meters: its readiness and Kafka Streams' client metrics. */
    public void bindMeters(String service) {
        meters = Telemetry.bind(service, streams);
    }

    /** Ready: the app is RUNNING (not rebalancing, not stopped). */
    public boolean running() {
        return streams.state() == KafkaStreams.State.RUNNING;
    }

    /**
     * Waits until the app stops by itself (or the JVM is asked to exit, e.g. Ctrl-C); throws with the reason
     * when it stopped on a failure.
     */
    public void awaitStop() throws InterruptedException {
        Thread hook = new Thread(stopped::countDown);
        Runtime.getRuntime().addShutdownHook(hook);
        stopped.await();
        if (failure != null) {
            throw stoppedOnFailure();
        }
    }

    private IllegalStateException stoppedOnFailure() {
        return new IllegalStateException(name + " stopped: " + failure.getMessage(), failure);
    }

    /** Why the app stopped by itself, or null. */
    public Throwable failure() {
        return failure;
    }

    @Override
    public void close() {
        try {
            meters.close();
        } catch (Exception e) {
            LOG.warn("{}: unbinding its meters failed: {}", name, e.toString());
        }
        streams.close(Duration.ofSeconds(30));
        closeReplaced();
        LOG.info("{} closed", name);
    }
}
