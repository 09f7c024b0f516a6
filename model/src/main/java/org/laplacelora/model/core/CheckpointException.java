package org.laplacelora.model.core;

import java.io.IOException;

/** A checkpoint, adapter or tokenizer that cannot be used: the message names the file and what is wrong. */
public class CheckpointException extends IOException {
    private static final long serialVersionUID = 1L;

    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
