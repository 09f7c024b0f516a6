package org.laplacelora.streams.cli;

import ai.djl.Device;
import java.io.IOException;
import java.nio.file.Path;
import org.laplacelora.model.llama.ModelLoader;
import picocli.CommandLine.Option;

/** --model, --tokenizer and --device, shared by every command that loads a model. */
final class ModelOptions {
    @Option(names = "--model", required = true, paramLabel = "PATH", descriptionKey = "model.model") Path model;
    @Option(names = "--tokenizer", paramLabel = "PATH") Path tokenizer;
    @Option(names = "--device", paramLabel = "DEVICE", defaultValue = "auto") String device;
    @Option(names = "--threads", paramLabel = "N") Integer threads;

    /** Applies --threads; the engine reads it once, when it starts, so this must run before anything touches DJL. */
    void configureEngine() {
        configureEngine(threads);
    }

    /** --threads of a command without a model to load (pretrain). */
    static void configureEngine(Integer threads) {
        if (threads != null) {
            System.setProperty("ai.djl.pytorch.num_threads", threads.toString());
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        }
    }

    ModelLoader.LoadedModel load() throws IOException {
        configureEngine();
        Device d = ModelLoader.device(device);
        return ModelLoader.load(model, tokenizer, d);
    }
}
