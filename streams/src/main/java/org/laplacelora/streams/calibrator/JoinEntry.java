package org.laplacelora.streams.calibrator;

import java.nio.ByteBuffer;

/**
 * What the join store holds per question id: whichever of question, prediction and label have come (Avro
 * binary), when the first of them came, and whether the prediction already met its label (joined) or its
 * label never came within the horizon (expired, kept one more horizon to recognise a late label).
 */
record JoinEntry(byte[] question, byte[] prediction, byte[] label, long firstSeen, boolean joined, boolean expired) {
    JoinEntry withQuestion(byte[] q) {
        return new JoinEntry(q, prediction, label, firstSeen, joined, expired);
    }

    JoinEntry withPrediction(byte[] p) {
        return new JoinEntry(question, p, label, firstSeen, joined, expired);
    }

    JoinEntry withLabel(byte[] l) {
        return new JoinEntry(question, prediction, l, firstSeen, joined, expired);
    }

    JoinEntry asJoined() {
        return new JoinEntry(question, prediction, label, firstSeen, true, expired);
    }

    JoinEntry asExpired(long at) {
        return new JoinEntry(null, null, null, at, joined, true);
    }

    byte[] encode() {
        int size = 8 + 2 + 12 + len(question) + len(prediction) + len(label);
        ByteBuffer b = ByteBuffer.allocate(size).putLong(firstSeen).put((byte) (joined ? 1 : 0)).put((byte) (expired ? 1 : 0));
        put(b, question);
        put(b, prediction);
        put(b, label);
        return b.array();
    }

    static JoinEntry decode(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        long firstSeen = b.getLong();
        boolean joined = b.get() == 1;
        boolean expired = b.get() == 1;
        return new JoinEntry(get(b), get(b), get(b), firstSeen, joined, expired);
    }

    private static int len(byte[] a) {
        return a == null ? 0 : a.length;
    }

    private static void put(ByteBuffer b, byte[] a) {
        b.putInt(a == null ? -1 : a.length);
        if (a != null) {
            b.put(a);
        }
    }

    private static byte[] get(ByteBuffer b) {
        int n = b.getInt();
        if (n < 0) {
            return null;
        }
        byte[] a = new byte[n];
        b.get(a);
        return a;
    }
}
