package io.galore4j.distributed;

import java.util.HashMap;
import ml.dmlc.xgboost4j.java.RabitTracker;
import ml.dmlc.xgboost4j.java.XGBoostError;

/**
 * The rendezvous of one collective: started on the driver for a fixed number of workers, it
 * hands out the arguments each worker passes to {@link Collective#join}. One tracker serves one
 * group of workers once; a restarted group gets a fresh tracker.
 */
public final class CollectiveTracker implements AutoCloseable {

    private final RabitTracker tracker;
    private final HashMap<String, Object> workerArgs;
    private boolean stopped;

    private CollectiveTracker(RabitTracker tracker, HashMap<String, Object> workerArgs) {
        this.tracker = tracker;
        this.workerArgs = workerArgs;
    }

    /**
     * Starts a tracker for {@code workers} workers listening on {@code host} (any free port);
     * workers that have not all joined within {@code timeoutSeconds} make it give up.
     */
    public static CollectiveTracker start(int workers, String host, int timeoutSeconds) {
        if (workers < 1) {
            throw new IllegalArgumentException("collective tracker: workers must be >= 1, got " + workers);
        }
        if (timeoutSeconds < 1) {
            throw new IllegalArgumentException(
                    "collective tracker: timeout must be >= 1 s, got " + timeoutSeconds);
        }
        RabitTracker tracker = null;
        try {
            tracker = new RabitTracker(workers, host, 0, timeoutSeconds);
            if (!tracker.start()) {
                throw new IllegalStateException("collective tracker: did not start on " + host);
            }
            return new CollectiveTracker(tracker, new HashMap<>(tracker.getWorkerArgs()));
        } catch (XGBoostError e) {
            stopQuietly(tracker);
            throw new IllegalStateException("collective tracker: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            stopQuietly(tracker);
            throw e;
        }
    }

    /** What each worker passes to {@link Collective#join}: serializable, for shipping to tasks. */
    public HashMap<String, Object> workerArgs() {
        return new HashMap<>(workerArgs);
    }

    /**
     * Stops the tracker, frees its port and ends its native thread; safe to call more than once.
     * Stopping a tracker whose workers have not all joined and left ends its wait for them, which
     * the native side reports as an error: that error is thrown here after the tracker is
     * stopped (inside a failed stage's try-with-resources it becomes a suppressed exception).
     */
    @Override
    public void close() {
        if (stopped) {
            return;
        }
        stopped = true;
        try {
            tracker.stop();
        } catch (XGBoostError e) {
            throw new IllegalStateException("collective tracker: stopped with an error from the "
                    + "native tracker (workers had not all joined and left?): " + condensed(e), e);
        }
    }

    /** The native message without its stack trace: the "- [file:line|time]: text" lines. */
    private static String condensed(XGBoostError e) {
        String message = String.valueOf(e.getMessage());
        String lines = message.lines().map(String::strip).filter(l -> l.startsWith("- ["))
                .reduce((a, b) -> a + " " + b).orElse("");
        return lines.isEmpty() ? message.strip() : lines;
    }

    private static void stopQuietly(RabitTracker tracker) {
        if (tracker == null) {
            return;
        }
        try {
            tracker.stop();
        } catch (XGBoostError | RuntimeException ignored) {
            // the start already failed; that failure is the one reported
        }
    }
}
