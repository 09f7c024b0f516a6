package org.laplacelora.streams.cli;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Path;
import org.laplacelora.model.llama.ModelLoader;
import org.laplacelora.model.lora.LoraAdapter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** A model and the PEFT adapter on it: --model, --tokenizer, --device, --threads and --adapter. */
final class AdaptedModelOptions {
    @Mixin ModelOptions model;
    @Option(names = "--adapter", required = true, paramLabel = "DIR") Path adapter;

    /** A model with its adapter applied; closing it frees both. */
    record Adapted(ModelLoader.LoadedModel model, NDManager manager, LoraAdapter adapter) implements AutoCloseable {
        int padId() {
            return model.tokenizer().bos();
        }

        @Override
        public void close() {
            adapter.close();
            manager.close();
            model.close();
        }
    }

    Adapted load() throws IOException {
        ModelLoader.LoadedModel m = model.load();
        NDManager manager = NDManager.newBaseManager(m.llama().device());
        try {
            return new Adapted(m, manager, LoraAdapter.load(adapter, m.llama(), manager));
        } catch (IOException | RuntimeException e) {
            manager.close();
            m.close();
            throw e;
        }
    }
}
