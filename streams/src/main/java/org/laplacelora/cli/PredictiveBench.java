package org.laplacelora.cli;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.Callable;
import org.laplacelora.model.io.ModelLoader;
import org.laplacelora.model.laplace.CurvatureConvention;
import org.laplacelora.model.laplace.FisherType;
import org.laplacelora.model.laplace.JacobianBatch;
import org.laplacelora.model.laplace.LaplaceFit;
import org.laplacelora.model.laplace.LaplacePosterior;
import org.laplacelora.model.laplace.LastLayerJacobians;
import org.laplacelora.model.laplace.LinearisedPredictive;
import org.laplacelora.model.laplace.Link;
import org.laplacelora.model.laplace.ProjectedJacobians;
import org.laplacelora.model.llama.TokenBatch;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.lora.LoraContext;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.model.tasks.Task;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "predictive", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Per-question cost of MAP, last-layer Laplace and Laplace-LoRA predictions at several batch sizes, "
                + "and the time to fit the curvature, on questions of a dataset file.",
            "MAP is a forward pass; last-layer Laplace adds closed-form head Jacobians; Laplace-LoRA adds C − 1 backward "
                    + "passes and the projection onto the factor eigenbases. All include the link."})
final class PredictiveBench implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    TaskOptions taskOptions;

    @Mixin
    AdapterOptions adapterOptions;

    @Option(names = "--posterior", required = true, paramLabel = "FILE") Path posteriorFile;

    @Option(names = "--data", required = true, paramLabel = "FILE", description = "Questions to time on (FILE[a:b] for a slice).")
    Path data;

    @Option(names = "--batch-sizes", split = ",", defaultValue = "1,32", paramLabel = "B,B,...",
            description = "Default: ${DEFAULT-VALUE}.") int[] batchSizes;

    @Option(names = "--questions", defaultValue = "64", paramLabel = "N", description = "Questions timed per batch size. Default: ${DEFAULT-VALUE}.")
    int questions;

    @Option(names = "--link", defaultValue = "mc", paramLabel = "mc|probit|binary", description = "Default: ${DEFAULT-VALUE}.") String link;

    @Option(names = "--samples", defaultValue = "100000", paramLabel = "N", description = "Monte Carlo samples. Default: ${DEFAULT-VALUE}.")
    int samples;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        LaplacePosterior posterior = LaplacePosterior.load(posteriorFile);
        LinearisedPredictive predictive = new LinearisedPredictive(Link.parse(link), samples, 0);
        try (ModelLoader.LoadedModel m = modelOptions.load();
             NDManager manager = NDManager.newBaseManager(m.llama().device());
             LoraAdapter lora = adapterOptions.load(m, manager)) {
            Task task = taskOptions.bind(m);
            List<EncodedExample> all = taskOptions.read(data, task, m, err);
            int n = Math.min(questions, all.size());
            List<EncodedExample> qs = all.subList(0, n);
            int pad = m.tokenizer().bos();
            out.printf("model %s, %s, %d questions per row, link %s (%d samples), %d classes, %,d posterior parameters%n%n",
                    m.llama().identity(), task.kind().id(), n, link, samples, task.numClasses(), posterior.parameterCount(LaplacePosterior.ALL));
            out.println("| batch | MAP ms/question | last-layer Laplace ms/question | Laplace-LoRA ms/question | Laplace-LoRA / MAP |");
            out.println("|---:|---:|---:|---:|---:|");
            for (int b : batchSizes) {
                time(qs, b, batch -> map(m, lora, task, batch, pad, manager)); // warm-up
                double map = time(qs, b, batch -> map(m, lora, task, batch, pad, manager));
                double llla = time(qs, b, batch -> lastLayer(m, lora, task, posterior, predictive, batch, pad, manager));
                double la = time(qs, b, batch -> full(m, lora, task, posterior, predictive, batch, pad, manager));
                out.printf("| %d | %.2f | %.2f | %.2f | %.1f× |%n", b, map, llla, la, la / map);
                out.flush();
            }
            int fitN = Math.min(all.size(), Math.max(n, 64));
            long start = System.nanoTime();
            LaplaceFit.fit(m.llama(), lora, all.subList(0, fitN), EnumSet.of(posterior.info().convention()),
                    new LaplaceFit.Settings(task.kind().id(), task.answers(), task.answerIds(), FisherType.EXACT,
                            posterior.info().sketchRank(), 8, pad, 0), x -> {});
            double seconds = (System.nanoTime() - start) / 1e9;
            out.printf("%ncurvature fit (%s, exact Fisher, factor rank %d, batch 8): %d examples in %.1f s = %.1f ms/example%n",
                    posterior.info().convention().id(), posterior.info().sketchRank(), fitN, seconds, 1000 * seconds / fitN);
        }
        return 0;
    }

    private interface BatchWork {
        void run(List<EncodedExample> batch);
    }

    /** Mean milliseconds per question over the questions, in batches of {@code b}. */
    private static double time(List<EncodedExample> qs, int b, BatchWork work) {
        long start = System.nanoTime();
        for (int i = 0; i < qs.size(); i += b) {
            work.run(qs.subList(i, Math.min(i + b, qs.size())));
        }
        return (System.nanoTime() - start) / 1e6 / qs.size();
    }

    private static void map(ModelLoader.LoadedModel m, LoraAdapter lora, Task task, List<EncodedExample> batch, int pad,
                            NDManager manager) {
        try (NDManager s = manager.newSubManager()) {
            TokenBatch t = TokenBatch.leftPadded(batch.stream().map(EncodedExample::tokens).toList(), pad);
            long[] ids = Arrays.stream(task.answerIds()).asLongStream().toArray();
            m.llama().lastLogits(s, t, LoraContext.eval(lora)).get(new NDIndex(":, {}", s.create(ids))).softmax(1).toFloatArray();
        }
    }

    private static void lastLayer(ModelLoader.LoadedModel m, LoraAdapter lora, Task task, LaplacePosterior posterior,
                                  LinearisedPredictive predictive, List<EncodedExample> batch, int pad, NDManager manager) {
        try (JacobianBatch j = LastLayerJacobians.compute(m.llama(), lora, task.answerIds(), batch, pad, manager)) {
            ProjectedJacobians pj = posterior.project(j);
            for (int i = 0; i < batch.size(); i++) {
                predictive.predict(j.mu()[i], pj.covariance(i, posterior.lastLayerPrior(), LaplacePosterior.HEAD), batch.get(i).id());
            }
        }
    }

    private static void full(ModelLoader.LoadedModel m, LoraAdapter lora, Task task, LaplacePosterior posterior,
                             LinearisedPredictive predictive, List<EncodedExample> batch, int pad, NDManager manager) {
        try (JacobianBatch j = JacobianBatch.compute(m.llama(), lora, task.answerIds(), batch, pad, manager)) {
            ProjectedJacobians pj = posterior.project(j);
            for (int i = 0; i < batch.size(); i++) {
                predictive.predict(j.mu()[i], pj.covariance(i, posterior.prior(), LaplacePosterior.ALL), batch.get(i).id());
            }
        }
    }
}
