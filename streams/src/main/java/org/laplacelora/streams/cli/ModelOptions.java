package org.laplacelora.streams.cli;

import ai.djl.Device;
import java.io.IOException;
import java.nio.file.Path;
import org.laplacelora.model.llama.ModelLoader;
import picocli.CommandLine.Option;

/** --model, --tokenizer and --device, shared by every command that loads a model. */
final class ModelOptions {
    @Option(names = "--model", required = true, paramLabel = "PATH",
            description = "A Hugging Face model directory (config.json + safetensors) or a llama2.c .bin checkpoint.")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "PATH",
            description = "Tokenizer: a llama2.c tokenizer .bin, or a tokenizer.json. Default: the one in the HF "
                    + "directory, or tokenizer.bin next to a llama2.c checkpoint.")
    Path tokenizer;

    @Option(names = "--device", paramLabel = "DEVICE", defaultValue = "auto",
            description = "auto (a CUDA GPU when the engine has one, else CPU), cpu, gpu or gpu:N. Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(names = "--threads", paramLabel = "N",
            description = "CPU threads for PyTorch's intra-op parallelism (default: PyTorch's own choice).")
    Integer threads;

    /** Applies --threads; the engine reads it once, when it starts, so this must run before anything touches DJL. */
    void configureEngine() {
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
