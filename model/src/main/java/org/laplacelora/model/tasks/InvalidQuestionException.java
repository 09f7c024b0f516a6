package org.laplacelora.model.tasks;

/** A question the scorer cannot score; the reason codes are those of the dead-letter contract. */
public class InvalidQuestionException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public enum Reason { UNKNOWN_TASK, BAD_CHOICES, EMPTY_TEXT, TOO_LONG }

    private final String questionId;
    private final Reason reason;

    public InvalidQuestionException(String questionId, Reason reason, String message) {
        super("question " + questionId + ": " + message);
        this.questionId = questionId;
        this.reason = reason;
    }

    public String questionId() {
        return questionId;
    }

    public Reason reason() {
        return reason;
    }
}
