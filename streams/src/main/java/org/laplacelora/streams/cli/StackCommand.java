package org.laplacelora.streams.cli;

import java.io.IOException;
import java.net.BindException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.laplacelora.schemas.registry.InProcessSchemaRegistry;
import org.laplacelora.streams.kafka.EmbeddedKafka;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The embedded KRaft broker and schema registry as a process of their own, so that every component can run as a
 * separate process against them exactly as against a real cluster; either one alone, so that a test can stop the
 * registry and keep the broker.
 */
@Command(name = "stack")
final class StackCommand extends AppCommand {
    @Option(names = "--kafka-port", defaultValue = "9092", paramLabel = "PORT", descriptionKey = "stack.kafka-port") int kafkaPort;
    @Option(names = "--controller-port", defaultValue = "0", paramLabel = "PORT") int controllerPort;
    @Option(names = "--registry-port", defaultValue = "8081", paramLabel = "PORT", descriptionKey = "stack.registry-port") int registryPort;
    @Option(names = "--data-dir", paramLabel = "DIR", descriptionKey = "stack.data-dir") Path dataDir;
    @Option(names = "--broker-only") boolean brokerOnly;
    @Option(names = "--registry-only") boolean registryOnly;

    @Override
    public Integer call() throws Exception {
        if (brokerOnly && registryOnly) {
            throw new IllegalArgumentException("--broker-only and --registry-only exclude each other; give neither to run both");
        }
        Path data = dataDir == null ? null : dataDir.toAbsolutePath();
        EmbeddedKafka kafka = null;
        InProcessSchemaRegistry registry = null;
        CountDownLatch stopped = new CountDownLatch(1);
        try {
            if (!registryOnly) {
                requireFree(kafkaPort, "--kafka-port");
                requireFree(controllerPort, "--controller-port");
                kafka = EmbeddedKafka.start(data == null ? null : data.resolve("kafka"), kafkaPort, controllerPort);
                out().println("kafka " + kafka.bootstrapServers());
            }
            if (!brokerOnly) {
                requireFree(registryPort, "--registry-port");
                registry = InProcessSchemaRegistry.start(registryPort, data == null ? null : data.resolve("schema-registry.json"));
                out().println("schema-registry " + registry.url());
            }
            out().println(data == null ? "data in a temporary directory, deleted on exit" : "data in " + data + " (kept)");
            out().println("ready; Ctrl-C stops it");
            out().flush();
            EmbeddedKafka k = kafka;
            InProcessSchemaRegistry r = registry;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                if (r != null) r.close();
                if (k != null) k.close();   // a controlled shutdown: the log is flushed, the next start recovers nothing
                stopped.countDown();
            }, "stack-shutdown"));
            stopped.await();
            return 0;
        } catch (IOException | RuntimeException e) {
            if (registry != null) registry.close();
            if (kafka != null) kafka.close();
            throw e;
        }
    }

    /** A port in use fails here with the option that named it, before a server half-starts on it. */
    private static void requireFree(int port, String option) throws IOException {
        if (port == 0) {
            return;
        }
        try (ServerSocket s = new ServerSocket(port, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            s.setReuseAddress(true);
        } catch (BindException e) {
            throw new IOException("port " + port + " (" + option + ") is in use; give another, or 0 for any free one", e);
        }
    }
}
