package org.laplacelora.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import org.laplacelora.model.io.ModelLoader;
import org.laplacelora.model.laplace.CurvatureConvention;
import org.laplacelora.model.laplace.FisherType;
import org.laplacelora.model.laplace.LaplacePosterior;
import org.laplacelora.model.laplace.PosteriorFitting;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.model.tasks.Task;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "fit-posterior", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Fits a Kronecker-factored Laplace posterior over a LoRA adapter's weights and tunes its prior.",
            "Without --val: prior precision by the evidence of the training data (the paper's Algorithm 2), convention "
                    + "reduce unless given. With --val: prior precision (and, for the paper's token-summed factors, a "
                    + "curvature scale) by validation log-likelihood under the predictive (Algorithm 3); every convention "
                    + "is tried unless one is given and the best-calibrated one is kept; the temperature-scaling baseline "
                    + "is fitted on the same data.",
            "Writes one safetensors file with the factors, the hyperparameters and the tuning report."})
final class FitPosteriorCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    TaskOptions taskOptions;

    @Mixin
    AdapterOptions adapterOptions;

    @Option(names = "--train", required = true, paramLabel = "FILE", description = "Training file: the data the curvature sums over (FILE[:80%%] for a slice).")
    Path train;

    @Option(names = "--val", paramLabel = "FILE", description = "Validation file for tuning (switches to the validation protocol); FILE[80%%:] for the rest of a training file.")
    Path val;

    @Option(names = "--out", required = true, paramLabel = "POSTERIOR_FILE", description = "Where to write the posterior (.safetensors).")
    Path out;

    @Option(names = "--convention", paramLabel = "C", defaultValue = "auto",
            description = "K-FAC convention: auto, paper, expand, reduce or last (auto: all with --val, reduce without). Default: ${DEFAULT-VALUE}.")
    String convention;

    @Option(names = "--fisher", paramLabel = "F", defaultValue = "exact",
            description = "exact (all classes, weighted by the prediction) or sampled (one label per example). Default: ${DEFAULT-VALUE}.")
    String fisher;

    @Option(names = "--factor-rank", paramLabel = "K", defaultValue = "10",
            description = "Rank k of the low-rank sketch of each large Kronecker factor (Algorithm 1); sides ≤ k are exact. Default: ${DEFAULT-VALUE}.")
    int factorRank;

    @Option(names = "--curvature-scale", paramLabel = "auto|X", defaultValue = "auto",
            description = "τ in precision = τ·H + λ·I: a number fixes it; auto tunes it with λ on --val for the paper's "
                    + "convention (whose factors over-count) and uses 1 otherwise. Default: ${DEFAULT-VALUE}.")
    String curvatureScale;

    @Option(names = "--per-module-prior", description = "One prior precision per adapted module (evidence protocol).")
    boolean perModule;

    @Option(names = "--batch-size", paramLabel = "B", defaultValue = "8", description = "Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--tuning-samples", paramLabel = "N", defaultValue = "2000",
            description = "Monte Carlo samples per validation question when tuning with C > 2 (C = 2 is exact). Default: ${DEFAULT-VALUE}.")
    int tuningSamples;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Sampled Fisher and Monte Carlo seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter outWriter = spec.commandLine().getOut();
        Set<CurvatureConvention> conventions = convention.equals("auto")
                ? (val == null ? EnumSet.of(CurvatureConvention.REDUCE) : EnumSet.allOf(CurvatureConvention.class))
                : EnumSet.of(CurvatureConvention.parse(convention));
        FisherType fisherType = FisherType.valueOf(fisher.trim().toUpperCase(java.util.Locale.ROOT));
        try (ModelLoader.LoadedModel m = modelOptions.load();
             NDManager manager = NDManager.newBaseManager(m.llama().device());
             LoraAdapter lora = adapterOptions.load(m, manager)) {
            Task task = taskOptions.bind(m);
            List<EncodedExample> trainSet = taskOptions.read(train, task, m, err);
            List<EncodedExample> valSet = val == null ? null : taskOptions.read(val, task, m, err);
            PosteriorFitting.Options options = new PosteriorFitting.Options(conventions, fisherType, factorRank, batchSize,
                    perModule, tuningSamples, curvatureScale.equals("auto") ? Double.NaN : Double.parseDouble(curvatureScale), seed);
            PosteriorFitting.Result result;
            try (ProgressBar trainBar = Progress.bar("curvature", trainSet.size(), "examples");
                 ProgressBar valBar = valSet == null ? null : Progress.bar("jacobians", valSet.size(), "examples")) {
                result = PosteriorFitting.fit(m.llama(), lora, task, trainSet, valSet, options, m.tokenizer().bos(),
                        trainBar::stepTo, n -> valBar.stepTo(n));
            }
            LaplacePosterior p = result.posterior();
            String sha = p.save(out);
            outWriter.printf("posterior written to %s (sha256 %s)%n", out, sha);
            outWriter.printf("  convention %s, fisher %s, factor rank %d, N %d, %,d parameters%n", p.info().convention().id(),
                    p.info().fisher().name().toLowerCase(java.util.Locale.ROOT), factorRank, p.info().examples(),
                    p.parameterCount(LaplacePosterior.ALL));
            outWriter.printf("  Laplace-LoRA λ %.4g%s, last-layer λ %.4g, temperature %.3f%n", p.prior().lambda(),
                    p.prior().tau() != 1 ? String.format(", τ %.4g", p.prior().tau()) : "",
                    p.lastLayerPrior().lambda(), p.temperature());
            if (result.conventions().size() > 1 || val != null) {
                outWriter.println("  per convention: " + new ObjectMapper().writeValueAsString(summary(result.conventions())));
            }
            result.conventions().forEach((c, r) -> {
                if (Boolean.TRUE.equals(r.get("lambda_at_range_boundary"))) {
                    err.printf("warning: convention %s: the best λ is at the edge of the searched range; its curvature is "
                            + "probably mis-scaled%n", c.id());
                }
            });
        }
        return 0;
    }

    private static Map<String, Object> summary(Map<CurvatureConvention, Map<String, Object>> conventions) {
        Map<String, Object> s = new java.util.LinkedHashMap<>();
        conventions.forEach((c, r) -> {
            Map<String, Object> row = new java.util.LinkedHashMap<>();
            for (String k : List.of("lambda", "tau", "validation_nll", "validation_ece", "log_evidence")) {
                if (r.containsKey(k)) {
                    row.put(k, r.get(k));
                }
            }
            s.put(c.id(), row);
        });
        return s;
    }
}
