package org.laplacelora.streams.refit;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.laplacelora.schemas.avro.RefitRequest;
import org.laplacelora.schemas.registry.SchemaRegistry;
import org.laplacelora.schemas.serde.ConfluentAvroSerde;
import org.laplacelora.streams.config.KafkaSettings;

/** Manual requests to the refitter (refit --now, posterior rollback), sent and acknowledged. */
public final class RefitRequests {
    private RefitRequests() {}

    public static RefitRequest refitNow(String by) {
        return RefitRequest.newBuilder().setAction("refit").setRequestedBy(by).setRequestedAt(Instant.now()).build();
    }

    public static RefitRequest rollback(long version, String by) {
        return RefitRequest.newBuilder().setAction("rollback").setRollbackTo(version).setRequestedBy(by).setRequestedAt(Instant.now()).build();
    }

    /** Sends a request and waits for the broker to acknowledge it. */
    public static void send(KafkaSettings kafka, SchemaRegistry registry, RefitRequest request) throws InterruptedException, ExecutionException {
        Map<String, Object> p = new HashMap<>(kafka.kafka());
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, RefitRequest> producer = new KafkaProducer<>(p, new StringSerializer(),
                ConfluentAvroSerde.value(RefitRequest.class, registry).serializer())) {
            producer.send(new ProducerRecord<>(kafka.topics().refitRequests(), request.getAction(), request)).get();
        }
    }

    /** Who is asking, for the report: the user and host when known. */
    public static String requester() {
        String user = System.getProperty("user.name", "unknown");
        try {
            return user + "@" + java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return user;
        }
    }
}
