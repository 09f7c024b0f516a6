package org.laplacelora.streams.posteriors;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
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
 * What a service serves: the base model and its tokenizer, the task of the posterior, and the version in use —
 * a posterior and the adapter that is its mean (the one the service started with, or one a version carries),
 * swapped as one, between micro-batches. The scorer scores with it, the refitter
 * refits it, and a {@link PosteriorWatcher} keeps it on the newest version of the posteriors topic. It also
 * decides which questions it can serve: one task (its posterior's; a generic question must have the
 * posterior's answer tokens), prompts no longer than {@code maxLength}.
 */
public final class ServedModel implements AutoCloseable {
    /**
     * A version in use: its posterior, its adapter and its number (0: the files the service started with). A
     * {@link #lease} keeps it open; an adapter a version brought is closed once the version is swapped out and
     * its last lease is released.
     */
    public static final class Version {
        private final LaplacePosterior posterior;
        private final LoraAdapter adapter;
        private final boolean ownsAdapter;
        private final long number;
        private final AtomicInteger holders = new AtomicInteger(1);     // 1: held by being the current version

        private Version(LaplacePosterior posterior, LoraAdapter adapter, boolean ownsAdapter, long number) {
            this.posterior = posterior;
            this.adapter = adapter;
            this.ownsAdapter = ownsAdapter;
            this.number = number;
        }

        public LaplacePosterior posterior() {
            return posterior;
        }

        public LoraAdapter adapter() {
            return adapter;
        }

        public long number() {
            return number;
        }

        private boolean acquire() {
            for (int h = holders.get(); h > 0; h = holders.get()) {
                if (holders.compareAndSet(h, h + 1)) {
                    return true;
                }
            }
            return false;
        }

        private void release() {
            if (holders.decrementAndGet() == 0 && ownsAdapter) {
                adapter.close();
            }
        }
    }

    /** The version in use when it was taken, kept open until closed. */
    public static final class Lease implements AutoCloseable {
        private final Version version;
        private boolean closed;

        private Lease(Version version) {
            this.version = version;
        }

        public LaplacePosterior posterior() {
            return version.posterior();
        }

        public LoraAdapter adapter() {
            return version.adapter();
        }

        public long number() {
            return version.number();
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                version.release();
            }
        }
    }

    /** A question that passed validation, with its token ids. */
    public record Valid(Question question, EncodedExample encoded) {}

    private final ModelLoader.LoadedModel model;
    private final LoraAdapter baseAdapter;
    private final NDManager manager;
    private final Task task;
    private final int maxLength;
    private volatile Version current;

    public ServedModel(ModelLoader.LoadedModel model, LoraAdapter adapter, NDManager manager, LaplacePosterior posterior, long version,
                       int maxLength) throws CheckpointException {
        this.model = model;
        this.baseAdapter = adapter;
        this.manager = manager;
        this.maxLength = Math.min(maxLength, model.llama().config().maxPositions());
        TaskKind kind = TaskKind.parse(posterior.info().task());
        this.task = kind == TaskKind.GENERIC ? Task.generic(posterior.info().answers(), model.tokenizer()) : Task.of(kind, model.tokenizer());
        this.current = verified(posterior, adapter, false, version);
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

    /** Serves another posterior of the starting adapter from the next micro-batch on. */
    public void swap(LaplacePosterior posterior, long version) throws CheckpointException {
        replace(verified(posterior, baseAdapter, false, version));
    }

    /** Serves a version's files (with the adapter it carries, or the starting one) from the next micro-batch on. */
    public void swap(PosteriorVersions.Files files, long version) throws IOException {
        LaplacePosterior posterior = LaplacePosterior.fromBytes(files.posterior());
        if (files.adapter() == null) {
            swap(posterior, version);
            return;
        }
        LoraAdapter adapter = LoraAdapter.fromBytes(files.adapter(), model.llama(), manager);
        try {
            replace(verified(posterior, adapter, true, version));
        } catch (CheckpointException | RuntimeException e) {
            adapter.close();
            throw e;
        }
    }

    /** Checks that the posterior belongs to this model, the adapter and the task. */
    private Version verified(LaplacePosterior posterior, LoraAdapter adapter, boolean owns, long version) throws CheckpointException {
        posterior.requireFittedOn(model.llama().identity(), adapter.identity());
        posterior.requireAnswers(task.answerIds());
        return new Version(posterior, adapter, owns, version);
    }

    private synchronized void replace(Version next) {
        Version previous = current;
        current = next;
        previous.release();
    }

    /** The version in use, held open until the lease is closed (a micro-batch is scored with one version throughout). */
    public Lease lease() {
        while (true) {
            Version v = current;
            if (v.acquire()) {
                return new Lease(v);
            }
        }
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
        long longest = Math.max(utf8(q.getText()), Math.max(utf8(q.getContext()), utf8(q.getPrompt())));
        long listed = 0;
        for (String c : q.getChoices()) {
            listed += utf8(c);
        }
        for (String answer : q.getAnswers()) {
            listed += utf8(answer);
        }
        if (Math.max(longest, listed) > (long) maxLength * model.tokenizer().maxBytesPerToken()) {
            throw new InvalidQuestionException(q.getId(), InvalidQuestionException.Reason.TOO_LONG, Math.max(longest, listed)
                    + " bytes of text, more than the limit of " + maxLength + " tokens can hold (a token is at most "
                    + model.tokenizer().maxBytesPerToken() + " bytes here); not encoded");
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

    private static long utf8(String s) {
        return s == null ? 0 : s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    }

    /** A labelled question's token ids, or {@link InvalidQuestionException} as for {@link #validate}. */
    public EncodedExample encode(Question q, int label) {
        return new EncodedExample(q.getId(), validate(q).encoded().tokens(), label);
    }

    @Override
    public void close() {
        current.release();
        baseAdapter.close();
        manager.close();
        model.close();
    }
}
