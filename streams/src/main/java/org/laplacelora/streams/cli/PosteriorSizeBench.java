package org.laplacelora.streams.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.posterior.RandomPosterior;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "posterior-size")
final class PosteriorSizeBench extends AppCommand {
    @Option(names = "--layers", defaultValue = "32", paramLabel = "L") int layers;
    @Option(names = "--hidden", defaultValue = "4096", paramLabel = "D") int hidden;
    @Option(names = "--kv-dim", defaultValue = "4096", paramLabel = "N") int kvDim;
    @Option(names = "--rank", defaultValue = "8", paramLabel = "R", descriptionKey = "posteriorsize.rank") int rank;
    @Option(names = "--factor-rank", defaultValue = "10", paramLabel = "K", descriptionKey = "posteriorsize.factor-rank") int factorRank;
    @Option(names = "--classes", defaultValue = "4", paramLabel = "C") int classes;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = out();
        long start = System.nanoTime();
        LaplacePosterior p = RandomPosterior.forShapes(layers, hidden, kvDim, rank, factorRank, classes, 0);
        double build = (System.nanoTime() - start) / 1e9;
        Path file = Files.createTempFile("posterior-size", ".safetensors");
        try {
            start = System.nanoTime();
            p.save(file);
            double save = (System.nanoTime() - start) / 1e9;
            start = System.nanoTime();
            LaplacePosterior.load(file);
            double load = (System.nanoTime() - start) / 1e9;
            long bytes = Files.size(file);
            long params = p.parameterCount(LaplacePosterior.ALL);
            double fullFactors = 0;
            for (var b : p.blocks()) {
                fullFactors += 8.0 * ((double) b.block().gDim() * b.block().gDim() + (double) b.block().aDim() * b.block().aDim());
            }
            out.printf("shapes: %d layers, d %d, v out %d, LoRA r %d on q_proj, v_proj and lm_head (C %d), factor rank k %d%n",
                    layers, hidden, kvDim, rank, classes, factorRank);
            out.printf("posterior parameters: %,d in %d blocks%n", params, p.blocks().size());
            out.printf("file: %,d bytes (%.1f MB); build %.1f s, save %.1f s, load + sha256 check %.1f s%n",
                    bytes, bytes / 1e6, build, save, load);
            out.printf("the same factors at full rank would take %.2f GB (float64)%n", fullFactors / 1e9);
        } finally {
            Files.deleteIfExists(file);
        }
        return 0;
    }
}
