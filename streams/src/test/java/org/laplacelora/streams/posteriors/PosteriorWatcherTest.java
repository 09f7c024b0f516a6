package org.laplacelora.streams.posteriors;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Serializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.posterior.PriorPrecision;
import org.laplacelora.model.laplace.posterior.RandomPosterior;
import org.laplacelora.schemas.avro.PosteriorChunk;
import org.laplacelora.schemas.registry.InProcessSchemaRegistry;
import org.laplacelora.streams.ScorerFixture;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.scorer.QuestionScorer;

/** The watcher's assembly and verification, fed records by hand (the IT and the demo run it on a broker). */
class PosteriorWatcherTest {
    private static final String TOPIC = "posteriors";
    private static QuestionScorer questionScorer;
    private static ServedModel scorer;
    private static InProcessSchemaRegistry registryServer;
    private static KafkaSettings kafka;
    private static Serializer<SpecificRecord> serializer;
    private static long offset;

    @BeforeAll
    static void setUp() throws Exception {
        questionScorer = ScorerFixture.scorer();
        scorer = questionScorer.served();
        registryServer = InProcessSchemaRegistry.start(0, null);
        kafka = KafkaSettings.of("unused:9092", registryServer.url(), null, (short) 1);
        serializer = kafka.topics().posteriors().valueSerde().serializer();
    }

    @AfterAll
    static void tearDown() {
        registryServer.close();
        questionScorer.close();
    }

    private static PosteriorWatcher watcher() throws Exception {
        scorer.swap(scorer.posterior(), 0);
        return new PosteriorWatcher(kafka, scorer, "test");
    }

    private static ConsumerRecord<String, byte[]> record(String key, SpecificRecord value) {
        return new ConsumerRecord<>(TOPIC, 0, offset++, key, serializer.serialize(TOPIC, value));
    }

    /** A version's chunks and manifest as the refitter writes them. */
    private static void publish(PosteriorWatcher w, long version, byte[] file, java.util.function.UnaryOperator<List<PosteriorChunk>> tamper) {
        List<PosteriorChunk> chunks = PosteriorVersions.split(version, file, 4096);
        for (PosteriorChunk c : tamper.apply(chunks)) {
            w.take(record(PosteriorVersions.chunkKey(version, c.getIndex()), c));
        }
        w.take(record(PosteriorVersions.manifestKey(version), PosteriorVersionsTest.manifest(version, file, chunks.size())));
        w.serveNewest();
    }

    private static byte[] refitted(double lambda) throws Exception {
        return LaplacePosterior.fromBytes(scorer.posterior().toBytes()).withPrior(PriorPrecision.of(lambda)).toBytes();
    }

    @Test
    void aCompleteVersionIsSwappedInAndANewerOneReplacesIt() throws Exception {
        PosteriorWatcher w = watcher();
        publish(w, 1, refitted(0.5), c -> c);
        assertThat(scorer.posteriorVersion()).isEqualTo(1);
        assertThat(scorer.posterior().prior().lambda()).isEqualTo(0.5);
        publish(w, 2, refitted(0.25), c -> c);
        assertThat(scorer.posteriorVersion()).isEqualTo(2);
        assertThat(scorer.posterior().prior().lambda()).isEqualTo(0.25);
        assertThat(w.swaps()).isEqualTo(2);
        assertThat(w.rejections()).isZero();
        assertThat(w.newestVersionSeen()).isEqualTo(2);
    }

    @Test
    void aVersionWithACorruptChunkIsIgnoredAndTheOldOneKeepsServing() throws Exception {
        PosteriorWatcher w = watcher();
        publish(w, 1, refitted(0.5), c -> c);
        publish(w, 2, refitted(0.25), chunks -> {
            byte[] bad = new byte[chunks.get(1).getData().remaining()];
            chunks.get(1).getData().duplicate().get(bad);
            bad[100] ^= 0x40;
            chunks.get(1).setData(ByteBuffer.wrap(bad));
            return chunks;
        });
        assertThat(scorer.posteriorVersion()).isEqualTo(1);
        assertThat(scorer.posterior().prior().lambda()).isEqualTo(0.5);
        assertThat(w.rejections()).isEqualTo(1);
        // A later good version is still taken.
        publish(w, 3, refitted(0.125), c -> c);
        assertThat(scorer.posteriorVersion()).isEqualTo(3);
    }

    @Test
    void aVersionWithAMissingChunkIsIgnored() throws Exception {
        PosteriorWatcher w = watcher();
        publish(w, 1, refitted(0.5), chunks -> chunks.subList(0, chunks.size() - 1));
        assertThat(scorer.posteriorVersion()).isZero();
        assertThat(w.rejections()).isEqualTo(1);
    }

    @Test
    void aPosteriorOfAnotherModelIsIgnored() throws Exception {
        PosteriorWatcher w = watcher();
        publish(w, 1, RandomPosterior.forShapes(1, 8, 8, 2, 2, 2, 0).toBytes(), c -> c);
        assertThat(scorer.posteriorVersion()).isZero();
        assertThat(w.rejections()).isEqualTo(1);
    }

    @Test
    void aRetiredVersionIsForgotten() throws Exception {
        PosteriorWatcher w = watcher();
        publish(w, 1, refitted(0.5), c -> c);
        w.take(new ConsumerRecord<>(TOPIC, 0, offset++, PosteriorVersions.chunkKey(1, 0), null));
        w.take(new ConsumerRecord<>(TOPIC, 0, offset++, PosteriorVersions.manifestKey(1), null));
        assertThat(w.manifests()).isEmpty();
        assertThat(scorer.posteriorVersion()).as("the version in use keeps serving").isEqualTo(1);
    }

    /**
     * Whatever arrives on posteriors: bytes that are not Avro, a schema id the registry lacks, a record of another
     * type under a version's key, a key that names no version. Each version it claims is rejected (counted and
     * logged), the version in use keeps serving, and a later good version is taken.
     */
    @Test
    void hostileRecordsOnPosteriorsRejectTheirVersionAndTheOneInUseKeepsServing() throws Exception {
        PosteriorWatcher w = watcher();
        publish(w, 1, refitted(0.5), c -> c);
        w.take(raw(PosteriorVersions.chunkKey(2, 0), "not avro".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        w.take(raw(PosteriorVersions.manifestKey(3), new byte[] {0, 0, 0, 0x27, 0x0F, 2}));
        w.take(raw(PosteriorVersions.chunkKey(4, 0), kafka.topics().labels().serialize(org.laplacelora.schemas.avro.Label.newBuilder()
                .setQuestionId("x").setLabel(0).setLabelledAt(java.time.Instant.now()).build())));
        w.take(raw("someone else's key", new byte[] {1, 2, 3}));
        w.serveNewest();
        assertThat(w.rejections()).isEqualTo(3);
        assertThat(scorer.posteriorVersion()).as("the version in use keeps serving").isEqualTo(1);
        publish(w, 5, refitted(0.125), c -> c);
        assertThat(scorer.posteriorVersion()).isEqualTo(5);
    }

    private static ConsumerRecord<String, byte[]> raw(String key, byte[] value) {
        return new ConsumerRecord<>(TOPIC, 0, offset++, key, value);
    }
}
