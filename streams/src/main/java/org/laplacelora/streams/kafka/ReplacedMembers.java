package org.laplacelora.streams.kafka;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.MemberToRemove;
import org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes the static member of a replaced stream thread out of its group. Kafka Streams starts the replacement under
 * the next free thread index, so under another member name, and the old member would hold the partitions until its
 * session ran out (45 s by default); removed, the partitions go to the new thread as soon as it joins.
 */
final class ReplacedMembers implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplacedMembers.class);
    private static final String THREAD = "-StreamThread-";
    private static final Duration WAIT = Duration.ofSeconds(60);

    private final String groupId;
    private final String instanceId;
    private final Map<String, Object> adminSettings;
    private final Supplier<Set<String>> liveThreads;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "remove-replaced-member");
        t.setDaemon(true);
        return t;
    });
    private Admin admin;
    private boolean closed;

    /**
     * @param instanceId the instance's name; Kafka Streams suffixes it with each thread's index
     * @param liveThreads the names of the instance's stream threads that are alive
     */
    ReplacedMembers(String groupId, String instanceId, Map<String, Object> adminSettings, Supplier<Set<String>> liveThreads) {
        this.groupId = groupId;
        this.instanceId = instanceId;
        this.adminSettings = Map.copyOf(adminSettings);
        this.liveThreads = liveThreads;
    }

    /** Once {@code dead} has stopped, removes its member, unless a live thread has taken its name. */
    void remove(Thread dead) {
        int at = dead.getName().lastIndexOf(THREAD);
        if (at < 0) {
            return;
        }
        String member = instanceId + "-" + dead.getName().substring(at + THREAD.length());
        try {
            worker.execute(() -> removeOnceStopped(dead, member));
        } catch (RejectedExecutionException closing) {
            // the app is closing: nothing will take the partitions over
        }
    }

    private void removeOnceStopped(Thread dead, String member) {
        try {
            dead.join(WAIT.toMillis());
            if (liveThreads.get().contains(dead.getName())) {
                return;   // the replacement runs under the same index, so it already is that member
            }
            admin().removeMembersFromConsumerGroup(groupId, new RemoveMembersFromConsumerGroupOptions(List.of(new MemberToRemove(member))))
                    .all().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            LOG.info("{}: removed {}, the replaced stream thread's member, so that its partitions go to the new thread now", groupId, member);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.warn("{}: could not remove {}, the replaced stream thread's member ({}); its partitions wait out its session", groupId,
                    member, e.toString());
        }
    }

    private synchronized Admin admin() {
        if (closed) {
            throw new IllegalStateException("the app is closing");
        }
        if (admin == null) {
            admin = Admin.create(adminSettings);
        }
        return admin;
    }

    @Override
    public synchronized void close() {
        closed = true;
        worker.shutdownNow();
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
        }
    }
}
