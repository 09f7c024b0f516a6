package org.laplacelora.streams.refit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RefitTriggersTest {
    /** debounce 1 s, cooldown 10 s, every 5 labels, interval 60 s, lookback 25. */
    private static RefitterSettings settings(int everyLabels, Duration interval) {
        RefitterSettings d = RefitterSettings.defaults();
        return new RefitterSettings(100, Duration.ofHours(1), everyLabels, interval, Duration.ofSeconds(1), Duration.ofSeconds(10), 8, 25,
                3, d.chunkBytes(), d.refit());
    }

    @Test
    void aBurstOfDriftEventsGivesOneRefitOnceTheDebounceHasPassed() {
        RefitTriggers t = new RefitTriggers(settings(0, Duration.ZERO), null);
        assertThat(t.drift(415, true, 0, 0, 1_000)).isNull();
        assertThat(t.drift(449, true, 0, 0, 1_300)).isNull();
        assertThat(t.drift(430, true, 0, 0, 1_900)).isNull();
        assertThat(t.due(1_999)).as("within the debounce").isNull();
        RefitTriggers.Due due = t.due(2_000);
        assertThat(due).isNotNull();
        assertThat(due.trigger()).isEqualTo("drift");
        assertThat(due.events()).isEqualTo(3);
        assertThat(due.fromSequence()).as("earliest detection minus the lookback").isEqualTo(415 - 25);
        t.refitted(2_000);
        assertThat(t.due(2_500)).as("acted on: nothing pending").isNull();
        // More drift events from the same burst land in the cooldown: no second refit.
        assertThat(t.drift(499, true, 0, 0, 2_100)).contains("cooldown");
        assertThat(t.due(3_500)).isNull();
    }

    @Test
    void aSteadyStreamOfEventsCannotPostponeTheRefit() {
        RefitTriggers t = new RefitTriggers(settings(0, Duration.ZERO), null);
        for (long now = 0; now < 1_000; now += 100) {
            t.drift(now, true, 0, 0, now);
        }
        assertThat(t.due(1_000)).isNotNull();
    }

    @Test
    void aChangePointAfterTheBurstMovesTheStartAndALevelAlarmDoesNot() {
        RefitTriggers t = new RefitTriggers(settings(0, Duration.ZERO), null);
        t.drift(2305, true, 1, 1, 1_000);      // a first alarm (here a false one)
        t.drift(2399, false, 1, 1, 4_000);     // an ECE window: the level is high, no new onset
        assertThat(t.due(4_000).fromSequence()).isEqualTo(2305 - 25);
        t.drift(2428, true, 1, 1, 5_000);      // the onset of the real shift, after the burst
        RefitTriggers.Due due = t.due(5_000);
        assertThat(due.fromSequence()).as("outcomes before the latest change are not used").isEqualTo(2428 - 25);
        assertThat(due.events()).isEqualTo(3);
        t.drift(2300, true, 1, 1, 6_000);      // an older onset reported late does not move it back
        assertThat(t.due(6_000).fromSequence()).isEqualTo(2428 - 25);
    }

    @Test
    void onlyANewOnsetAfterARunningRefitsRowsOvertakesIt() {
        RefitTriggers t = new RefitTriggers(settings(0, Duration.ZERO), null);
        t.drift(1210, true, 0, 0, 1_000);
        RefitTriggers.Due due = t.due(2_000);   // the refit runs on the outcomes from 1185 to 1650
        t.drift(1699, false, 0, 0, 3_000);      // the old version is still as bad as it was: no new onset
        t.drift(1500, true, 0, 0, 3_500);       // an onset within its rows: they were all it had
        assertThat(t.changeAfter(1650)).isEqualTo(-1);
        t.drift(1725, true, 0, 0, 4_000);       // an onset after its last row
        assertThat(t.changeAfter(1650)).isEqualTo(1725 - 25);
        t.overtaken(1725 - 25, 5_000);
        assertThat(t.due(5_999)).as("debounced again from now").isNull();
        RefitTriggers.Due next = t.due(6_000);
        assertThat(next.fromSequence()).isEqualTo(1725 - 25);
        assertThat(next.trigger()).isEqualTo(due.trigger()).isEqualTo("drift");
        t.refitted(6_000);
        assertThat(t.changeAfter(0)).as("nothing pending").isEqualTo(-1);
    }

    @Test
    void staleDriftEventsAreIgnored() {
        RefitTriggers t = new RefitTriggers(settings(0, Duration.ZERO), null);
        assertThat(t.drift(500, true, 1, 2, 0)).startsWith("stale");
        assertThat(t.due(10_000)).isNull();
    }

    @Test
    void everyMLabelsAndTheIntervalTrigger() {
        RefitTriggers labels = new RefitTriggers(settings(5, Duration.ZERO), null);
        for (int i = 0; i < 4; i++) {
            labels.label(i);
        }
        assertThat(labels.due(5_000)).isNull();
        labels.label(4);
        assertThat(labels.due(4 + 999)).as("debounced").isNull();
        assertThat(labels.due(4 + 1_000).trigger()).isEqualTo("labels");
        labels.refitted(2_000);
        assertThat(labels.state().labelsSinceRefit()).isZero();

        RefitTriggers interval = new RefitTriggers(settings(0, Duration.ofSeconds(60)), null);
        interval.tick(0);
        interval.tick(59_999);
        assertThat(interval.due(59_999)).isNull();
        interval.tick(60_000);
        assertThat(interval.due(61_000).trigger()).isEqualTo("interval");
        interval.refitted(61_000);
        interval.tick(61_000 + 59_999);
        assertThat(interval.due(200_000)).as("the interval counts from the last refit").isNull();
    }

    @Test
    void aManualRequestFiresAtOnceWhateverTheCooldown() {
        RefitTriggers t = new RefitTriggers(settings(0, Duration.ZERO), null);
        t.manual(0);
        assertThat(t.due(0).manual()).isTrue();
        t.refitted(0);
        t.manual(100);
        assertThat(t.due(100)).as("in the cooldown, still at once").isNotNull();
    }

    @Test
    void theStateSurvivesARestart() {
        RefitTriggers t = new RefitTriggers(settings(5, Duration.ZERO), null);
        t.drift(415, true, 0, 0, 1_000);
        t.label(1_100);
        RefitTriggers restarted = new RefitTriggers(settings(5, Duration.ZERO), t.encode());
        assertThat(restarted.state()).isEqualTo(t.state());
        assertThat(restarted.due(2_000).fromSequence()).isEqualTo(390);
    }
}
