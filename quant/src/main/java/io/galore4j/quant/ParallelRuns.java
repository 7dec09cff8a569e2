package io.galore4j.quant;

import java.util.stream.IntStream;

/**
 * Work over [0, length) split into runs of a fixed size, done in order on the calling thread or
 * spread over the fork-join common pool and the calling thread. Callers that need the same result
 * either way give each run its own state (scratch arrays, random stream by run index).
 */
public final class ParallelRuns {
    /** One run: elements [start, start + n). */
    public interface Run {
        void process(int start, int n);
    }

    private ParallelRuns() {
    }

    /**
     * Calls {@code run} for every run of {@code size} elements of [0, length), the last one
     * shorter; in order when {@code parallel} is false. An IllegalArgumentException thrown by a run
     * on a worker thread reaches the caller as itself, not as the pool's copy of it.
     */
    public static void forEach(int length, int size, boolean parallel, Run run) {
        int runs = (int) (((long) length + size - 1) / size);
        if (!parallel) {
            for (int i = 0; i < runs; i++) {
                int start = i * size;
                run.process(start, Math.min(size, length - start));
            }
            return;
        }
        try {
            IntStream.range(0, runs).parallel().forEach(i -> {
                int start = i * size;
                run.process(start, Math.min(size, length - start));
            });
        } catch (IllegalArgumentException e) {
            throw original(e);
        }
    }

    /**
     * The exception a worker thread threw, where {@code e} is the copy the pool made of it for
     * the waiting thread (same class, the original as cause and its {@code toString()} as
     * message); otherwise {@code e} itself, so an exception thrown on the waiting thread, or one
     * that wraps another on purpose, keeps its own message.
     */
    private static IllegalArgumentException original(IllegalArgumentException e) {
        if (e.getCause() instanceof IllegalArgumentException cause && e.getClass() == cause.getClass()
                && cause.toString().equals(e.getMessage())) {
            return cause;
        }
        return e;
    }
}
