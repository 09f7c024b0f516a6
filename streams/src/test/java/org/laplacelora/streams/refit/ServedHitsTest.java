package org.laplacelora.streams.refit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.schemas.avro.Prediction;

class ServedHitsTest {
    /** An outcome of {@code version}'s prediction (always choice 0), right or not. */
    private static LabelledOutcome outcome(long sequence, long version, boolean right) {
        Prediction p = Prediction.newBuilder().setQuestionId("q" + sequence).setTask("winogrande").setLaplace(List.of(0.7, 0.3))
                .setMap(List.of(0.7, 0.3)).setTemperature(List.of(0.7, 0.3)).setPredicted(0).setConfidence(0.7).setEntropy(0)
                .setEpistemic(0).setLogitMean(List.of(0.0, 0.0)).setLogitCovariance(List.of(0.0, 0.0, 0.0, 0.0)).setPosteriorVersion(version)
                .setModel("m").setAdapter("a").setQueueLatencyMs(0).setComputeLatencyMs(0).setBatchSize(1).setScoredAt(Instant.EPOCH).build();
        return LabelledOutcome.newBuilder().setPrediction(p).setLabel(right ? 0 : 1).setSequence(sequence).setJoinedAt(Instant.EPOCH).build();
    }

    /** {@code n} outcomes of version 0 from {@code first} on, each right with probability {@code accuracy}. */
    private static List<LabelledOutcome> stream(long first, int n, double accuracy, Random random) {
        List<LabelledOutcome> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(outcome(first + i, 0, random.nextDouble() < accuracy));
        }
        return out;
    }

    @Test
    void theZIsTheTwoProportionTestsAndOtherVersionsAreLeftOut() {
        List<LabelledOutcome> rows = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            rows.add(outcome(i, 0, i < 30));
            rows.add(outcome(1000 + i, 1, true));                 // another version's: not counted
        }
        ServedHits before = ServedHits.of(rows, 0);
        assertThat(before).isEqualTo(new ServedHits(0, 30, 100));
        ServedHits after = new ServedHits(0, 45, 100);
        // pooled 0.375: z = 0.15 / sqrt(0.375 · 0.625 · (1/100 + 1/100))
        assertThat(before.z(after)).isCloseTo(0.15 / Math.sqrt(0.375 * 0.625 * 0.02), within(1e-12));
        assertThat(before.z(new ServedHits(0, 0, 0))).isZero();
        assertThat(new ServedHits(0, 0, 50).z(new ServedHits(0, 0, 40))).as("all agree").isZero();
    }

    @Test
    void anUnchangedStreamShowsNoChangeInTwoThousandRefits() {
        Random random = new Random(7);
        int changes = 0;
        for (int trial = 0; trial < 2000; trial++) {
            ServedHits rows = ServedHits.of(stream(0, 420, 0.25, random), 0);
            if (rows.changeIn(stream(420, 300, 0.25, random)) != null) {
                changes++;
            }
        }
        assertThat(changes).as("false alarms (about 0.6 expected: 5 suffixes at |z| > 4)").isLessThanOrEqualTo(2);
    }

    @Test
    void aChangeIsFoundInTheLatestOutcomesAndStartsAfterIt() {
        Random random = new Random(8);
        int found = 0;
        for (int trial = 0; trial < 200; trial++) {
            ServedHits rows = ServedHits.of(stream(0, 420, 0.25, random), 0);
            List<LabelledOutcome> since = new ArrayList<>(stream(420, 200, 0.25, random));
            since.addAll(stream(620, 60, 0.75, random));        // the stream went back to what the version knows
            ServedHits.Change c = rows.changeIn(since);
            if (c != null) {
                found++;
                assertThat(c.fromSequence()).as("no outcome from before the change").isGreaterThanOrEqualTo(620);
                assertThat(c.z()).isGreaterThan(ServedHits.CHANGE_Z);
            }
        }
        assertThat(found).as("of 200 changes 60 outcomes old").isGreaterThanOrEqualTo(195);
        assertThat(ServedHits.of(stream(0, 420, 0.25, random), 0).changeIn(stream(420, 29, 1, random)))
                .as("fewer than 30 outcomes say nothing").isNull();
    }
}
