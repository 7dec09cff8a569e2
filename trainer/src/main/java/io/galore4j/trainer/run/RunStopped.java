package io.galore4j.trainer.run;

/**
 * A run that stopped on a signal ({@link StopSignal}) after saving its progress: the message says
 * where it stopped and how to continue; the command line prints it and exits with
 * {@link #exitCode} (128 + the signal's number).
 */
public final class RunStopped extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int exitCode;

    RunStopped(int exitCode, String message) {
        super(message, null, false, false);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
