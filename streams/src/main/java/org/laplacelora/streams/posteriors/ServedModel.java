package org.laplacelora.streams.posteriors;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.laplacelora.model.core.CheckpointException;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.llama.ModelLoader;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.model.tasks.InvalidQuestionException;
import org.laplacelora.model.tasks.Task;
import org.laplacelora.model.tasks.TaskKind;
import org.laplacelora.model.tasks.TaskQuestion;
import org.laplacelora.schemas.avro.Question;

/**
 * What a service serves: the base model and its tokenizer, the adapter, the task of the posterior, and the
 * posterior version in use — swapped as one, between micro-batches. The scorer scores with it, the refitter
 * refits it, and a {@link PosteriorWatcher} keeps it on the newest version of the posteriors topic. It also
 * decides which questions it can serve: one task (its posterior's; a generic question must have the
 * posterior's answer tokens), prompts no longer than {@code maxLength}.
 */
public final class ServedModel implements AutoCloseable {
    /** A posterior and its version number (0: the file the service started with). */
    public record Version(LaplacePosterior posterior, long number) {}

    /** A question that passed validation, with its token ids. */
    public record Valid(Question question, EncodedExample encoded) {}

    private final ModelLoader.LoadedModel model;
    private final LoraAdapter adapter;
    private final NDManager manager;
    private final Task task;
    private final int maxLength;
    private volatile Version current;

    public ServedModel(ModelLoader.LoadedModel model, LoraAdapter adapter, NDManager manager, LaplacePosterior posterior, long version,
                       int maxLength) throws CheckpointException {
        this.model = model;
        this.adapter = adapter;
        this.manager = manager;
        this.maxLength = Math.min(maxLength, model.llama().config().maxPositions());
        TaskKind kind = TaskKind.parse(posterior.info().task());
        this.task = kind == TaskKind.GENERIC ? Task.generic(posterior.info().answers(), model.tokenizer()) : Task.of(kind, model.tokenizer());
        swap(posterior, version);
    }

    /** Loads model, adapter and posterior (version 0) from files. */
    public static ServedModel load(Path modelPath, Path tokenizer, Path adapterDir, Path posteriorFile, String device, int maxLength)
            throws IOException {
        LaplacePosterior posterior = LaplacePosterior.load(posteriorFile);
        ModelLoader.LoadedModel m = ModelLoader.load(modelPath, tokenizer, ModelLoader.device(device));
        NDManager manager = NDManager.newBaseManager(m.llama().device());
        try {
            LoraAdapter adapter = LoraAdapter.load(adapterDir, m.llama(), manager);
            return new ServedModel(m, adapter, manager, posterior, 0, maxLength);
        } catch (IOException | RuntimeException e) {
            manager.close();
            m.close();
            throw e;
        }
    }

    /** Serves another posterior from the next micro-batch on; it must belong to this model, adapter and task. */
    public void swap(LaplacePosterior posterior, long version) throws CheckpointException {
        posterior.requireFittedOn(model.llama().identity(), adapter.identity());
        posterior.requireAnswers(task.answerIds());
        this.current = new Version(posterior, version);
    }

    /** The version in use (a micro-batch takes it once and is scored with it throughout). */
    public Version current() {
        return current;
    }

    public long posteriorVersion() {
        return current.number();
    }

    public LaplacePosterior posterior() {
        return current.posterior();
    }

    public ModelLoader.LoadedModel model() {
        return model;
    }

    public LoraAdapter adapter() {
        return adapter;
    }

    /** Where the model's arrays live (scoring allocates below it). */
    public NDManager manager() {
        return manager;
    }

    /** The task of the posterior (for a generic one, its answers). */
    public Task task() {
        return task;
    }

    /** The token that pads batches (BOS, as the paper's code does). */
    public int padId() {
        return model.tokenizer().bos();
    }

    /** Encodes a question, or throws {@link InvalidQuestionException} with the dead-letter reason. */
    public Valid validate(Question q) {
        TaskKind kind;
        try {
            kind = TaskKind.parse(q.getTask());
        } catch (IllegalArgumentException e) {
            throw new InvalidQuestionException(q.getId(), InvalidQuestionException.Reason.UNKNOWN_TASK, e.getMessage());
        }
        if (kind != task.kind()) {
            throw new InvalidQuestionException(q.getId(), InvalidQuestionException.Reason.UNKNOWN_TASK,
                    "this scorer's posterior serves " + task.kind().id() + ", not " + kind.id());
        }
        Task t = task;
        if (kind == TaskKind.GENERIC) {
            try {
                t = Task.generic(q.getAnswers(), model.tokenizer());
            } catch (IllegalArgumentException e) {
                throw new InvalidQuestionException(q.getId(), InvalidQuestionException.Reason.BAD_CHOICES, e.getMessage());
            }
            if (!Arrays.equals(t.answerIds(), task.answerIds())) {
                throw new InvalidQuestionException(q.getId(), InvalidQuestionException.Reason.BAD_CHOICES,
                        "answers " + q.getAnswers() + " are not the posterior's " + task.answers());
            }
        }
        TaskQuestion tq = new TaskQuestion(q.getId(), kind, q.getText(), q.getChoices(), q.getContext(), q.getPrompt(), q.getAnswers());
        return new Valid(q, new EncodedExample(q.getId(), t.encode(tq, model.tokenizer(), maxLength), -1));
    }

    /** A labelled question's token ids, or {@link InvalidQuestionException} as for {@link #validate}. */
    public EncodedExample encode(Question q, int label) {
        return new EncodedExample(q.getId(), validate(q).encoded().tokens(), label);
    }

    @Override
    public void close() {
        adapter.close();
        manager.close();
        model.close();
    }
}
