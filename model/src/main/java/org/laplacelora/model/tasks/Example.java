package org.laplacelora.model.tasks;

/** A question with its correct class (0-based), or -1 when the source has no label. */
public record Example(TaskQuestion question, int label) {
    public boolean labelled() {
        return label >= 0;
    }
}
