package org.laplacelora.streams.cli;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.function.Consumer;
import org.laplacelora.model.core.Tensors;
import org.laplacelora.model.laplace.curvature.FisherType;
import org.laplacelora.model.laplace.fit.LaplaceFit;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.predictive.LaplacePredictor;
import org.laplacelora.model.laplace.predictive.Links;
import org.laplacelora.model.llama.TokenBatch;
import org.laplacelora.model.lora.LoraContext;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.model.tasks.Task;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "predictive")
final class PredictiveBench extends AppCommand {
    @Mixin PosteriorOptions posteriorOptions;
    @Mixin TaskOptions taskOptions;
    @Option(names = "--data", required = true, paramLabel = "FILE") Path data;
    @Option(names = "--batch-sizes", split = ",", defaultValue = "1,32", paramLabel = "B,B,...", descriptionKey = "predictive.batch-sizes") int[] batchSizes;
    @Option(names = "--questions", defaultValue = "64", paramLabel = "N", descriptionKey = "predictive.questions") int questions;
    @Mixin LinkOptions link = new LinkOptions(Links.EVALUATION_SAMPLES);

    @Override
    public Integer call() throws Exception {
        PrintWriter out = out();
        PrintWriter err = err();
        LaplacePosterior posterior = posteriorOptions.load();
        try (AdaptedModelOptions.Adapted m = posteriorOptions.adapted.load()) {
            Task task = taskOptions.bind(m.model());
            LaplacePredictor predictor = new LaplacePredictor(m.model().llama(), m.adapter(), posterior, link.predictive(0));
            List<EncodedExample> all = taskOptions.read(data, task, m.model(), err);
            int n = Math.min(questions, all.size());
            List<EncodedExample> qs = all.subList(0, n);
            out.printf("model %s, %s, %d questions per row, link %s (%d samples), %d classes, %,d posterior parameters%n%n",
                    m.model().llama().identity(), task.kind().id(), n, link.link, link.samples.samples, task.numClasses(),
                    posterior.parameterCount(LaplacePosterior.ALL));
            out.println("| batch | MAP ms/question | last-layer Laplace ms/question | Laplace-LoRA ms/question | Laplace-LoRA / MAP |");
            out.println("|---:|---:|---:|---:|---:|");
            for (int b : batchSizes) {
                time(qs, b, batch -> map(m, task, batch)); // warm-up
                double map = time(qs, b, batch -> map(m, task, batch));
                double llla = time(qs, b, batch -> predictor.predictLastLayer(batch, m.padId(), m.manager()));
                double la = time(qs, b, batch -> predictor.predictServed(batch, m.padId(), m.manager()));
                out.printf("| %d | %.2f | %.2f | %.2f | %.1f× |%n", b, map, llla, la, la / map);
                out.flush();
            }
            int fitN = Math.min(all.size(), Math.max(n, 64));
            long start = System.nanoTime();
            LaplaceFit.fit(m.model().llama(), m.adapter(), all.subList(0, fitN), EnumSet.of(posterior.info().convention()),
                    new LaplaceFit.Settings(task.kind().id(), task.answers(), task.answerIds(), FisherType.EXACT,
                            posterior.info().sketchRank(), 8, m.padId(), 0), x -> {});
            double seconds = (System.nanoTime() - start) / 1e9;
            out.printf("%ncurvature fit (%s, exact Fisher, factor rank %d, batch 8): %d examples in %.1f s = %.1f ms/example%n",
                    posterior.info().convention().id(), posterior.info().sketchRank(), fitN, seconds, 1000 * seconds / fitN);
        }
        return 0;
    }

    /** Mean milliseconds per question over the questions, in batches of {@code b}. */
    private static double time(List<EncodedExample> qs, int b, Consumer<List<EncodedExample>> work) {
        long start = System.nanoTime();
        for (int i = 0; i < qs.size(); i += b) {
            work.accept(qs.subList(i, Math.min(i + b, qs.size())));
        }
        return (System.nanoTime() - start) / 1e6 / qs.size();
    }

    /** MAP alone: the forward pass and the softmax of the answer logits. */
    private static void map(AdaptedModelOptions.Adapted m, Task task, List<EncodedExample> batch) {
        try (NDManager s = m.manager().newSubManager()) {
            TokenBatch t = TokenBatch.leftPadded(batch.stream().map(EncodedExample::tokens).toList(), m.padId());
            long[] ids = Tensors.toLongs(task.answerIds());
            m.model().llama().lastLogits(s, t, LoraContext.eval(m.adapter())).get(new NDIndex(":, {}", s.create(ids))).softmax(1).toFloatArray();
        }
    }
}
