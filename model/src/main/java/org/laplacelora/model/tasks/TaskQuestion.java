package org.laplacelora.model.tasks;

import java.util.List;

/**
 * A question as producers send it; the scorer, not the producer, renders the task's prompt.
 *
 * @param text the stem (ARC, OBQA, BoolQ question) or the sentence with its blank (WinoGrande)
 * @param choices the options in order (empty for BoolQ)
 * @param context the BoolQ passage, else null
 * @param prompt the raw prompt of a generic question, else null
 * @param answers the one-token answers of a generic question, else empty
 */
public record TaskQuestion(String id, TaskKind task, String text, List<String> choices, String context, String prompt,
                       List<String> answers) {
    public TaskQuestion {
        choices = choices == null ? List.of() : List.copyOf(choices);
        answers = answers == null ? List.of() : List.copyOf(answers);
    }

    /** Number of classes: the task's answers, or the generic question's own. */
    public int numClasses() {
        return task == TaskKind.GENERIC ? answers.size() : task.answers().size();
    }
}
