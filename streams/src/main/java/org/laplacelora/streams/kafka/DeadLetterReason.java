package org.laplacelora.streams.kafka;

/** Why a service dead-lettered a record: the codes of the DeadLetter contract's {@code reason}. */
public enum DeadLetterReason {
    /** Not a record of the topic's type in the registry's wire format: bytes that are not Avro, a schema id the registry does not have, another type's schema, a tombstone. */
    UNDECODABLE,
    /** The record's key is not the id it carries (questions and labels are keyed by question id). */
    KEY_MISMATCH,
    /** A question id already scored (the first wins). */
    DUPLICATE_ID,
    /** A task this scorer's posterior does not serve. */
    UNKNOWN_TASK,
    /** Choices (or a generic question's answers) that do not fit the task. */
    BAD_CHOICES,
    /** No question text, or a BoolQ question without its passage. */
    EMPTY_TEXT,
    /** A prompt longer than the limit. */
    TOO_LONG,
    /** Scoring it failed (the message says how); the rest of its batch was scored. */
    INTERNAL,
    /** A label index outside the question's choices. */
    LABEL_OUT_OF_RANGE,
    /** A second label for a question already labelled (the first wins). */
    DUPLICATE_LABEL,
    /** A label whose question was never predicted within the label horizon. */
    NO_PREDICTION
}
