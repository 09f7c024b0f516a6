package org.laplacelora.schemas.registry;

import java.util.List;
import java.util.Locale;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;

/**
 * Confluent's compatibility levels, with Avro's schema-resolution check underneath. BACKWARD (the
 * default, and this project's rule): consumers on the new schema read data written with the old one.
 */
public enum Compatibility {
    BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE, NONE;

    public static Compatibility parse(String level) throws SchemaRegistryException {
        try {
            return valueOf(level.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new SchemaRegistryException(SchemaRegistryException.INVALID_COMPATIBILITY_LEVEL,
                    "Invalid compatibility level: " + level);
        }
    }

    /** Whether {@code candidate} may follow {@code existing} (oldest first) under this level. */
    public boolean allows(Schema candidate, List<Schema> existing) {
        if (this == NONE || existing.isEmpty()) {
            return true;
        }
        List<Schema> against = name().endsWith("TRANSITIVE") ? existing : List.of(existing.get(existing.size() - 1));
        for (Schema old : against) {
            boolean backward = readable(candidate, old);
            boolean forward = readable(old, candidate);
            boolean ok = switch (this) {
                case BACKWARD, BACKWARD_TRANSITIVE -> backward;
                case FORWARD, FORWARD_TRANSITIVE -> forward;
                case FULL, FULL_TRANSITIVE -> backward && forward;
                case NONE -> true;
            };
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** A reader with {@code reader} can decode data written with {@code writer}. */
    public static boolean readable(Schema reader, Schema writer) {
        return SchemaCompatibility.checkReaderWriterCompatibility(reader, writer).getType()
                == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE;
    }
}
