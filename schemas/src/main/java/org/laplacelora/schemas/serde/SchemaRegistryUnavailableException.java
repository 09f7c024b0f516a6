package org.laplacelora.schemas.serde;

import org.apache.kafka.common.errors.RetriableException;

/**
 * The registry could not be asked (unreachable, timed out, a server error after the client's own retries): a
 * transient failure, never a reason to dead-letter a record. Services let it fail the record's processing, and
 * it is tried again once the registry answers. A definite answer (a schema id it does not have) is a
 * {@link org.apache.kafka.common.errors.SerializationException} instead.
 */
public class SchemaRegistryUnavailableException extends RetriableException {
    private static final long serialVersionUID = 1L;

    public SchemaRegistryUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
