package org.laplacelora.schemas.registry;

import java.io.IOException;
import java.util.List;
import org.apache.avro.Schema;

/** The part of the Confluent Schema Registry API the serdes and the tools use. Subjects are {@code <topic>-value} / {@code <topic>-key}. */
public interface SchemaRegistry {
    /** Registers a schema under a subject (or finds it there) and returns its global id. */
    int register(String subject, Schema schema) throws IOException;

    /** The id of a schema already registered under a subject; {@link SchemaRegistryException#SCHEMA_NOT_FOUND} otherwise. */
    int lookup(String subject, Schema schema) throws IOException;

    /** The schema with a global id. */
    Schema byId(int id) throws IOException;

    /** A registered version of a subject. */
    record Version(String subject, int version, int id, Schema schema) {}

    /** The newest version of a subject. */
    Version latest(String subject) throws IOException;

    List<Integer> versions(String subject) throws IOException;

    List<String> subjects() throws IOException;

    /** Whether {@code schema} may be registered as the subject's next version under its compatibility level. */
    boolean compatible(String subject, Schema schema) throws IOException;

    /** The compatibility level of a subject, or the global one when {@code subject} is null. */
    String compatibility(String subject) throws IOException;

    void setCompatibility(String subject, String level) throws IOException;

    /** Deletes a subject; returns the versions it had. */
    List<Integer> delete(String subject) throws IOException;
}
