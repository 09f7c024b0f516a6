package org.laplacelora.streams.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.laplacelora.model.llama.Adaptation;
import org.laplacelora.model.llama.Llama;
import org.laplacelora.model.llama.ModelLoader;
import org.laplacelora.model.llama.TokenBatch;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.lora.LoraConfig;
import org.laplacelora.model.lora.LoraContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "forward")
final class ForwardBench extends AppCommand {
    @Mixin ModelOptions modelOptions;
    @Option(names = "--batch-sizes", split = ",", paramLabel = "B,B,...", defaultValue = "1,8,32") int[] batchSizes;
    @Option(names = "--seq-len", paramLabel = "T", defaultValue = "128") int seqLen;
    @Option(names = "--logits", paramLabel = "last|all", defaultValue = "last") String logits;
    @Option(names = "--lora") boolean lora;
    @Option(names = "--warmup", paramLabel = "N", defaultValue = "2") int warmup;
    @Option(names = "--repeats", paramLabel = "N", defaultValue = "5") int repeats;

    @Override
    public Integer call() throws Exception {
        if (!logits.equals("last") && !logits.equals("all")) {
            throw new IllegalArgumentException("--logits must be last or all, got " + logits);
        }
        PrintWriter out = out();
        try (ModelLoader.LoadedModel m = modelOptions.load();
             NDManager manager = NDManager.newBaseManager(m.llama().device())) {
            Llama llama = m.llama();
            int t = Math.min(seqLen, llama.config().maxPositions());
            LoraAdapter adapter = lora ? LoraAdapter.initialise(llama, LoraConfig.paperDefaults(llama.identity()), 0, manager) : null;
            Adaptation ctx = adapter == null ? Adaptation.NONE : LoraContext.eval(adapter);
            out.printf("model: %s (%s parameters), device %s, %d intra-op threads, sequence length %d, logits %s%s%n",
                    llama.identity(), String.format("%,d", llama.config().parameterCount()), llama.device(),
                    threads(), t, logits, lora ? ", LoRA r 8 on q/v/lm_head" : "");
            out.println();
            out.println("| batch | tokens/batch | median ms/batch | tokens/s | sequences/s |");
            out.println("|---:|---:|---:|---:|---:|");
            Random random = new Random(0);
            for (int b : batchSizes) {
                List<int[]> seqs = new ArrayList<>();
                for (int i = 0; i < b; i++) {
                    int[] s = new int[t];
                    s[0] = llama.config().bosTokenId();
                    for (int k = 1; k < t; k++) {
                        s[k] = 3 + random.nextInt(llama.config().vocabSize() - 3);
                    }
                    seqs.add(s);
                }
                TokenBatch batch = TokenBatch.leftPadded(seqs, 0);
                double[] ms = new double[repeats];
                for (int r = -warmup; r < repeats; r++) {
                    long start = System.nanoTime();
                    try (NDManager scope = manager.newSubManager()) {
                        NDArray result = logits.equals("all")
                                ? llama.logits(scope, batch, ctx)
                                : llama.lastLogits(scope, batch, ctx);
                        result.toFloatArray(); // forces the computation (and the device → host copy) into the timing
                    }
                    if (r >= 0) {
                        ms[r] = (System.nanoTime() - start) / 1e6;
                    }
                }
                Arrays.sort(ms);
                double median = ms[ms.length / 2];
                out.printf("| %d | %d | %.1f | %,.0f | %.1f |%n", b, b * t, median, b * t / (median / 1000), b / (median / 1000));
                out.flush();
            }
            if (adapter != null) {
                adapter.close();
            }
        }
        return 0;
    }

    private static int threads() {
        Engine.getInstance();
        return ai.djl.pytorch.jni.JniUtils.getNumThreads();
    }
}
