package org.laplacelora.model.refit;

import java.util.Locale;

/** What a refit may change. */
public enum RefitMode {
    /**
     * The online Laplace update: the current posterior is the prior, the LoRA weights move to the MAP of the
     * new data under it, and the new curvature is added to the tempered old one. A version carries both.
     */
    ONLINE,
    /** The adapter stays; only the curvature (optionally blended with the current one) and λ are re-fitted. */
    CURVATURE;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static RefitMode parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown refit mode '" + s + "' (online or curvature)", e);
        }
    }
}
