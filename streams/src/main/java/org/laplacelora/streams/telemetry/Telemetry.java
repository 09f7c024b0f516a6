package org.laplacelora.streams.telemetry;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.function.BooleanSupplier;
import org.apache.kafka.streams.KafkaStreams;

/**
 * Where every component records its meters: Micrometer's global registry, so that the services of one process
 * (the demo runs them all) share one {@code /metrics}. Until a process asks for {@link #prometheus()} the meters
 * record nowhere, which is what tests and benchmarks want.
 */
public final class Telemetry {
    /** Prefix of every meter of the product ({@code laplace_lora_*} in Prometheus). */
    public static final String PREFIX = "laplace_lora.";
    private static PrometheusMeterRegistry prometheus;

    private Telemetry() {}

    public static MeterRegistry registry() {
        return Metrics.globalRegistry;
    }

    /** This process's Prometheus registry, added to the global one on first use. */
    public static synchronized PrometheusMeterRegistry prometheus() {
        if (prometheus == null) {
            prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            Metrics.addRegistry(prometheus);
        }
        return prometheus;
    }

    /**
     * {@code laplace_lora_ready{service}} (1 while ready) and, for a Kafka Streams app, the client's own metrics
     * (Micrometer's binder: {@code kafka_stream_*}).
     *
     * @return unbinds them (the app is closing)
     */
    public static AutoCloseable bind(String service, KafkaStreams streams) {
        BooleanSupplier ready = () -> streams.state() == KafkaStreams.State.RUNNING;
        Gauge gauge = readiness(service, ready);
        KafkaStreamsMetrics client = new KafkaStreamsMetrics(streams);
        client.bindTo(registry());
        return () -> {
            client.close();
            registry().remove(gauge);
        };
    }

    /** {@code laplace_lora_ready{service}}: 1 while {@code ready} holds. */
    public static Gauge readiness(String service, BooleanSupplier ready) {
        return Gauge.builder(PREFIX + "ready", ready, r -> r.getAsBoolean() ? 1 : 0).tag("service", service)
                .description("1 while the service is ready: its Kafka Streams app is RUNNING, or the dashboard has caught up")
                .strongReference(true).register(registry());
    }
}
