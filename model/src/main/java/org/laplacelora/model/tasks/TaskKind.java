package org.laplacelora.model.tasks;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** The benchmark tasks of the paper, sentiment for a benchmark with a domain shift, and a generic raw-prompt task. */
public enum TaskKind {
    WINOGRANDE(List.of("A", "B")),
    ARC(List.of("A", "B", "C", "D")),
    OBQA(List.of("A", "B", "C", "D")),
    BOOLQ(List.of("False", "True")),
    /** Two-class sentiment of a review sentence (SST-2 and the UCI review sentences): index 0 = negative. */
    SENTIMENT(List.of("negative", "positive")),
    /** A raw prompt and caller-given one-token answers. */
    GENERIC(List.of());

    private final List<String> answers;

    TaskKind(List<String> answers) {
        this.answers = answers;
    }

    /** The answer words, in class order (BoolQ: index 0 = False, 1 = True). */
    public List<String> answers() {
        return answers;
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static TaskKind parse(String name) {
        for (TaskKind k : values()) {
            if (k.id().equals(name.trim().toLowerCase(Locale.ROOT))) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown task \"" + name + "\"; expected one of "
                + Arrays.stream(values()).map(TaskKind::id).toList());
    }
}
