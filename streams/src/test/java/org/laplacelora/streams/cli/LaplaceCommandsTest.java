package org.laplacelora.streams.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.laplacelora.model.Fixtures;

/** finetune → fit-posterior → evaluate → report, in the command forms, on 20 WinoGrande rows. */
class LaplaceCommandsTest {
    @Test
    void finetuneFitEvaluateAndReport(@TempDir Path dir) throws Exception {
        String model = Fixtures.stories260kBin().toString();
        String tok = Fixtures.tok512().toString();
        String data = Fixtures.path("data/winogrande-dev-20.jsonl").toString();
        Path adapter = dir.resolve("adapter");
        CommandLineTest.Run ft = CommandLineTest.run("finetune", "--model", model, "--tokenizer", tok, "--task", "winogrande",
                "--train", data + "[:12]", "--out", adapter.toString(), "--epochs", "3", "--lr", "2e-3", "--batch-size", "4",
                "--seed", "3");
        assertThat(ft.exitCode()).as(ft.err()).isZero();
        assertThat(ft.out()).contains("adapter written to").contains("9 steps");
        assertThat(adapter.resolve("adapter_model.safetensors")).exists();
        JsonNode training = new ObjectMapper().readTree(adapter.resolve("training.json").toFile());
        assertThat(training.get("examples").asInt()).isEqualTo(12);

        Path posterior = dir.resolve("posterior.safetensors");
        CommandLineTest.Run fit = CommandLineTest.run("fit-posterior", "--model", model, "--tokenizer", tok, "--adapter",
                adapter.toString(), "--task", "winogrande", "--train", data + "[:12]", "--val", data + "[12:]",
                "--out", posterior.toString());
        assertThat(fit.exitCode()).as(fit.err()).isZero();
        assertThat(fit.out()).contains("posterior written to").contains("per convention").contains("\"paper\"").contains("\"last\"");

        Path json = dir.resolve("eval.json");
        Path predictions = dir.resolve("predictions.jsonl");
        CommandLineTest.Run eval = CommandLineTest.run("evaluate", "--model", model, "--tokenizer", tok, "--adapter",
                adapter.toString(), "--posterior", posterior.toString(), "--task", "winogrande", "--test", data,
                "--json", json.toString(), "--predictions-out", predictions.toString(), "--samples", "2000");
        assertThat(eval.exitCode()).as(eval.err()).isZero();
        assertThat(eval.out()).contains("MAP").contains("Temperature").contains("Last-layer Laplace").contains("Laplace-LoRA");
        JsonNode methods = new ObjectMapper().readTree(json.toFile()).get("methods");
        for (String m : List.of("map", "temperature", "llla", "laplace")) {
            assertThat(methods.get(m).get("n").asInt()).isEqualTo(20);
            assertThat(methods.get(m).get("accuracy").asDouble()).isBetween(0.0, 1.0);
            assertThat(methods.get(m).has("ece") && methods.get(m).has("nll") && methods.get(m).has("brier")).isTrue();
        }
        List<String> lines = Files.readAllLines(predictions);
        assertThat(lines).hasSize(20);
        JsonNode first = new ObjectMapper().readTree(lines.get(0));
        assertThat(first.get("id").asText()).isEqualTo("3FCO4VKOZ4BJQ6IFC0VAIBK4KTWE7U-2");
        assertThat(first.get("laplace").size()).isEqualTo(2);

        CommandLineTest.Run override = CommandLineTest.run("evaluate", "--model", model, "--tokenizer", tok, "--adapter",
                adapter.toString(), "--posterior", posterior.toString(), "--task", "winogrande", "--test", data + "[:4]",
                "--prior-precision", "1e-3", "--link", "probit", "--json", dir.resolve("wide.json").toString());
        assertThat(override.exitCode()).as(override.err()).isZero();
        JsonNode wide = new ObjectMapper().readTree(dir.resolve("wide.json").toFile());
        assertThat(wide.get("settings").get("lambda").asDouble()).isEqualTo(1e-3);
        assertThat(wide.get("settings").get("link").asText()).isEqualTo("probit");

        CommandLineTest.Run report = CommandLineTest.run("report", "--title", "tiny", json.toString(), json.toString());
        assertThat(report.exitCode()).isZero();
        assertThat(report.out()).contains("| Laplace-LoRA |").contains("± 0.0").contains("2 run(s), n = 20")
                .doesNotContain("Prior only").contains("/eval.json | 3 |");

        // With --val: the ablations, tuned on the validation rows, and the flags behind each row.
        Path tuned = dir.resolve("tuned.json");
        CommandLineTest.Run ablations = CommandLineTest.run("evaluate", "--model", model, "--tokenizer", tok, "--adapter",
                adapter.toString(), "--posterior", posterior.toString(), "--task", "winogrande", "--test", data, "--val", data + "[12:]",
                "--json", tuned.toString(), "--predictions-out", predictions.toString(), "--seed", "4");
        assertThat(ablations.exitCode()).as(ablations.err()).isZero();
        assertThat(ablations.out()).contains("Temperature, uncapped (T").contains("Prior only (λ");
        JsonNode t = new ObjectMapper().readTree(tuned.toFile());
        JsonNode settings = t.get("settings");
        assertThat(settings.get("seed").asLong()).isEqualTo(4);
        assertThat(settings.get("adapter_seed").asLong()).as("finetune --seed, from the adapter's training.json").isEqualTo(3);
        assertThat(settings.has("lambda_at_boundary") && settings.has("last_layer_lambda_at_boundary") && settings.has("temperature_at_cap"))
                .isTrue();
        assertThat(settings.get("temperature_at_cap").asBoolean()).isEqualTo(settings.get("temperature").asDouble() >= 5 * (1 - 1e-6));
        JsonNode uncapped = t.get("ablations").get("temperature_uncapped");
        JsonNode priorOnly = t.get("ablations").get("prior_only");
        assertThat(uncapped.get("n").asInt()).isEqualTo(20);
        assertThat(priorOnly.get("n").asInt()).isEqualTo(20);
        assertThat(uncapped.get("temperature").asDouble()).isGreaterThanOrEqualTo(settings.get("temperature").asDouble() - 1e-6);
        assertThat(priorOnly.get("lambda").asDouble()).isPositive();
        // Two classes: the exact one-dimensional link and a temperature both keep MAP's answer, so its accuracy.
        double mapAccuracy = t.get("methods").get("map").get("accuracy").asDouble();
        assertThat(uncapped.get("accuracy").asDouble()).isEqualTo(mapAccuracy);
        assertThat(priorOnly.get("accuracy").asDouble()).isEqualTo(mapAccuracy);
        assertThat(new ObjectMapper().readTree(Files.readAllLines(predictions).get(0)).get("prior_only").size()).isEqualTo(2);
        CommandLineTest.Run withAblations = CommandLineTest.run("report", tuned.toString());
        assertThat(withAblations.exitCode()).isZero();
        assertThat(withAblations.out()).contains("| Temperature, uncapped |").contains("| Prior only (Σ = I/λ) |").contains("| " + dir.getFileName() + "/tuned.json | 3 |");
    }

    @Test
    void aPosteriorOfAnotherAdapterIsRefused(@TempDir Path dir) throws Exception {
        String model = Fixtures.stories260kBin().toString();
        String tok = Fixtures.tok512().toString();
        String data = Fixtures.path("data/winogrande-dev-20.jsonl").toString();
        for (String seed : List.of("1", "2")) {
            assertThat(CommandLineTest.run("finetune", "--model", model, "--tokenizer", tok, "--task", "winogrande", "--train",
                    data + "[:8]", "--out", dir.resolve("a" + seed).toString(), "--steps", "1", "--seed", seed).exitCode()).isZero();
        }
        assertThat(CommandLineTest.run("fit-posterior", "--model", model, "--tokenizer", tok, "--adapter", dir.resolve("a1").toString(),
                "--task", "winogrande", "--train", data + "[:8]", "--out", dir.resolve("p").toString()).exitCode()).isZero();
        CommandLineTest.Run wrong = CommandLineTest.run("evaluate", "--model", model, "--tokenizer", tok, "--adapter",
                dir.resolve("a2").toString(), "--posterior", dir.resolve("p").toString(), "--task", "winogrande", "--test", data);
        assertThat(wrong.exitCode()).isEqualTo(1);
        assertThat(wrong.err()).contains("error: the posterior was fitted on adapter");
    }
}
