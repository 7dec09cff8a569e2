package io.galore4j.trainer.run;

import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGINT (Ctrl-C) and SIGTERM while a run trains. The first signal asks the training loop that
 * {@linkplain #listen listens} to stop after the step under way: it writes a checkpoint, says how
 * to resume and ends with {@link RunStopped} (exit code 128 + the signal's number: 130 for SIGINT,
 * 143 for SIGTERM). A second signal, a second or more after the first, ends the process at once
 * with the same exit code, without a checkpoint; one sooner is taken as part of the first (Ctrl-C
 * reaches every process of a terminal's group, and a parent such as {@code galore sweep} passes
 * its own signal on to its child). When no loop listens (loading, building the model, the final
 * save) a signal ends the process as the JVM would: shutdown hooks, then exit 128 + number. (A
 * signal in the instant between the loop's last check and its end lets the run finish.)
 *
 * <p>sun.misc.Signal (module jdk.unsupported) rather than a shutdown hook: a hook cannot choose to
 * let the process go on until the step is done, and once the JVM shuts down a second signal
 * cannot end it any sooner.
 */
public final class StopSignal {

    private static final long REPEAT_NANOS = 1_000_000_000L;

    private static boolean installed;
    private static int listeners;
    private static Stop requested;
    private static long requestedAt;

    /** A signal that asked to stop: its name (INT, TERM) and the exit code it stands for. */
    public record Stop(String name, int exitCode) {
        /** A data-parallel replica that stops because another replica received a signal (docs/design.md §3.9). */
        public static final Stop ELSEWHERE = new Stop("INT or SIGTERM at another worker", 130);

        public String describe() {
            return "SIG" + name;
        }

        /** The exception that ends the command once the loop saved its progress; see {@link Listener#stopped}. */
        public RunStopped stopped(String message) {
            return new RunStopped(exitCode, message);
        }
    }

    private StopSignal() {
    }

    /**
     * Installs the handlers for INT and TERM (once per process; the command line's entry point
     * does it). A signal the process ignores (a background job's SIGINT) stays ignored, and a JVM
     * that reserves the signals (-Xrs) keeps its own handling.
     */
    public static synchronized void install() {
        if (installed) {
            return;
        }
        installed = true;
        for (String name : new String[] {"INT", "TERM"}) {
            try {
                Signal.handle(new Signal(name), handler(name));
            } catch (IllegalArgumentException reserved) {
                // the JVM keeps this signal (e.g. -Xrs): its default handling applies
            }
        }
    }

    /**
     * Installs the handler for INT only: a data-parallel worker's process (docs/design.md §3.9),
     * which Ctrl-C on the driver's terminal reaches too, and which its engine ends with TERM.
     */
    public static synchronized void installInterrupt() {
        if (installed) {
            return;
        }
        try {
            Signal.handle(new Signal("INT"), handler("INT"));
        } catch (IllegalArgumentException reserved) {
            // the JVM keeps this signal: its default handling applies
        }
    }

    /**
     * Asks the training loop to stop as {@code stop} would (a data-parallel worker told by its
     * driver, which received the signal); no effect when a stop was already asked for.
     */
    public static synchronized void request(Stop stop) {
        if (requested == null) {
            requested = stop;
            requestedAt = System.nanoTime();
        }
    }

    private static SignalHandler handler(String name) {
        return sig -> received(new Stop(name, 128 + sig.getNumber()));
    }

    private static void received(Stop stop) {
        boolean exit;
        synchronized (StopSignal.class) {
            long now = System.nanoTime();
            if (requested != null && now - requestedAt < REPEAT_NANOS) {
                return; // the same request, delivered twice
            }
            if (requested != null) {
                System.err.println("galore: " + stop.describe() + " again: stopping at once, without a checkpoint");
                System.err.flush();
                Runtime.getRuntime().halt(stop.exitCode());
            }
            requested = stop;
            requestedAt = now;
            exit = listeners == 0;
        }
        if (exit) {
            System.exit(stop.exitCode());
        }
        System.out.println("galore: " + stop.describe() + ": stopping after the step under way "
                + "(send it again to stop at once)");
        System.out.flush();
    }

    /**
     * Marks a training loop as listening until the returned handle is closed: signals then only
     * ask it to stop ({@link Listener#requested}), which it checks between steps.
     */
    public static synchronized Listener listen() {
        listeners++;
        return new Listener();
    }

    /** A training loop's view of the signals; see {@link StopSignal}. */
    public static final class Listener implements AutoCloseable {
        private boolean closed;

        private Listener() {
        }

        /** The signal that asked to stop, or null. */
        public Stop requested() {
            synchronized (StopSignal.class) {
                return requested;
            }
        }

        /**
         * The exception that ends the command once the loop has saved its progress for
         * {@link #requested()}: {@code message} says where the run is and how to continue it.
         */
        public RunStopped stopped(String message) {
            return requested().stopped(message);
        }

        /** Stops listening; when no loop listens any more, a stop that was asked for is forgotten. */
        @Override
        public void close() {
            synchronized (StopSignal.class) {
                if (!closed) {
                    closed = true;
                    listeners--;
                    if (listeners == 0) {
                        requested = null; // the loops it stopped have ended (a JVM running several runs: tests)
                    }
                }
            }
        }
    }
}
