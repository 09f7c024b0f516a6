package org.laplacelora.streams.telemetry;

import java.nio.file.Path;

/**
 * Where an HTTP endpoint listens, and its optional protection.
 *
 * @param bind the address to listen on (127.0.0.1 keeps it on this machine)
 * @param port 0 picks a free one
 * @param portOption the option that set the port, named when it is in use
 * @param username basic auth, with password; null: none
 * @param keystore TLS (PKCS12 or JKS), with its password; null: plain HTTP
 */
public record HttpSettings(String bind, int port, String portOption, String username, String password, Path keystore,
                           String keystorePassword) {
    public HttpSettings {
        if ((username == null) != (password == null)) {
            throw new IllegalArgumentException("basic auth needs both laplace.lora.http.username and laplace.lora.http.password");
        }
        if (keystore != null && keystorePassword == null) {
            throw new IllegalArgumentException("TLS needs laplace.lora.http.keystore.password with laplace.lora.http.keystore");
        }
    }

    /** Without the passwords. */
    @Override
    public String toString() {
        return "HttpSettings[" + bind + ":" + port + " (" + portOption + ")" + (username == null ? "" : ", basic auth for " + username)
                + (keystore == null ? "" : ", TLS from " + keystore) + "]";
    }

    public static HttpSettings plain(String bind, int port, String portOption) {
        return new HttpSettings(bind, port, portOption, null, null, null, null);
    }
}
