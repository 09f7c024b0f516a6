package org.laplacelora.streams.serde;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/** Plain Avro binary for a topology's internal topics (no registry: writer and reader are the same build). */
public final class AvroBinarySerde {
    private AvroBinarySerde() {}

    public static <T extends SpecificRecord> Serde<T> of(Class<T> type) {
        return Serdes.serdeFrom((topic, v) -> v == null ? null : AvroBinary.encode(v),
                (topic, b) -> b == null ? null : AvroBinary.decode(b, type));
    }
}
