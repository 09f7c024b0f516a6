package org.laplacelora.streams.refit;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.TreeSet;

/**
 * When to refit. Drift events, every M labels, an interval and manual requests all become one pending
 * trigger, which fires the debounce time after its first event: whatever else comes meanwhile (a burst of
 * drift events from two detectors) joins it, so a burst gives one refit, and a steady stream of events
 * cannot put the refit off forever. After a refit, automatic triggers are ignored for the cooldown; a manual
 * request fires at once. A drift event about a posterior version older than the one being served is stale
 * (it was detected before the last swap) and ignored. Kept in the refitter's state store, so it survives a
 * restart.
 */
public final class RefitTriggers {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A trigger that fired: what caused it (e.g. "drift+labels"), how many events, and the first outcome to use. */
    public record Due(String trigger, int events, long fromSequence, boolean manual) {}

    /** The persisted state; times in ms, -1 for never. */
    public record State(long lastRefitAt, long intervalFrom, long labelsSinceRefit, String pending, int events,
                        long firstTriggerAt, long lastTriggerAt, long fromSequence, boolean manual) {
        static State initial() {
            return new State(-1, -1, 0, null, 0, -1, -1, 0, false);
        }
    }

    private final RefitSettings settings;
    private State s;

    public RefitTriggers(RefitSettings settings, byte[] stored) {
        this.settings = settings;
        try {
            this.s = stored == null ? State.initial() : JSON.readValue(stored, State.class);
        } catch (IOException e) {
            throw new UncheckedIOException("refitter trigger state unreadable", e);
        }
    }

    public byte[] encode() {
        try {
            return JSON.writeValueAsBytes(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public State state() {
        return s;
    }

    /** A new label arrived. */
    public void label(long now) {
        s = with(s.labelsSinceRefit() + 1);
        if (settings.everyLabels() > 0 && s.labelsSinceRefit() >= settings.everyLabels() && !pending("labels") && !coolingDown(now)) {
            add("labels", now, 0, false);
        }
    }

    /**
     * A drift event; returns why it was ignored, or null when it became (part of) the pending trigger.
     *
     * @param atOutcome the outcome sequence at which it was detected
     * @param eventVersion the posterior version the detector was watching
     */
    public String drift(long atOutcome, long eventVersion, long servingVersion, long now) {
        if (eventVersion < servingVersion) {
            return "stale: detected on version " + eventVersion + ", version " + servingVersion + " is serving now";
        }
        if (coolingDown(now)) {
            return "within the cooldown after the refit at " + s.lastRefitAt();
        }
        add("drift", now, Math.max(0, atOutcome - settings.driftLookback()), false);
        return null;
    }

    /** A manual request (refit --now): fires at the next check, whatever the debounce and cooldown. */
    public void manual(long now) {
        add("manual", now, 0, true);
    }

    /** The interval trigger; called on every check. */
    public void tick(long now) {
        if (s.intervalFrom() < 0) {
            s = new State(s.lastRefitAt(), now, s.labelsSinceRefit(), s.pending(), s.events(), s.firstTriggerAt(), s.lastTriggerAt(),
                    s.fromSequence(), s.manual());
        }
        long interval = settings.interval().toMillis();
        if (interval > 0 && now - Math.max(s.intervalFrom(), s.lastRefitAt()) >= interval && !pending("interval") && !coolingDown(now)) {
            add("interval", now, 0, false);
        }
    }

    /** The pending trigger if it should fire now, else null. */
    public Due due(long now) {
        if (s.pending() == null) {
            return null;
        }
        if (s.manual()) {
            return new Due(s.pending(), s.events(), s.fromSequence(), true);
        }
        if (now - s.firstTriggerAt() < settings.debounce().toMillis() || coolingDown(now)) {
            return null;
        }
        return new Due(s.pending(), s.events(), s.fromSequence(), false);
    }

    /** The pending trigger was acted on (refit published or rejected): clear it and start the cooldown. */
    public void refitted(long now) {
        s = new State(now, s.intervalFrom(), 0, null, 0, -1, -1, 0, false);
    }

    private boolean pending(String kind) {
        return s.pending() != null && java.util.List.of(s.pending().split("\\+")).contains(kind);
    }

    private boolean coolingDown(long now) {
        return s.lastRefitAt() >= 0 && now - s.lastRefitAt() < settings.cooldown().toMillis();
    }

    private void add(String kind, long now, long fromSequence, boolean manual) {
        TreeSet<String> kinds = new TreeSet<>();
        if (s.pending() != null) {
            kinds.addAll(java.util.List.of(s.pending().split("\\+")));
        }
        kinds.add(kind);
        long from = !kind.equals("drift") ? s.fromSequence() : pending("drift") ? Math.min(s.fromSequence(), fromSequence) : fromSequence;
        s = new State(s.lastRefitAt(), s.intervalFrom(), s.labelsSinceRefit(), String.join("+", kinds), s.events() + 1,
                s.pending() == null ? now : s.firstTriggerAt(), now, from, s.manual() || manual);
    }

    private State with(long labels) {
        return new State(s.lastRefitAt(), s.intervalFrom(), labels, s.pending(), s.events(), s.firstTriggerAt(), s.lastTriggerAt(),
                s.fromSequence(), s.manual());
    }
}
