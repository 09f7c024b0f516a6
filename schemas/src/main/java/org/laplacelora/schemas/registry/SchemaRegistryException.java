package org.laplacelora.schemas.registry;

import java.io.IOException;

/**
 * An error answer of a schema registry: Confluent's {@code {"error_code": 40403, "message": "..."}} with
 * the HTTP status being the code's first three digits (40401 subject not found, 40402 version not found,
 * 40403 schema not found, 409 incompatible schema, 42201 invalid schema, 42202 invalid version,
 * 42203 invalid compatibility level, 50001-50003 server errors).
 */
public class SchemaRegistryException extends IOException {
    private static final long serialVersionUID = 1L;
    public static final int SUBJECT_NOT_FOUND = 40401;
    public static final int VERSION_NOT_FOUND = 40402;
    public static final int SCHEMA_NOT_FOUND = 40403;
    public static final int INCOMPATIBLE_SCHEMA = 409;
    public static final int INVALID_SCHEMA = 42201;
    public static final int INVALID_VERSION = 42202;
    public static final int INVALID_COMPATIBILITY_LEVEL = 42203;
    public static final int BACKEND_ERROR = 50001;

    private final int errorCode;

    public SchemaRegistryException(int errorCode, String message) {
        super(message + " (error_code " + errorCode + ")");
        this.errorCode = errorCode;
    }

    public int errorCode() {
        return errorCode;
    }

    /** The HTTP status of an error code: its first three digits. */
    public static int httpStatus(int errorCode) {
        int status = errorCode;
        while (status >= 1000) {
            status /= 10;
        }
        return status;
    }

    /** Server-side failures are worth retrying; client errors are not. */
    public boolean retriable() {
        return httpStatus(errorCode) >= 500;
    }
}
