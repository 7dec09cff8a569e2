package io.galore4j.quant;

/** Exceptions of work split over the fork-join pool. */
public final class WorkerExceptions {
    private WorkerExceptions() {
    }

    /**
     * The exception a worker thread threw, where {@code e} is the copy the pool made of it for
     * the waiting thread (same class, the original as cause and its {@code toString()} as
     * message); otherwise {@code e} itself, so an exception thrown on the waiting thread, or one
     * that wraps another on purpose, keeps its own message.
     */
    public static IllegalArgumentException original(IllegalArgumentException e) {
        if (e.getCause() instanceof IllegalArgumentException cause && e.getClass() == cause.getClass()
                && cause.toString().equals(e.getMessage())) {
            return cause;
        }
        return e;
    }
}
