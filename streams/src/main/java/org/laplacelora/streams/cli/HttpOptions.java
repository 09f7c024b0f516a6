package org.laplacelora.streams.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.laplacelora.streams.telemetry.HttpSettings;

/**
 * An HTTP endpoint's address, with basic auth and TLS from the {@code --config} properties file
 * ({@code laplace.lora.http.username}, {@code .password}, {@code .keystore}, {@code .keystore.password}).
 */
final class HttpOptions {
    private HttpOptions() {}

    static HttpSettings settings(String bind, int port, String portOption, Path config) throws IOException {
        Properties p = new Properties();
        if (config != null) {
            try (Reader r = Files.newBufferedReader(config)) {
                p.load(r);
            }
        }
        String keystore = p.getProperty("laplace.lora.http.keystore");
        return new HttpSettings(bind, port, portOption, p.getProperty("laplace.lora.http.username"),
                p.getProperty("laplace.lora.http.password"), keystore == null ? null : Path.of(keystore),
                p.getProperty("laplace.lora.http.keystore.password"));
    }
}
