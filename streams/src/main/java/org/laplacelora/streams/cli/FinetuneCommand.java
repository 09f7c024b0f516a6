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

@Command(name = "finetune")
final class FinetuneCommand extends AppCommand {
    @Mixin ModelOptions modelOptions;
    @Mixin TaskOptions taskOptions;
    @Option(names = "--train", required = true, paramLabel = "FILE") Path train;
    @Option(names = "--out", required = true, paramLabel = "ADAPTER_DIR") Path out;

    static final class Length {
        @Option(names = "--steps", paramLabel = "N") Integer steps;
        @Option(names = "--epochs", paramLabel = "E") Integer epochs;
    }

    @ArgGroup(exclusive = true) Length length = new Length();

    @Option(names = "--lr", paramLabel = "X", defaultValue = "5e-5") double lr;
    @Mixin BatchSizeOption batch = new BatchSizeOption(4);
    @Option(names = "--weight-decay", paramLabel = "W", defaultValue = "0") double weightDecay;
    @Mixin SeedOption seed = new SeedOption(21);
    @Option(names = "--rank", paramLabel = "R", defaultValue = "8") int rank;
    @Option(names = "--alpha", paramLabel = "A", defaultValue = "16") double alpha;
    @Option(names = "--dropout", paramLabel = "P", defaultValue = "0.1") double dropout;
    @Option(names = "--targets", split = ",", paramLabel = "M,M,...", defaultValue = "q_proj,v_proj," + Llama.LM_HEAD) List<String> targets;
    @Option(names = "--checkpoint-every", paramLabel = "K", defaultValue = "0") int checkpointEvery;

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
                double trainAccuracy = trainer.accuracy(examples, batch.batchSize * 4, m.tokenizer().bos());
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
                report.put("train_accuracy", trainAccuracy);
                report.putPOJO("epoch_losses", result.epochLosses());
                json.writerWithDefaultPrettyPrinter().writeValue(out.resolve("training.json").toFile(), report);
                outWriter.printf("adapter written to %s: %d steps, last epoch loss %.4f, train accuracy %.1f%%%n",
                        out, result.steps(), result.finalEpochLoss(), 100 * trainAccuracy);
            }
        }
        return 0;
    }
}
