package org.laplacelora.model.tasks;

import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import org.laplacelora.model.tokenizer.Tokenizer;

/**
 * A task bound to a tokenizer: the one-token answers (chosen for all classes together, since the
 * prompt is shared) and the rule that turns a question into token ids.
 *
 * <p>Answers are the leading-space forms (" A", " B", ...) when every one of them is a single token,
 * which is what naturally follows "Answer:"; otherwise the prompt ends with a space and the bare forms
 * are used (stories260K's tokenizer has " B" but not " A"). When neither works, construction fails
 * naming the answer. BoolQ appends EOS, as the paper's code does, and its logits are read there.
 */
public final class Task {
    private final TaskKind kind;
    private final List<String> answers;
    private final int[] answerIds;
    private final boolean trailingSpace;

    private Task(TaskKind kind, List<String> answers, int[] answerIds, boolean trailingSpace) {
        this.kind = kind;
        this.answers = answers;
        this.answerIds = answerIds;
        this.trailingSpace = trailingSpace;
    }

    public static Task of(TaskKind kind, Tokenizer tokenizer) {
        if (kind == TaskKind.GENERIC) {
            throw new IllegalArgumentException("a generic task needs its answers: use Task.generic");
        }
        List<String> spaced = kind.answers().stream().map(a -> " " + a).toList();
        int[] ids = lookup(spaced, tokenizer);
        if (ids != null) {
            return new Task(kind, spaced, ids, false);
        }
        ids = lookup(kind.answers(), tokenizer);
        if (ids != null) {
            return new Task(kind, kind.answers(), ids, true);
        }
        String missing = kind.answers().stream()
                .filter(a -> tokenizer.pieceId(a).isEmpty())
                .findFirst().orElse(kind.answers().get(0));
        String missingSpaced = spaced.stream().filter(a -> tokenizer.pieceId(a).isEmpty()).findFirst().orElse(spaced.get(0));
        throw new IllegalArgumentException("task " + kind.id() + ": answer \"" + missing.strip()
                + "\" is not a single token of this tokenizer, neither as \"" + missingSpaced + "\" nor as \"" + missing
                + "\"; this model cannot score the task");
    }

    /** A raw-prompt task whose answers are given as they follow the prompt (each must be one token). */
    public static Task generic(List<String> answers, Tokenizer tokenizer) {
        if (answers.size() < 2) {
            throw new IllegalArgumentException("a generic question needs at least 2 answers, got " + answers.size());
        }
        int[] ids = new int[answers.size()];
        for (int i = 0; i < ids.length; i++) {
            OptionalInt id = tokenizer.pieceId(answers.get(i));
            if (id.isEmpty()) {
                throw new IllegalArgumentException("generic answer \"" + answers.get(i) + "\" is not a single token of this tokenizer");
            }
            ids[i] = id.getAsInt();
        }
        return new Task(TaskKind.GENERIC, List.copyOf(answers), ids, false);
    }

    private static int[] lookup(List<String> answers, Tokenizer tokenizer) {
        int[] ids = new int[answers.size()];
        for (int i = 0; i < ids.length; i++) {
            OptionalInt id = tokenizer.pieceId(answers.get(i));
            if (id.isEmpty()) {
                return null;
            }
            ids[i] = id.getAsInt();
        }
        return Arrays.stream(ids).distinct().count() == ids.length ? ids : null;
    }

    public TaskKind kind() {
        return kind;
    }

    /** The answer strings as tokens (with or without their leading space), in class order. */
    public List<String> answers() {
        return answers;
    }

    /** Token ids of the answers, in class order: the classifier's logits are logits[last, answerIds]. */
    public int[] answerIds() {
        return answerIds.clone();
    }

    public int numClasses() {
        return answerIds.length;
    }

    /** True when the bare answer forms are used and the prompt therefore ends with a space. */
    public boolean trailingSpace() {
        return trailingSpace;
    }

    /** The full prompt text the model reads. */
    public String prompt(TaskQuestion q) {
        requireMatches(q);
        return PromptTemplates.render(q) + (trailingSpace ? " " : "");
    }

    /** BOS, the prompt's tokens, and EOS for BoolQ. */
    public int[] encode(TaskQuestion q, Tokenizer tokenizer) {
        return tokenizer.encode(prompt(q), true, kind == TaskKind.BOOLQ);
    }

    /**
     * Encodes with a length limit. BoolQ keeps its EOS and loses the end of the passage (the paper's right
     * truncation); for the other tasks the end of the prompt is the question, so a longer prompt is refused.
     */
    public int[] encode(TaskQuestion q, Tokenizer tokenizer, int maxLength) {
        int[] ids = encode(q, tokenizer);
        if (ids.length <= maxLength) {
            return ids;
        }
        if (kind == TaskKind.BOOLQ) {
            int[] cut = Arrays.copyOf(ids, maxLength);
            cut[maxLength - 1] = ids[ids.length - 1];
            return cut;
        }
        throw new PromptTooLongException(q.id(), ids.length, maxLength);
    }

    /**
     * Encodes labelled examples for training or evaluation; prompts over {@code maxLength} tokens are
     * dropped and counted in {@code tooLong} (BoolQ is truncated instead).
     */
    public java.util.List<EncodedExample> encodeAll(java.util.List<Example> examples, Tokenizer tokenizer, int maxLength,
                                                    java.util.concurrent.atomic.AtomicInteger tooLong) {
        java.util.List<EncodedExample> out = new java.util.ArrayList<>();
        for (Example e : examples) {
            try {
                out.add(new EncodedExample(e.question().id(), encode(e.question(), tokenizer, maxLength), e.label()));
            } catch (PromptTooLongException ex) {
                tooLong.incrementAndGet();
            }
        }
        return out;
    }

    private void requireMatches(TaskQuestion q) {
        if (q.task() != kind) {
            throw new IllegalArgumentException("question " + q.id() + " is a " + q.task().id() + " question, not " + kind.id());
        }
        int expectedChoices = switch (kind) {
            case WINOGRANDE -> 2;
            case ARC, OBQA -> 4;
            default -> -1;
        };
        if (expectedChoices > 0 && q.choices().size() != expectedChoices) {
            throw new InvalidQuestionException(q.id(), InvalidQuestionException.Reason.BAD_CHOICES,
                    kind.id() + " needs " + expectedChoices + " choices, got " + q.choices().size());
        }
        if (kind == TaskKind.GENERIC && !q.answers().equals(answers)) {
            throw new InvalidQuestionException(q.id(), InvalidQuestionException.Reason.BAD_CHOICES,
                    "generic question answers " + q.answers() + " differ from the task's " + answers);
        }
        String text = kind == TaskKind.GENERIC ? q.prompt() : q.text();
        if (text == null || text.isBlank()) {
            throw new InvalidQuestionException(q.id(), InvalidQuestionException.Reason.EMPTY_TEXT, "empty question text");
        }
        if (kind == TaskKind.BOOLQ && (q.context() == null || q.context().isBlank())) {
            throw new InvalidQuestionException(q.id(), InvalidQuestionException.Reason.EMPTY_TEXT, "BoolQ question without a passage");
        }
    }
}
