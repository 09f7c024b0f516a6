package org.laplacelora.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Frees the native memory of every Java direct buffer that nothing holds any more and writes over freed memory, so
 * that a tensor still reading such a buffer (after DJL closed its owner) reads garbage instead of the old values.
 */
public final class FreedMemory {
    private FreedMemory() {}

    public static void collectAndOverwrite() {
        for (int round = 0; round < 3; round++) {
            System.gc();
            try {
                Thread.sleep(50);   // the direct buffers' cleaner frees their memory on its own thread
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            List<ByteBuffer> flood = new ArrayList<>();
            for (int i = 0; i < 20_000; i++) {
                ByteBuffer b = ByteBuffer.allocateDirect(4 + 4 * (i % 64)).order(ByteOrder.nativeOrder());
                while (b.hasRemaining()) {
                    b.putFloat(1e30f);
                }
                flood.add(b);
            }
            flood.clear();
        }
    }
}
