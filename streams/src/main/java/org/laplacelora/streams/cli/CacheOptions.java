package org.laplacelora.streams.cli;

import java.io.IOException;
import java.nio.file.Path;
import org.laplacelora.streams.demo.DemoAssets;
import org.laplacelora.streams.posteriors.ServedModel;
import picocli.CommandLine.Option;

/** --cache-dir: where the demo's generated model, adapter and posterior are kept. */
final class CacheOptions {
    @Option(names = "--cache-dir", paramLabel = "DIR") Path cacheDir;

    Path root() {
        if (cacheDir != null) {
            return cacheDir;
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        return (xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache")).resolve("laplace-lora");
    }

    /** The demo's model, adapter and posterior, built on first use. */
    DemoAssets.Paths demoAssets() throws IOException {
        return DemoAssets.prepare(root(), System.out::println);
    }

    /** The demo's model, adapter and posterior loaded for serving, on the CPU. */
    ServedModel demoModel() throws IOException {
        DemoAssets.Paths assets = demoAssets();
        return ServedModel.load(assets.model(), null, assets.adapter(), assets.posterior(), "cpu", 64);
    }
}
