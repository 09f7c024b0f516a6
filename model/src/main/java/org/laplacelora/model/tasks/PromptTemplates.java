package org.laplacelora.model.tasks;

import java.util.List;

/**
 * The prompt templates of the paper's code ({@code adamxyang/laplace-lora}, {@code run_gpt.py}),
 * byte for byte, typos included: the WinoGrande template has no period after "B".
 */
public final class PromptTemplates {
    /** Recorded with posteriors, so a posterior is never used with prompts it was not fitted on. */
    public static final String VERSION = "laplace-lora-run_gpt-v1";
    private static final String SELECT = "Select one of the choices that answers the following question: ";
    private static final String[] LETTERS = {"A", "B", "C", "D"};

    private PromptTemplates() {}

    /** The prompt text, up to but not including the answer (and without the bare-answer trailing space). */
    public static String render(TaskQuestion q) {
        return switch (q.task()) {
            case WINOGRANDE -> SELECT + q.text() + " Choices: A. " + q.choices().get(0) + ". B " + q.choices().get(1)
                    + ". Answer:";
            case ARC, OBQA -> SELECT + q.text() + " Choices: " + multipleChoice(q.choices()) + " Answer:";
            case BOOLQ -> "Answer the question with only True or False: " + q.text() + " Context: " + q.context();
            case SENTIMENT -> "Review: " + q.text() + " Sentiment:";   // not the paper's: it has no sentiment task
            case GENERIC -> q.prompt();
        };
    }

    /** "A. Text. B. Text. ...", each choice with its first letter upper-cased and a final period. */
    private static String multipleChoice(List<String> choices) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < choices.size(); i++) {
            if (i > 0) {
                sb.append(' ');
            }
            sb.append(LETTERS[i]).append(". ").append(choiceText(choices.get(i)));
        }
        return sb.toString();
    }

    static String choiceText(String text) {
        String t = text.isEmpty() ? text : Character.toUpperCase(text.charAt(0)) + text.substring(1);
        return t.endsWith(".") ? t : t + ".";
    }
}
