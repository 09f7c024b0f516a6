package org.laplacelora.model.tasks;

/** A prompt longer than the model's context (or the configured limit). */
public class PromptTooLongException extends InvalidQuestionException {
    private static final long serialVersionUID = 1L;

    public PromptTooLongException(String questionId, int tokens, int limit) {
        super(questionId, Reason.TOO_LONG, "prompt has " + tokens + " tokens, more than the limit of " + limit);
    }
}
