package org.laplacelora.streams.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.laplacelora.model.Fixtures;
import picocli.CommandLine;

class CommandLineTest {
    record Run(int exitCode, String out, String err) {}

    static Run run(String... args) {
        CommandLine cl = LaplaceLora.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void helpListsTheSubcommands() {
        Run r = run("--help");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("generate", "bench");
    }

    /** Every command's --help renders without picocli's format warnings (a stray % in a description). */
    @Test
    void everyHelpRendersCleanly() {
        java.io.PrintStream saved = System.err;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            java.util.ArrayDeque<CommandLine> todo = new java.util.ArrayDeque<>(java.util.List.of(LaplaceLora.commandLine()));
            int rendered = 0;
            while (!todo.isEmpty()) {
                CommandLine c = todo.pop();
                assertThat(c.getUsageMessage()).as(c.getCommandName()).isNotBlank();
                rendered++;
                todo.addAll(c.getSubcommands().values());
            }
            assertThat(rendered).isGreaterThan(20);
        } finally {
            System.setErr(saved);
        }
        assertThat(captured.toString(java.nio.charset.StandardCharsets.UTF_8)).doesNotContain("picocli WARN");
    }

    /** The help texts live in Help.properties; a renamed key would silently leave an option undescribed. */
    @Test
    void everyCommandOptionAndParameterIsDescribed() {
        java.util.ArrayDeque<CommandLine> todo = new java.util.ArrayDeque<>(java.util.List.of(LaplaceLora.commandLine()));
        java.util.List<String> undescribed = new java.util.ArrayList<>();
        while (!todo.isEmpty()) {
            CommandLine c = todo.pop();
            CommandLine.Model.CommandSpec spec = c.getCommandSpec();
            String path = spec.qualifiedName();
            if (String.join("", spec.usageMessage().description()).isBlank()) undescribed.add(path);
            for (CommandLine.Model.ArgSpec arg : spec.args()) {
                // A description that only states the default says nothing about what the option does.
                if (String.join("", arg.description()).replaceFirst("^Default: .*$", "").isBlank()) undescribed.add(path + " " + arg.paramLabel()
                        + (arg instanceof CommandLine.Model.OptionSpec o ? " " + o.longestName() : ""));
            }
            todo.addAll(c.getSubcommands().values());
        }
        assertThat(undescribed).isEmpty();
    }

    @Test
    void generatePrintsTheModelsKnownGreedyOpening() {
        String expected = Fixtures.json("stories260K/greedy.json").get("cases").get(0).get("text").asText();
        Run r = run("generate", "--model", Fixtures.stories260kBin().toString(), "--tokenizer", Fixtures.tok512().toString(),
                "--max-tokens", "40");
        assertThat(r.err()).isEmpty();
        assertThat(r.exitCode()).isZero();
        assertThat(r.out().strip()).isEqualTo(expected);
    }

    @Test
    void generateFromAHuggingFaceDirectoryFindsItsTokenizer() {
        Run r = run("generate", "--model", Fixtures.path("stories260K/hf").toString(), "--prompt", "Once upon a time",
                "--max-tokens", "36");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out().strip()).startsWith("Once upon a time, there was a little girl named Lily.");
    }

    @Test
    void benchForwardPrintsATableOfTokensPerSecond() {
        Run r = run("bench", "forward", "--model", Fixtures.stories260kBin().toString(), "--tokenizer",
                Fixtures.tok512().toString(), "--batch-sizes", "1,2", "--seq-len", "16", "--warmup", "0", "--repeats", "1");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("| batch | tokens/batch | median ms/batch | tokens/s |").contains("| 1 | 16 |").contains("| 2 | 32 |");
    }

    @Test
    void expectedFailuresPrintOneErrorLine() {
        Run missing = run("generate", "--model", "no/such/model.bin");
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.err()).startsWith("error: no/such/model.bin: model not found");
        Run noTokenizer = run("generate", "--model", Fixtures.stories260kBin().toString());
        assertThat(noTokenizer.exitCode()).isEqualTo(1);
        assertThat(noTokenizer.err()).contains("needs its tokenizer");
        Run badDevice = run("generate", "--model", Fixtures.stories260kBin().toString(), "--tokenizer",
                Fixtures.tok512().toString(), "--device", "tpu");
        assertThat(badDevice.err()).contains("--device must be auto, cpu, gpu or gpu:N");
        // Before the demo model is built or read: an analysis that has no held-out questions to score says so.
        Run noHeldOut = run("bench", "refit", "--noise-floor", "--cache-dir", "no/such/cache");
        assertThat(noHeldOut.exitCode()).isEqualTo(1);
        assertThat(noHeldOut.err()).contains("give --held-out N as well");
        assertThat(run("bench", "refit", "--brier", "--cache-dir", "no/such/cache").err()).contains("give --held-out N as well");
        assertThat(run("bench", "refit", "--by-ece", "--cache-dir", "no/such/cache").err()).contains("give --held-out N as well");
        assertThat(run("bench", "refit", "--held-out", "10", "--curvature-scales", "1,-3", "--cache-dir", "no/such/cache").err())
                .contains("--curvature-scales takes scales τ ≥ 0 (0 is the prior alone), got [1.0, -3.0]");
        assertThat(run("bench", "refit", "--modes", "nonsense", "--cache-dir", "no/such/cache").err())
                .contains("unknown refit mode 'nonsense' (online or curvature)");
        // The demo's own arguments, before any model is built or loaded (the cache directory is never created).
        Run lateShift = run("demo", "--drift-at", "5000", "--cache-dir", "no/such/cache");
        assertThat(lateShift.exitCode()).isEqualTo(1);
        assertThat(lateShift.err()).contains("--drift-at 5000 is past the last question (3599 of --questions 3600)");
        Run noQuestions = run("demo", "--questions", "0", "--cache-dir", "no/such/cache");
        assertThat(noQuestions.err()).contains("--questions must be at least 1, got 0");
        Run twice = run("demo", "--questions", "600", "--drift-at", "200,200", "--cache-dir", "no/such/cache");
        assertThat(twice.err()).contains("gives question 200 twice");
        // Kafka's rule for a member's name, before the model is loaded or Kafka is reached.
        for (String service : List.of("scorer", "calibrator", "refitter")) {
            List<String> args = new ArrayList<>(List.of(service, "--instance-id", "scorer 1"));
            if (!service.equals("calibrator")) {
                args.addAll(List.of("--model", "no/such/model", "--adapter", "no/such/adapter", "--posterior", "no/such/posterior"));
            }
            Run badName = run(args.toArray(String[]::new));
            assertThat(badName.exitCode()).as(service).isEqualTo(1);
            assertThat(badName.err()).as(service).startsWith("error: instance id 'scorer 1': Kafka takes 1 to 249 letters, digits, '.', '_' and '-'");
        }
        assertThat(Path.of("no")).doesNotExist();
    }
}
