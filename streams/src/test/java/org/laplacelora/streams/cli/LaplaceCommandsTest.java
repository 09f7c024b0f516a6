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
        assertThat(report.out()).contains("| Laplace-LoRA |").contains("± 0.0").contains("2 run(s), n = 20");
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
