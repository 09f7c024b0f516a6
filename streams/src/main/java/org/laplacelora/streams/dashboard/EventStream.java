package org.laplacelora.streams.dashboard;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Server-sent events: every event so far (bounded, oldest dropped first) to a page that connects, then each new one
 * as it comes. Hand-written because it is thirty lines on the JDK's server; a web framework would be the only library.
 */
final class EventStream {
    private final int capacity;
    /** Events a page may fall behind beyond the history before it is dropped (it reconnects and starts over). */
    private static final int PAGE_SLACK = 10_000;
    private final ArrayDeque<String> history = new ArrayDeque<>();
    private final List<BlockingQueue<String>> clients = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    EventStream(int capacity) {
        this.capacity = capacity;
    }

    void publish(ObjectNode event) {
        String data = "data: " + event.toString() + "\n\n";
        synchronized (history) {
            if (history.size() >= capacity) {
                history.removeFirst();
            }
            history.add(data);
            clients.forEach(c -> c.offer(data));   // a page too far behind (a full queue) is dropped below
        }
    }

    int clients() {
        return clients.size();
    }

    /** Serves one page until it goes away or the stream closes (each page has its own server thread). */
    void serve(HttpExchange x) throws IOException {
        BlockingQueue<String> queue = new LinkedBlockingQueue<>(capacity + PAGE_SLACK);
        synchronized (history) {
            queue.addAll(history);
            clients.add(queue);
        }
        x.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        x.getResponseHeaders().set("Cache-Control", "no-cache");
        x.sendResponseHeaders(200, 0);
        try (OutputStream out = x.getResponseBody()) {
            while (!closed && queue.remainingCapacity() > 0) {
                String data = queue.poll(15, TimeUnit.SECONDS);
                out.write((data == null ? ": keep-alive\n\n" : data).getBytes(StandardCharsets.UTF_8));
                List<String> more = new ArrayList<>();
                queue.drainTo(more);
                for (String d : more) {
                    out.write(d.getBytes(StandardCharsets.UTF_8));
                }
                out.flush();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // the page went away
        } finally {
            clients.remove(queue);
        }
    }

    void close() {
        closed = true;
    }
}
