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

@Command(name = "fit-posterior")
final class FitPosteriorCommand extends AppCommand {
    @Mixin AdaptedModelOptions adapted;
    @Mixin TaskOptions taskOptions;
    @Option(names = "--train", required = true, paramLabel = "FILE", descriptionKey = "fitposterior.train") Path train;
    @Option(names = "--val", paramLabel = "FILE", descriptionKey = "fitposterior.val") Path val;
    @Option(names = "--out", required = true, paramLabel = "POSTERIOR_FILE", descriptionKey = "fitposterior.out") Path out;
    @Option(names = "--convention", paramLabel = "C", defaultValue = "auto") String convention;
    @Option(names = "--fisher", paramLabel = "F", defaultValue = "exact") String fisher;
    @Option(names = "--factor-rank", paramLabel = "K", defaultValue = "10") int factorRank;
    @Option(names = "--curvature-scale", paramLabel = "auto|X", defaultValue = "auto") String curvatureScale;
    @Option(names = "--per-module-prior") boolean perModule;
    @Mixin BatchSizeOption batch = new BatchSizeOption(8);
    @Option(names = "--tuning-samples", paramLabel = "N") int tuningSamples = Links.TUNING_SAMPLES;
    @Mixin SeedOption seed = new SeedOption(0);

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
        try (AdaptedModelOptions.Adapted m = adapted.load()) {
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
