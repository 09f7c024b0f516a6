package org.laplacelora.streams.refit;

import io.soabase.recordbuilder.core.RecordBuilder;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;
import org.laplacelora.schemas.state.TriggerState;

/**
 * When to refit. Drift events, every M labels, an interval and manual requests all become one pending
 * trigger, which fires the debounce time after its first event: whatever else comes meanwhile (a burst of
 * drift events from two detectors) joins it, so a burst gives one refit, and a steady stream of events
 * cannot put the refit off forever. After a refit, automatic triggers are ignored for the cooldown; a manual
 * request fires at once. A drift event about a posterior version older than the one being served is stale
 * (it was detected before the last swap) and ignored. Kept in the refitter's state store, so it survives a
 * restart. A refit uses the outcomes from its earliest drift event on, except that a change point detected after the
 * burst that opened the trigger (a new onset: a first alarm may be a false one, or an earlier shift) moves the start
 * to it: outcomes before the latest change are not the distribution the refit should learn. For the same reason a
 * drift refit overtaken by such an onset while it ran (its rows all before it), or by a change its caller saw in
 * the outcomes labelled meanwhile, is not published: the trigger stays pending, from the change.
 */
public final class RefitTriggers {
    /** A trigger that fired: what caused it (e.g. "drift+labels"), how many events, and the first outcome to use. */
    public record Due(String trigger, int events, long fromSequence, boolean manual) {}

    /** The state; times in ms, -1 for never; {@code pending} empty when nothing is pending. */
    @RecordBuilder
    public record State(long lastRefitAt, long intervalFrom, long labelsSinceRefit, Set<Trigger> pending, int events,
                        long firstTriggerAt, long lastTriggerAt, long fromSequence, boolean manual)
            implements RefitTriggersStateBuilder.With {
        public State {
            pending = Set.copyOf(pending);
        }

        static State initial() {
            return new State(-1, -1, 0, Set.of(), 0, -1, -1, 0, false);
        }

        /** The pending kinds as reports name them: "drift", "drift+labels", ... */
        String name() {
            return pending.stream().sorted().map(Trigger::id).collect(Collectors.joining("+"));
        }
    }

    private final RefitterSettings settings;
    private State s;

    /** @param stored the state a previous run left, or null for none */
    public RefitTriggers(RefitterSettings settings, TriggerState stored) {
        this.settings = settings;
        this.s = stored == null ? State.initial() : new State(stored.getLastRefitAt(), stored.getIntervalFrom(),
                stored.getLabelsSinceRefit(), stored.getPending().stream().map(Trigger::valueOf).collect(Collectors.toSet()),
                stored.getEvents(), stored.getFirstTriggerAt(), stored.getLastTriggerAt(), stored.getFromSequence(), stored.getManual());
    }

    /** The state as the refitter's store keeps it. */
    public TriggerState encode() {
        return TriggerState.newBuilder().setLastRefitAt(s.lastRefitAt()).setIntervalFrom(s.intervalFrom())
                .setLabelsSinceRefit(s.labelsSinceRefit())
                .setPending(new ArrayList<>(s.pending().stream().sorted().map(Trigger::name).toList()))
                .setEvents(s.events()).setFirstTriggerAt(s.firstTriggerAt()).setLastTriggerAt(s.lastTriggerAt())
                .setFromSequence(s.fromSequence()).setManual(s.manual()).build();
    }

    public State state() {
        return s;
    }

    /** A new label arrived. */
    public void label(long now) {
        s = s.withLabelsSinceRefit(s.labelsSinceRefit() + 1);
        if (settings.everyLabels() > 0 && s.labelsSinceRefit() >= settings.everyLabels() && !s.pending().contains(Trigger.LABELS)
                && !coolingDown(now)) {
            add(Trigger.LABELS, now, 0);
        }
    }

    /**
     * A drift event; returns why it was ignored, or null when it became (part of) the pending trigger.
     *
     * @param atOutcome the outcome sequence at which it was detected
     * @param changePoint whether its detector marks an onset ({@code Detector#changePoint})
     * @param eventVersion the posterior version the detector was watching
     */
    public String drift(long atOutcome, boolean changePoint, long eventVersion, long servingVersion, long now) {
        if (eventVersion < servingVersion) {
            return "stale: detected on version " + eventVersion + ", version " + servingVersion + " is serving now";
        }
        if (coolingDown(now)) {
            return "within the cooldown after the refit at " + s.lastRefitAt();
        }
        long from = Math.max(0, atOutcome - settings.driftLookback());
        if (s.pending().contains(Trigger.DRIFT) && now - s.firstTriggerAt() >= settings.debounce().toMillis()) {
            // After the burst that opened the trigger: only a new onset moves the start, and only forward.
            s = s.withFromSequence(changePoint ? Math.max(s.fromSequence(), from) : s.fromSequence()).withEvents(s.events() + 1)
                    .withLastTriggerAt(now);
            return null;
        }
        add(Trigger.DRIFT, now, from);
        return null;
    }

    /** A manual request (refit --now): fires at the next check, whatever the debounce and cooldown. */
    public void manual(long now) {
        add(Trigger.MANUAL, now, 0);
    }

    /** The interval trigger; called on every check. */
    public void tick(long now) {
        if (s.intervalFrom() < 0) {
            s = s.withIntervalFrom(now);
        }
        long interval = settings.interval().toMillis();
        if (interval > 0 && now - Math.max(s.intervalFrom(), s.lastRefitAt()) >= interval && !s.pending().contains(Trigger.INTERVAL)
                && !coolingDown(now)) {
            add(Trigger.INTERVAL, now, 0);
        }
    }

    /** The pending trigger if it should fire now, else null. */
    public Due due(long now) {
        if (s.pending().isEmpty()) {
            return null;
        }
        if (s.manual()) {
            return new Due(s.name(), s.events(), s.fromSequence(), true);
        }
        if (now - s.firstTriggerAt() < settings.debounce().toMillis() || coolingDown(now)) {
            return null;
        }
        return new Due(s.name(), s.events(), s.fromSequence(), false);
    }

    /**
     * The onset of a change detected while a drift refit ran, after {@code lastSequence} (the last outcome it was
     * given), or -1 for none. While it runs its drift trigger stays pending and only a change point moves the
     * trigger's start forward, so a start beyond the refit's rows is such an onset.
     */
    public long changeAfter(long lastSequence) {
        return s.pending().contains(Trigger.DRIFT) && s.fromSequence() > lastSequence ? s.fromSequence() : -1;
    }

    /**
     * A drift refit was overtaken by a change (see {@link #changeAfter}) from outcome {@code from} on: its trigger stays
     * pending, starting there, and waits its debounce again from now; there is no cooldown, since nothing was published.
     */
    public void overtaken(long from, long now) {
        s = s.withFromSequence(Math.max(s.fromSequence(), from)).withFirstTriggerAt(now).withLastTriggerAt(now);
    }

    /** The pending trigger was acted on (refit published or rejected): clear it and start the cooldown. */
    public void refitted(long now) {
        s = new State(now, s.intervalFrom(), 0, Set.of(), 0, -1, -1, 0, false);
    }

    private boolean coolingDown(long now) {
        return s.lastRefitAt() >= 0 && now - s.lastRefitAt() < settings.cooldown().toMillis();
    }

    private void add(Trigger kind, long now, long fromSequence) {
        EnumSet<Trigger> kinds = EnumSet.of(kind);
        kinds.addAll(s.pending());
        long from = kind != Trigger.DRIFT ? s.fromSequence()
                : s.pending().contains(Trigger.DRIFT) ? Math.min(s.fromSequence(), fromSequence) : fromSequence;
        s = new State(s.lastRefitAt(), s.intervalFrom(), s.labelsSinceRefit(), kinds, s.events() + 1,
                s.pending().isEmpty() ? now : s.firstTriggerAt(), now, from, s.manual() || kind == Trigger.MANUAL);
    }
}
