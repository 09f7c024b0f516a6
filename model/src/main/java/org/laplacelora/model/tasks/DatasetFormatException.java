package org.laplacelora.model.tasks;

import java.io.IOException;
import java.nio.file.Path;

/** A malformed dataset row: the message starts with "file:line:". */
public class DatasetFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public DatasetFormatException(Path file, int line, String message) {
        super(file + ":" + line + ": " + message);
    }
}
