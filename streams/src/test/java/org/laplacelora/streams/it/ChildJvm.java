package org.laplacelora.streams.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * {@code ./laplace-lora ARGS} as a JVM of its own (this test's java and class path), so that a test can stop it the
 * way an operator or the kernel does: SIGTERM ({@link #terminate}) or SIGKILL ({@link #kill}). Its stdout and stderr
 * are read line by line as they come.
 */
final class ChildJvm implements AutoCloseable {
    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> seen = new ArrayList<>();

    ChildJvm(String... args) throws IOException {
        // Plain java, as `java -jar` runs it: only the launcher's DJL offline flag (nothing may be downloaded).
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx512m",
                "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"), "org.laplacelora.streams.cli.LaplaceLora"));
        command.addAll(List.of(args));
        process = new ProcessBuilder(command).redirectErrorStream(true).start();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("(output closed: " + e.getMessage() + ")");
            }
        }, "child-jvm-output");
        reader.setDaemon(true);
        reader.start();
    }

    /** The first line of output that {@code match} accepts; fails with everything seen if none comes in time. */
    String awaitLine(Predicate<String> match, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            String line = lines.poll(100, TimeUnit.MILLISECONDS);
            if (line != null) {
                seen.add(line);
                if (match.test(line)) {
                    return line;
                }
            } else if (!process.isAlive() && lines.isEmpty()) {
                break;
            }
        }
        throw new AssertionError("no matching line within " + timeout + (process.isAlive() ? "" : " (exited " + process.exitValue() + ")")
                + "; output so far:\n" + String.join("\n", seen));
    }

    /** Everything read so far, and whatever else comes within a moment. */
    String output() throws InterruptedException {
        for (String line; (line = lines.poll(200, TimeUnit.MILLISECONDS)) != null; ) {
            seen.add(line);
        }
        return String.join("\n", seen);
    }

    /** SIGTERM (Ctrl-C's effect on a JVM: the shutdown hooks run); its exit code. */
    int terminate(Duration timeout) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("still running " + timeout + " after SIGTERM:\n" + output());
        }
        return process.exitValue();
    }

    /** SIGKILL: no shutdown hook, no flush, no goodbye. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    boolean alive() {
        return process.isAlive();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }
}
