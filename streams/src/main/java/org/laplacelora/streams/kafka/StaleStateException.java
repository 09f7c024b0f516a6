package org.laplacelora.streams.kafka;

import org.apache.kafka.common.errors.SerializationException;

/** State (a store's changelog, an internal topic) written by an older version of the app, which this one cannot read. */
public final class StaleStateException extends SerializationException {
    private static final long serialVersionUID = 1L;

    StaleStateException(String record, String where, Throwable cause) {
        super("state written by an older version (a " + record + (where == null ? "" : " on " + where)
                + " in a format this version does not read): reset the application — stop every instance, run Kafka's "
                + "kafka-streams-application-reset --application-id <its id>, delete its --state-dir — then start it again", cause);
    }
}
