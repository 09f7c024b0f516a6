package org.laplacelora.streams.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import me.tongfei.progressbar.ProgressBar;
import org.laplacelora.model.llama.Llama;
import org.laplacelora.model.llama.ModelLoader;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.lora.LoraConfig;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.model.tasks.Task;
import org.laplacelora.model.train.MapTrainer;
import org.laplacelora.model.train.MapTrainerSettingsBuilder;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "finetune",
        description = {"MAP fine-tuning of a LoRA adapter on a task's training file: cross-entropy of the answer logits, "
                + "AdamW with linear decay, as the paper (defaults: lr 5e-5, weight decay 0, batch 4, 10000 steps, "
                + "r 8, alpha 16, dropout 0.1 on q_proj, v_proj, lm_head).",
            "Writes a PEFT adapter (adapter_config.json, adapter_model.safetensors) and training.json to --out."})
final class FinetuneCommand extends AppCommand {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    TaskOptions taskOptions;

    @Option(names = "--train", required = true, paramLabel = "FILE", description = "Training file (official JSONL of the task); FILE[:80%%] takes the first 80%% of its rows.")
    Path train;

    @Option(names = "--out", required = true, paramLabel = "ADAPTER_DIR", description = "Where to write the adapter.")
    Path out;

    static final class Length {
        @Option(names = "--steps", paramLabel = "N", description = "Optimiser steps (default 10000, the paper's).")
        Integer steps;

        @Option(names = "--epochs", paramLabel = "E", description = "Passes over the training file instead of --steps.")
        Integer epochs;
    }

    @ArgGroup(exclusive = true)
    Length length = new Length();

    @Option(names = "--lr", paramLabel = "X", defaultValue = "5e-5", description = "Peak learning rate. Default: ${DEFAULT-VALUE}.")
    double lr;

    @Mixin
    BatchSizeOption batch = new BatchSizeOption(4);

    @Option(names = "--weight-decay", paramLabel = "W", defaultValue = "0", description = "AdamW's decoupled decay. Default: ${DEFAULT-VALUE}.")
    double weightDecay;

    @Mixin
    SeedOption seed = new SeedOption(21);

    @Option(names = "--rank", paramLabel = "R", defaultValue = "8", description = "LoRA rank. Default: ${DEFAULT-VALUE}.")
    int rank;

    @Option(names = "--alpha", paramLabel = "A", defaultValue = "16", description = "LoRA alpha (scale alpha/r). Default: ${DEFAULT-VALUE}.")
    double alpha;

    @Option(names = "--dropout", paramLabel = "P", defaultValue = "0.1", description = "LoRA dropout (training only). Default: ${DEFAULT-VALUE}.")
    double dropout;

    @Option(names = "--targets", split = ",", paramLabel = "M,M,...", defaultValue = "q_proj,v_proj," + Llama.LM_HEAD,
            description = "Adapted modules. Default: ${DEFAULT-VALUE}.")
    List<String> targets;

    @Option(names = "--checkpoint-every", paramLabel = "K", defaultValue = "0",
            description = "Also write the adapter to ADAPTER_DIR/checkpoint-<step> every K steps (0: never).")
    int checkpointEvery;


    @Override
    public Integer call() throws Exception {
        PrintWriter err = err();
        PrintWriter outWriter = out();
        try (ModelLoader.LoadedModel m = modelOptions.load();
             NDManager manager = NDManager.newBaseManager(m.llama().device())) {
            Task task = taskOptions.bind(m);
            List<EncodedExample> examples = taskOptions.read(train, task, m, err);
            int steps = length.steps == null && length.epochs == null ? 10_000 : length.steps == null ? 0 : length.steps;
            int epochs = length.epochs == null ? 0 : length.epochs;
            MapTrainer.Settings settings = MapTrainerSettingsBuilder.builder().learningRate(lr).weightDecay(weightDecay)
                    .batchSize(batch.batchSize).steps(steps).epochs(epochs).seed(seed.seed).checkpointEvery(checkpointEvery)
                    .padId(m.tokenizer().bos()).build();
            LoraConfig config = new LoraConfig(rank, alpha, dropout, targets, m.llama().identity(), false);
            Files.createDirectories(out);
            try (LoraAdapter adapter = LoraAdapter.initialise(m.llama(), config, seed.seed, manager)) {
                MapTrainer trainer = new MapTrainer(m.llama(), adapter, task.answerIds());
                MapTrainer.Result result;
                int total = settings.totalSteps(examples.size());
                try (ProgressBar bar = Progress.bar("finetune", total, "steps")) {
                    double[] smoothed = {Double.NaN};
                    result = trainer.train(examples, settings, out, (step, t, loss, rate) -> {
                        smoothed[0] = Double.isNaN(smoothed[0]) ? loss : 0.98 * smoothed[0] + 0.02 * loss;
                        bar.stepTo(step);
                        bar.setExtraMessage(String.format(" loss %.4f, %.1f examples/s", smoothed[0], rate));
                    });
                }
                adapter.save(out);
                ObjectMapper json = new ObjectMapper();
                ObjectNode report = json.createObjectNode();
                report.put("model", m.llama().identity());
                report.put("adapter", adapter.identity());
                report.put("task", task.kind().id());
                report.put("train_file", train.toString());
                report.put("examples", examples.size());
                report.put("steps", result.steps());
                report.put("learning_rate", lr);
                report.put("batch_size", batch.batchSize);
                report.put("weight_decay", weightDecay);
                report.put("seed", seed.seed);
                report.put("final_epoch_loss", result.finalEpochLoss());
                report.put("train_accuracy", result.trainAccuracy());
                report.putPOJO("epoch_losses", result.epochLosses());
                json.writerWithDefaultPrettyPrinter().writeValue(out.resolve("training.json").toFile(), report);
                outWriter.printf("adapter written to %s: %d steps, last epoch loss %.4f, train accuracy %.1f%%%n",
                        out, result.steps(), result.finalEpochLoss(), 100 * result.trainAccuracy());
            }
        }
        return 0;
    }
}
