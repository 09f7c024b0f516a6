package org.laplacelora.streams.scorer;

import java.nio.ByteBuffer;

/** A buffered input record, as the micro-batch store keeps it: where it came from, when, and its raw bytes. */
record PendingQuestion(String topic, int partition, long offset, long arrivedAt, byte[] key, byte[] value) {
    byte[] encode() {
        byte[] t = topic.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        int keyLength = key == null ? -1 : key.length;
        ByteBuffer b = ByteBuffer.allocate(4 + t.length + 4 + 8 + 8 + 4 + Math.max(0, keyLength) + value.length);
        b.putInt(t.length).put(t).putInt(partition).putLong(offset).putLong(arrivedAt).putInt(keyLength);
        if (key != null) {
            b.put(key);
        }
        return b.put(value).array();
    }

    static PendingQuestion decode(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        byte[] t = new byte[b.getInt()];
        b.get(t);
        int partition = b.getInt();
        long offset = b.getLong();
        long arrivedAt = b.getLong();
        int keyLength = b.getInt();
        byte[] key = null;
        if (keyLength >= 0) {
            key = new byte[keyLength];
            b.get(key);
        }
        byte[] value = new byte[b.remaining()];
        b.get(value);
        return new PendingQuestion(new String(t, java.nio.charset.StandardCharsets.UTF_8), partition, offset, arrivedAt, key, value);
    }
}
