package org.laplacelora.streams.posteriors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.laplacelora.schemas.avro.PosteriorChunk;
import org.laplacelora.schemas.avro.PosteriorManifest;

class PosteriorVersionsTest {
    static byte[] file(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    static PosteriorManifest manifest(long version, byte[] file, int chunks) {
        return PosteriorManifest.newBuilder().setVersion(version).setSha256(PosteriorVersions.sha256(file)).setChunks(chunks)
                .setBytes(file.length).setModel("m").setAdapter("a").setPriorPrecision(1).setExamples(1).setFactorRank(1)
                .setConvention("paper").setTrigger("test").setCreatedAt(java.time.Instant.EPOCH).build();
    }

    static Map<Integer, PosteriorChunk> byIndex(List<PosteriorChunk> chunks) {
        Map<Integer, PosteriorChunk> m = new HashMap<>();
        chunks.forEach(c -> m.put(c.getIndex(), c));
        return m;
    }

    @Test
    void aFileSplitIntoChunksAssemblesBackExactly() throws Exception {
        byte[] f = file(10_000, 1);
        List<PosteriorChunk> chunks = PosteriorVersions.split(7, f, 3_000);
        assertThat(chunks).hasSize(4);
        assertThat(chunks).allSatisfy(c -> assertThat(c.getData().remaining()).isLessThanOrEqualTo(3_000));
        assertThat(PosteriorVersions.assemble(manifest(7, f, 4), byIndex(chunks))).isEqualTo(f);
    }

    @Test
    void aMissingChunkIsRefused() {
        byte[] f = file(10_000, 2);
        Map<Integer, PosteriorChunk> chunks = byIndex(PosteriorVersions.split(3, f, 3_000));
        chunks.remove(2);
        assertThatThrownBy(() -> PosteriorVersions.assemble(manifest(3, f, 4), chunks))
                .isInstanceOf(PosteriorVersions.InvalidVersionException.class).hasMessageContaining("chunk 2 of 4 is missing");
    }

    @Test
    void aCorruptChunkIsRefusedBySha256() {
        byte[] f = file(10_000, 3);
        Map<Integer, PosteriorChunk> chunks = byIndex(PosteriorVersions.split(3, f, 3_000));
        ByteBuffer data = chunks.get(1).getData();
        byte[] bad = new byte[data.remaining()];
        data.duplicate().get(bad);
        bad[17] ^= 1;
        chunks.get(1).setData(ByteBuffer.wrap(bad));
        assertThatThrownBy(() -> PosteriorVersions.assemble(manifest(3, f, 4), chunks))
                .isInstanceOf(PosteriorVersions.InvalidVersionException.class).hasMessageContaining("sha256");
    }

    @Test
    void aChunkOfAnotherVersionIsRefused() {
        byte[] f = file(6_000, 4);
        Map<Integer, PosteriorChunk> chunks = byIndex(PosteriorVersions.split(3, f, 3_000));
        chunks.put(1, PosteriorVersions.split(4, f, 3_000).get(1));
        assertThatThrownBy(() -> PosteriorVersions.assemble(manifest(3, f, 2), chunks))
                .isInstanceOf(PosteriorVersions.InvalidVersionException.class).hasMessageContaining("belongs to version 4");
    }

    @Test
    void keysSortByVersionAndParseBack() {
        assertThat(PosteriorVersions.chunkKey(12, 3)).isEqualTo("v000000000012|c000003");
        assertThat(PosteriorVersions.versionOf(PosteriorVersions.manifestKey(12))).isEqualTo(12);
        assertThat(PosteriorVersions.isManifestKey(PosteriorVersions.manifestKey(12))).isTrue();
        assertThat(PosteriorVersions.versionOf("junk")).isEqualTo(-1);
        assertThat(PosteriorVersions.chunkKey(9, 0)).isLessThan(PosteriorVersions.chunkKey(10, 0));
    }
}
