package org.laplacelora.streams.scorer;

import org.laplacelora.model.tasks.InvalidQuestionException;

/** Why the scorer dead-lettered a record: the codes of the DeadLetter contract's {@code reason}. */
public enum DeadLetterReason {
    /** Not a question in the registry's wire format (or a tombstone). */
    UNDECODABLE,
    /** A task this scorer's posterior does not serve. */
    UNKNOWN_TASK,
    /** Choices (or a generic question's answers) that do not fit the task. */
    BAD_CHOICES,
    /** No question text, or a BoolQ question without its passage. */
    EMPTY_TEXT,
    /** A prompt longer than the limit. */
    TOO_LONG,
    /** Scoring it failed (the message says how); the rest of its batch was scored. */
    INTERNAL;

    public static DeadLetterReason of(InvalidQuestionException.Reason r) {
        return valueOf(r.name());
    }
}
