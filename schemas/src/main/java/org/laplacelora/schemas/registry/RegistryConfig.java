package org.laplacelora.schemas.registry;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * How to reach a schema registry, from the configuration names Confluent's clients use:
 * {@code schema.registry.url} (comma-separated, tried in turn), {@code basic.auth.user.info} ("user:password"),
 * {@code schema.registry.ssl.truststore.location/password}, {@code schema.registry.ssl.keystore.location/password},
 * plus {@code schema.registry.retries} and {@code schema.registry.retry.backoff.ms}.
 */
public record RegistryConfig(List<String> urls, String userInfo, Path truststore, String truststorePassword,
                             Path keystore, String keystorePassword, int retries, Duration backoff, Duration timeout) {
    public static final String URL = "schema.registry.url";
    public static final String USER_INFO = "basic.auth.user.info";
    public static final String TRUSTSTORE = "schema.registry.ssl.truststore.location";
    public static final String TRUSTSTORE_PASSWORD = "schema.registry.ssl.truststore.password";
    public static final String KEYSTORE = "schema.registry.ssl.keystore.location";
    public static final String KEYSTORE_PASSWORD = "schema.registry.ssl.keystore.password";
    public static final String RETRIES = "schema.registry.retries";
    public static final String BACKOFF_MS = "schema.registry.retry.backoff.ms";

    public RegistryConfig {
        if (urls == null || urls.isEmpty()) {
            throw new IllegalArgumentException(URL + " is required");
        }
        urls = urls.stream().map(u -> u.endsWith("/") ? u.substring(0, u.length() - 1) : u).toList();
    }

    public static RegistryConfig of(String url) {
        return new RegistryConfig(List.of(url), null, null, null, null, null, 3, Duration.ofMillis(100), Duration.ofSeconds(10));
    }

    /** From Kafka-style configuration properties. */
    public static RegistryConfig from(Map<String, ?> props) {
        Object url = props.get(URL);
        if (url == null || url.toString().isBlank()) {
            throw new IllegalArgumentException(URL + " is required");
        }
        return new RegistryConfig(
                Arrays.stream(url.toString().split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList(),
                string(props, USER_INFO),
                path(props, TRUSTSTORE), string(props, TRUSTSTORE_PASSWORD),
                path(props, KEYSTORE), string(props, KEYSTORE_PASSWORD),
                Integer.parseInt(orDefault(props, RETRIES, "3")),
                Duration.ofMillis(Long.parseLong(orDefault(props, BACKOFF_MS, "100"))),
                Duration.ofSeconds(10));
    }

    private static String orDefault(Map<String, ?> props, String key, String fallback) {
        String v = string(props, key);
        return v == null ? fallback : v;
    }

    private static String string(Map<String, ?> props, String key) {
        Object v = props.get(key);
        return v == null || v.toString().isEmpty() ? null : v.toString();
    }

    private static Path path(Map<String, ?> props, String key) {
        String s = string(props, key);
        return s == null ? null : Path.of(s);
    }
}
