package org.laplacelora.streams.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import org.laplacelora.model.llama.Adaptation;
import org.laplacelora.model.llama.Generator;
import org.laplacelora.model.llama.ModelLoader;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.lora.LoraContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "generate")
final class GenerateCommand extends AppCommand {
    @Mixin ModelOptions modelOptions;
    @Option(names = "--prompt", paramLabel = "TEXT", defaultValue = "") String prompt;
    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "256") int maxTokens;
    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0") double temperature;
    @Mixin SeedOption seed = new SeedOption(0);
    @Option(names = "--adapter", paramLabel = "DIR", descriptionKey = "generate.adapter") java.nio.file.Path adapter;

    @Override
    public Integer call() throws Exception {
        if (maxTokens < 0) {
            throw new IllegalArgumentException("--max-tokens must be >= 0");
        }
        PrintWriter out = out();
        try (ModelLoader.LoadedModel m = modelOptions.load();
             ai.djl.ndarray.NDManager manager = ai.djl.ndarray.NDManager.newBaseManager(m.llama().device());
             LoraAdapter lora = adapter == null ? null : LoraAdapter.load(adapter, m.llama(), manager)) {
            int[] promptIds = m.tokenizer().encode(prompt, true, false);
            Generator generator = new Generator(m.llama(), lora == null ? Adaptation.NONE : LoraContext.eval(lora));
            // Print as tokens arrive; decode the whole text each time so multi-byte characters come out whole.
            List<Integer> all = new ArrayList<>();
            for (int id : promptIds) {
                all.add(id);
            }
            String[] shown = {m.tokenizer().decode(promptIds)};
            out.print(shown[0]);
            out.flush();
            generator.generate(promptIds, maxTokens, temperature, seed.seed, token -> {
                all.add(token);
                String text = m.tokenizer().decode(all.stream().mapToInt(Integer::intValue).toArray());
                if (text.startsWith(shown[0]) && !text.endsWith("\uFFFD")) {
                    out.print(text.substring(shown[0].length()));
                    out.flush();
                    shown[0] = text;
                }
            });
            String text = m.tokenizer().decode(all.stream().mapToInt(Integer::intValue).toArray());
            if (text.startsWith(shown[0])) {
                out.print(text.substring(shown[0].length()));
            }
            out.println();
            out.flush();
        }
        return 0;
    }
}
