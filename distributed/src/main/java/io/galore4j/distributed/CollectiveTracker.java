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

    /** Stops the tracker and frees its port; safe to call more than once. */
    @Override
    public void close() {
        if (stopped) {
            return;
        }
        stopped = true;
        try {
            tracker.stop();
        } catch (XGBoostError e) {
            throw new IllegalStateException("collective tracker: stop failed: " + e.getMessage(), e);
        }
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
