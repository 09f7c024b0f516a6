package org.laplacelora.streams.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.laplacelora.model.llama.ModelLoader;
import org.laplacelora.model.tasks.Dataset;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.model.tasks.Task;
import org.laplacelora.model.tasks.TaskKind;
import picocli.CommandLine.Option;

/** --task and --max-length, and reading a dataset file into encoded examples. */
final class TaskOptions {
    @Option(names = "--task", required = true, paramLabel = "TASK", descriptionKey = "task.task") String task;
    @Option(names = "--max-length", paramLabel = "N", defaultValue = "300", descriptionKey = "task.max-length") int maxLength;

    @Option(names = "--answers", split = ",", paramLabel = "A,B,...", descriptionKey = "task.answers") List<String> answers;

    TaskKind kind() {
        return TaskKind.parse(task);
    }

    Task bind(ModelLoader.LoadedModel m) {
        TaskKind k = kind();
        if (k == TaskKind.GENERIC) {
            if (answers == null) {
                throw new IllegalArgumentException("--task generic needs --answers: the one-token answers of its rows, in class order");
            }
            return Task.generic(answers, m.tokenizer());
        }
        if (answers != null) {
            throw new IllegalArgumentException("--answers is for --task generic; " + k.id() + " has its own: " + k.answers());
        }
        return Task.of(k, m.tokenizer());
    }

    /** Reads, renders and tokenizes a dataset; reports what was skipped on stderr. */
    List<EncodedExample> read(Path file, Task t, ModelLoader.LoadedModel m, java.io.PrintWriter err) throws IOException {
        Dataset d = Dataset.read(t.kind(), file.toString());
        AtomicInteger tooLong = new AtomicInteger();
        int limit = Math.min(maxLength, m.llama().config().maxPositions());
        List<EncodedExample> out = t.encodeAll(d.examples(), m.tokenizer(), limit, tooLong);
        String skipped = d.skipped().isEmpty() ? "" : ", skipped " + d.skipped();
        err.printf("%s: %d examples%s%s%n", file, out.size(), skipped,
                tooLong.get() > 0 ? ", " + tooLong.get() + " prompts over " + limit + " tokens skipped" : "");
        if (out.isEmpty()) {
            throw new IllegalArgumentException(file + ": no usable examples");
        }
        return out;
    }
}
