package org.laplacelora.streams.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import me.tongfei.progressbar.ProgressBar;
import org.laplacelora.model.laplace.curvature.CurvatureConvention;
import org.laplacelora.model.laplace.curvature.FisherType;
import org.laplacelora.model.laplace.fit.FitSettings;
import org.laplacelora.model.laplace.fit.PosteriorFitting;
import org.laplacelora.model.laplace.posterior.FitReport;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.predictive.Links;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.model.tasks.Task;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "fit-posterior",
        description = {"Fits a Kronecker-factored Laplace posterior over a LoRA adapter's weights and tunes its prior.",
            "Without --val: prior precision by the evidence of the training data (the paper's Algorithm 2), convention "
                    + "reduce unless given. With --val: prior precision (and, for the paper's token-summed factors, a "
                    + "curvature scale) by validation log-likelihood under the predictive (Algorithm 3); every convention "
                    + "is tried unless one is given and the best-calibrated one is kept; the temperature-scaling baseline "
                    + "is fitted on the same data.",
            "Writes one safetensors file with the factors, the hyperparameters and the tuning report."})
final class FitPosteriorCommand extends AppCommand {
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

    @Mixin
    BatchSizeOption batch = new BatchSizeOption(8);

    @Option(names = "--tuning-samples", paramLabel = "N",
            description = "Monte Carlo samples per validation question when tuning with C > 2 (C = 2 is exact). Default: ${DEFAULT-VALUE}.")
    int tuningSamples = Links.TUNING_SAMPLES;

    @Mixin
    SeedOption seed = new SeedOption(0);


    @Override
    public Integer call() throws Exception {
        PrintWriter err = err();
        PrintWriter outWriter = out();
        Set<CurvatureConvention> conventions = convention.equals("auto")
                ? (val == null ? EnumSet.of(CurvatureConvention.REDUCE) : EnumSet.allOf(CurvatureConvention.class))
                : EnumSet.of(CurvatureConvention.parse(convention));
        FitSettings settings = new FitSettings(conventions, FisherType.valueOf(fisher.trim().toUpperCase(Locale.ROOT)), factorRank,
                batch.batchSize, perModule, tuningSamples, curvatureScale.equals("auto") ? Double.NaN : Double.parseDouble(curvatureScale),
                seed.seed);
        try (AdapterOptions.Adapted m = adapterOptions.load(modelOptions)) {
            Task task = taskOptions.bind(m.model());
            List<EncodedExample> trainSet = taskOptions.read(train, task, m.model(), err);
            List<EncodedExample> valSet = val == null ? null : taskOptions.read(val, task, m.model(), err);
            LaplacePosterior p;
            try (ProgressBar trainBar = Progress.bar("curvature", trainSet.size(), "examples");
                 ProgressBar valBar = valSet == null ? null : Progress.bar("jacobians", valSet.size(), "examples")) {
                p = PosteriorFitting.fit(m.model().llama(), m.adapter(), task, trainSet, valSet, settings, m.padId(),
                        trainBar::stepTo, n -> valBar.stepTo(n));
            }
            String sha = p.save(out);
            outWriter.printf("posterior written to %s (sha256 %s)%n", out, sha);
            outWriter.printf("  convention %s, fisher %s, factor rank %d, N %d, %,d parameters%n", p.info().convention().id(),
                    p.info().fisher().name().toLowerCase(Locale.ROOT), factorRank, p.info().examples(),
                    p.parameterCount(LaplacePosterior.ALL));
            outWriter.printf("  Laplace-LoRA λ %.4g%s, last-layer λ %.4g, temperature %.3f%n", p.prior().lambda(),
                    p.prior().tau() != 1 ? String.format(", τ %.4g", p.prior().tau()) : "",
                    p.lastLayerPrior().lambda(), p.temperature());
            if (p.report() instanceof FitReport.Validation v) {
                outWriter.println("  per convention: " + new ObjectMapper().writeValueAsString(summary(v)));
                v.conventions().forEach((c, score) -> {
                    if (score.lambdaAtRangeBoundary()) {
                        err.printf("warning: convention %s: the best λ is at the edge of the searched range; its curvature is "
                                + "probably mis-scaled%n", c.id());
                    }
                });
            }
        }
        return 0;
    }

    /** Per convention tried: λ, τ and the validation NLL and ECE. */
    private static Map<String, Object> summary(FitReport.Validation v) {
        Map<String, Object> s = new LinkedHashMap<>();
        new TreeMap<>(v.conventions()).forEach((c, score) -> {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("lambda", score.lambda());
            row.put("tau", score.tau());
            row.put("validation_nll", score.validationNll());
            row.put("validation_ece", score.validationEce());
            s.put(c.id(), row);
        });
        return s;
    }
}
