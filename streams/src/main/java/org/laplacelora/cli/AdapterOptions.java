package org.laplacelora.cli;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Path;
import org.laplacelora.model.io.ModelLoader;
import org.laplacelora.model.lora.LoraAdapter;
import picocli.CommandLine.Option;

/** --adapter: the PEFT adapter a posterior belongs to. */
final class AdapterOptions {
    @Option(names = "--adapter", required = true, paramLabel = "DIR",
            description = "A PEFT LoRA adapter directory (adapter_config.json, adapter_model.safetensors), e.g. from finetune.")
    Path adapter;

    LoraAdapter load(ModelLoader.LoadedModel m, NDManager manager) throws IOException {
        return LoraAdapter.load(adapter, m.llama(), manager);
    }
}
