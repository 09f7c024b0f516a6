package org.laplacelora.model.laplace.posterior;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.laplacelora.model.laplace.curvature.CurvatureConvention;
import org.laplacelora.model.laplace.curvature.FactorEigen;
import org.laplacelora.model.laplace.curvature.FisherType;
import org.laplacelora.model.laplace.curvature.KronFactor;
import org.laplacelora.model.laplace.curvature.LoraBlock;
import org.laplacelora.model.llama.Llama;
import org.laplacelora.model.tasks.PromptTemplates;

/** A posterior with random factors for given model shapes: for size and speed benchmarks without a model. */
public final class RandomPosterior {
    private RandomPosterior() {}

    /** q_proj and v_proj LoRA in every layer plus the LM head's, large factors as rank-{@code k} sketches. */
    public static LaplacePosterior forShapes(int layers, int hidden, int kvDim, int rank, int k, int classes, long seed) {
        Random random = new Random(seed);
        List<PosteriorBlock> blocks = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            for (String m : List.of("q_proj", "v_proj")) {
                String module = "model.layers." + l + ".self_attn." + m;
                int out = m.equals("q_proj") ? hidden : kvDim;
                blocks.add(block(new LoraBlock(module, 'A', rank, hidden), k, random));
                blocks.add(block(new LoraBlock(module, 'B', out, rank), k, random));
            }
        }
        blocks.add(block(new LoraBlock(Llama.LM_HEAD, 'A', rank, hidden), k, random));
        blocks.add(block(new LoraBlock(Llama.LM_HEAD, 'B', classes, rank), k, random));
        List<String> answers = new ArrayList<>();
        int[] ids = new int[classes];
        for (int c = 0; c < classes; c++) {
            answers.add(String.valueOf((char) ('A' + c)));
            ids[c] = c;
        }
        PosteriorInfo info = PosteriorInfoBuilder.builder().modelIdentity("random").adapterIdentity("random").task("generic")
                .answers(answers).answerIds(ids).templateVersion(PromptTemplates.VERSION).convention(CurvatureConvention.REDUCE)
                .fisher(FisherType.EXACT).sketchRank(k).examples(1000).trainLogLikelihood(-1000).thetaSquared(Map.of()).build();
        return LaplacePosterior.of(info, blocks);
    }

    private static PosteriorBlock block(LoraBlock b, int k, Random random) {
        return new PosteriorBlock(b, factor(b.gDim(), k, random), factor(b.aDim(), k, random));
    }

    private static FactorEigen factor(int dim, int k, Random random) {
        KronFactor f = KronFactor.create(dim, k);
        int rows = Math.min(dim, k);
        double[] x = new double[rows * dim];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextGaussian();
        }
        f.add(x, rows);
        return f.eigen();
    }
}
