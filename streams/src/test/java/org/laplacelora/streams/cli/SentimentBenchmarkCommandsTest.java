package org.laplacelora.streams.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.laplacelora.model.Fixtures;

/**
 * The sentiment benchmark's commands in docs/results.md's forms, at toy sizes: select the labelled rows, pre-train a
 * LLaMA on the text, fine-tune, fit, evaluate in domain and on a shifted domain with out-of-distribution AUROC, report.
 */
class SentimentBenchmarkCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void selectPretrainFinetuneFitEvaluateUnderShiftAndReport(@TempDir Path dir) throws Exception {
        String sst2Train = Fixtures.path("data/sst2-train-200.tsv").toString();
        Path train = dir.resolve("train.tsv");
        CommandLineTest.Run select = CommandLineTest.run("datasets", "sentiment", "--sst2-train", sst2Train, "--size", "100",
                "--seed", "2", "--out", train.toString());
        assertThat(select.exitCode()).as(select.err()).isZero();
        assertThat(Files.readAllLines(train)).hasSize(101).first().isEqualTo("label\tsentence");
        assertThat(CommandLineTest.run("datasets", "sentiment", "--sst2-train", sst2Train, "--size", "1000", "--out",
                dir.resolve("x.tsv").toString()).err()).contains("fewer than --size 1000");

        Path lm = dir.resolve("lm");
        List<String> pretrain = List.of("pretrain", "--text", sst2Train, "--column", "sentence", "--out", lm.toString(),
                "--keep-words", "Review: Sentiment: negative positive", "--vocab-size", "400", "--hidden", "32", "--layers", "1",
                "--heads", "2", "--intermediate", "64", "--context", "128", "--sequence-length", "32", "--batch-size", "8",
                "--validate-every", "20", "--lr", "1e-2", "--warmup", "5");
        CommandLineTest.Run pt = CommandLineTest.run(with(pretrain, "--steps", "60"));
        assertThat(pt.exitCode()).as(pt.err()).isZero();
        assertThat(pt.out()).contains("model written to");
        JsonNode report = JSON.readTree(lm.resolve(PretrainCommand.REPORT).toFile());
        assertThat(report.get("final_validation_loss").asDouble()).as("held-out loss falls from near-uniform")
                .isLessThan(report.get("initial_validation_loss").asDouble() - 1);
        CommandLineTest.Run cached = CommandLineTest.run(with(pretrain, "--steps", "60"));
        assertThat(cached.exitCode()).isZero();
        assertThat(cached.out()).contains("already pre-trained");
        CommandLineTest.Run other = CommandLineTest.run(with(pretrain, "--steps", "61"));
        assertThat(other.exitCode()).isEqualTo(2);
        assertThat(other.err()).contains("other settings");

        Path adapter = dir.resolve("adapter");
        CommandLineTest.Run ft = CommandLineTest.run("finetune", "--model", lm.toString(), "--task", "sentiment", "--max-length", "128",
                "--train", train + "[:80%]", "--out", adapter.toString(), "--epochs", "3", "--lr", "2e-3", "--seed", "21");
        assertThat(ft.exitCode()).as(ft.err()).isZero();
        Path posterior = dir.resolve("posterior.safetensors");
        CommandLineTest.Run fit = CommandLineTest.run("fit-posterior", "--model", lm.toString(), "--adapter", adapter.toString(),
                "--task", "sentiment", "--max-length", "128", "--train", train + "[:80%]", "--val", train + "[80%:]", "--out",
                posterior.toString());
        assertThat(fit.exitCode()).as(fit.err()).isZero();

        Path inDomain = dir.resolve("sst2.jsonl");
        CommandLineTest.Run sst2 = evaluate(lm, adapter, posterior, train, "data/sst2-test-40.tsv", dir.resolve("sst2.json"), inDomain,
                null);
        assertThat(sst2.exitCode()).as(sst2.err()).isZero();
        Path shifted = dir.resolve("yelp.jsonl");
        Path yelpJson = dir.resolve("yelp.json");
        CommandLineTest.Run yelp = evaluate(lm, adapter, posterior, train, "data/yelp-40.txt", yelpJson, shifted, inDomain);
        assertThat(yelp.exitCode()).as(yelp.err()).isZero();
        assertThat(yelp.out()).contains("out-of-distribution detection").contains("Laplace-LoRA epistemic part (MI)");

        // The AUROC against its definition, every (shifted, in-domain) pair counted, from the two predictions files.
        JsonNode auroc = JSON.readTree(yelpJson.toFile()).get("ood").get("auroc");
        assertThat(auroc.get("epistemic").asDouble()).isCloseTo(pairs(inDomain, shifted, "epistemic"), org.assertj.core.data.Offset.offset(1e-12));
        assertThat(auroc.get("laplace_entropy").asDouble()).isCloseTo(pairs(inDomain, shifted, "entropy"),
                org.assertj.core.data.Offset.offset(1e-12));
        assertThat(auroc.get("map_max_probability").asDouble()).isCloseTo(pairs(inDomain, shifted, "map"),
                org.assertj.core.data.Offset.offset(1e-12));

        CommandLineTest.Run table = CommandLineTest.run("report", yelpJson.toString(), yelpJson.toString());
        assertThat(table.exitCode()).as(table.err()).isZero();
        assertThat(table.out()).contains("| Laplace-LoRA epistemic part (MI) | ").contains("| MAP max-probability | ")
                .contains("Prior only");
    }

    private static CommandLineTest.Run evaluate(Path lm, Path adapter, Path posterior, Path train, String test, Path json, Path predictions,
                                                Path inDomain) {
        List<String> args = new ArrayList<>(List.of("evaluate", "--model", lm.toString(), "--adapter", adapter.toString(), "--posterior",
                posterior.toString(), "--task", "sentiment", "--max-length", "128", "--val", train + "[80%:]", "--test",
                Fixtures.path(test).toString(), "--json", json.toString(), "--predictions-out", predictions.toString()));
        if (inDomain != null) {
            args.addAll(List.of("--in-domain", inDomain.toString()));
        }
        return CommandLineTest.run(args.toArray(String[]::new));
    }

    private static String[] with(List<String> args, String... more) {
        List<String> all = new ArrayList<>(args);
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    /** Share of pairs in which the shifted question is scored more uncertain (ties a half). */
    private static double pairs(Path negatives, Path positives, String score) throws Exception {
        List<Double> neg = scores(negatives, score);
        List<Double> pos = scores(positives, score);
        double sum = 0;
        for (double p : pos) {
            for (double n : neg) {
                sum += p > n ? 1 : p == n ? 0.5 : 0;
            }
        }
        return sum / (pos.size() * neg.size());
    }

    private static List<Double> scores(Path predictions, String score) throws Exception {
        List<Double> out = new ArrayList<>();
        for (String line : Files.readAllLines(predictions)) {
            JsonNode row = JSON.readTree(line);
            if (score.equals("map")) {
                JsonNode p = row.get("map");
                out.add(-Math.max(p.get(0).asDouble(), p.get(1).asDouble()));
            } else {
                out.add(row.get(score).asDouble());
            }
        }
        return out;
    }
}
