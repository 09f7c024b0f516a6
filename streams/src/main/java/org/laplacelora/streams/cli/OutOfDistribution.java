package org.laplacelora.streams.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.laplacelora.model.core.Categorical;
import org.laplacelora.model.laplace.predictive.ScoredExample;
import org.laplacelora.model.metrics.Auroc;
import org.laplacelora.model.tasks.DatasetFormatException;

/**
 * Out-of-distribution detection, the paper's distribution-shift evaluation: how well each uncertainty score tells
 * a shifted test set (positives) from the in-domain one (negatives, read back from {@code evaluate
 * --predictions-out}), as AUROC. Labels play no part.
 */
final class OutOfDistribution {
    /** The scores one question has: higher should mean "more likely shifted". */
    record Uncertainty(double epistemic, double laplaceEntropy, double mapMaxProbability) {}

    private static final Map<String, String> TITLES = Map.of(
            "epistemic", "Laplace-LoRA epistemic part (MI)",
            "laplace_entropy", "Laplace-LoRA predictive entropy",
            "map_max_probability", "MAP max-probability");

    private OutOfDistribution() {}

    static String title(String score) {
        return TITLES.get(score);
    }

    /** The in-domain questions' scores from a predictions file. */
    static List<Uncertainty> read(Path predictions) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<Uncertainty> out = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(predictions)) {
            String line;
            int lineNo = 0;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode row = json.readTree(line);
                for (String field : List.of("epistemic", "entropy", "map")) {
                    if (!row.has(field)) {
                        throw new DatasetFormatException(predictions, lineNo, "no field \"" + field + "\" (an evaluate --predictions-out "
                                + "file of this version is needed)");
                    }
                }
                double[] map = json.treeToValue(row.get("map"), double[].class);
                out.add(new Uncertainty(row.get("epistemic").asDouble(), row.get("entropy").asDouble(), maxProbability(map)));
            }
        }
        if (out.isEmpty()) {
            throw new DatasetFormatException(predictions, 1, "no predictions");
        }
        return out;
    }

    /** AUROC of each score, shifted questions against the in-domain ones. */
    static Map<String, Double> auroc(List<Uncertainty> inDomain, List<ScoredExample> shifted) {
        List<Uncertainty> positives = shifted.stream().map(p -> new Uncertainty(p.epistemic(), p.entropy(), maxProbability(p.map())))
                .toList();
        Map<String, Double> auroc = new LinkedHashMap<>();
        auroc.put("epistemic", of(inDomain, positives, Uncertainty::epistemic));
        auroc.put("laplace_entropy", of(inDomain, positives, Uncertainty::laplaceEntropy));
        // A confident MAP says "in domain": its max-probability, negated, is its OOD score.
        auroc.put("map_max_probability", of(inDomain, positives, u -> -u.mapMaxProbability()));
        return auroc;
    }

    private static double of(List<Uncertainty> negatives, List<Uncertainty> positives, ToDoubleFunction<Uncertainty> score) {
        return Auroc.of(negatives.stream().mapToDouble(score).toArray(), positives.stream().mapToDouble(score).toArray());
    }

    private static double maxProbability(double[] p) {
        return p[Categorical.argmax(p)];
    }
}
