package org.laplacelora.streams.refit;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.laplacelora.schemas.avro.RefitRequest;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.kafka.Topic;

/** Manual requests to the refitter (refit --now, posterior rollback), sent and acknowledged. */
public final class RefitRequests {
    /** What a request asks for (its {@code action} on the wire). */
    public enum Action {
        REFIT, ROLLBACK;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The action of that id, or null for one this version does not know. */
        static Action parse(String id) {
            for (Action a : values()) {
                if (a.id().equals(id)) {
                    return a;
                }
            }
            return null;
        }
    }

    private RefitRequests() {}

    public static RefitRequest refitNow(String by) {
        return RefitRequest.newBuilder().setAction(Action.REFIT.id()).setRequestedBy(by).setRequestedAt(Instant.now()).build();
    }

    public static RefitRequest rollback(long version, String by) {
        return RefitRequest.newBuilder().setAction(Action.ROLLBACK.id()).setRollbackTo(version).setRequestedBy(by)
                .setRequestedAt(Instant.now()).build();
    }

    /** Sends a request and waits for the broker to acknowledge it. */
    public static void send(KafkaSettings kafka, RefitRequest request) throws InterruptedException, ExecutionException {
        Topic<String, RefitRequest> requests = kafka.topics().refitRequests();
        try (KafkaProducer<String, byte[]> producer = kafka.producer()) {
            producer.send(requests.record(request.getAction(), request)).get();
        }
    }

    /** Who is asking, for the report: the user and host when known. */
    public static String requester() {
        String user = System.getProperty("user.name", "unknown");
        try {
            return user + "@" + InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return user;
        }
    }
}
