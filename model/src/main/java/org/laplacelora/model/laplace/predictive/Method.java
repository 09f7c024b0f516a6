package org.laplacelora.model.laplace.predictive;

import java.util.Arrays;
import java.util.Locale;

/** The predictive methods the paper compares, by the ids that reports, metrics and dashboards use. */
public enum Method {
    /** softmax of the MAP logits. */
    MAP("MAP"),
    /** softmax of the MAP logits over the fitted temperature. */
    TEMPERATURE("Temperature scaling"),
    /** Last-layer Laplace: the LM head's LoRA blocks alone, with their own prior precision. */
    LLLA("Last-layer Laplace"),
    /** Laplace-LoRA: every LoRA block. */
    LAPLACE("Laplace-LoRA");

    private final String title;

    Method(String title) {
        this.title = title;
    }

    /** "map", "temperature", "llla" or "laplace". */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** How tables name it. */
    public String title() {
        return title;
    }

    public static Method parse(String id) {
        for (Method m : values()) {
            if (m.id().equals(id.trim().toLowerCase(Locale.ROOT))) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown method \"" + id + "\"; expected one of "
                + Arrays.stream(values()).map(Method::id).toList());
    }
}
