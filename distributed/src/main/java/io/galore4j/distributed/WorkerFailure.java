package io.galore4j.distributed;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a data-parallel worker failed, as the driver's restart loop needs to know it
 * (docs/design.md §3.9): a failure the workers can get past by starting again from the latest
 * checkpoint ({@link Kind#RESTART}), one the user must fix ({@link Kind#FIX}, {@link Kind#STALLED}), or
 * a stop the workers agreed on after a signal ({@link Kind#STOPPED}).
 *
 * <p>The worker throws this from its barrier task; Spark hands the driver the task's failure as
 * text (in local mode the exception object too), so the kind travels in the message's first line
 * and {@link #of(Throwable)} reads it back from either.
 */
public final class WorkerFailure extends RuntimeException {

    private static final long serialVersionUID = 1L;
    private static final Pattern LINE = Pattern.compile("galore worker failure \\[(\\w+)]: ([^\\r\\n]*)");

    /** What the driver does about a failure. */
    public enum Kind {
        /** Another worker failed or left: restart every worker from the latest checkpoint. */
        RESTART,
        /** Bad input or a failed training every worker saw: report it, do not restart. */
        FIX,
        /** A peer did not answer within train.exchange_timeout_s: report it, do not restart. */
        STALLED,
        /**
         * The workers stopped on a signal after saving a checkpoint (docs/design.md §4): end as a
         * stopped single process does, with the detail "EXIT-CODE message".
         */
        STOPPED
    }

    private final Kind kind;
    private final String detail;

    public WorkerFailure(Kind kind, String detail, Throwable cause) {
        super("galore worker failure [" + kind.name().toLowerCase(Locale.ROOT) + "]: " + oneLine(detail), cause);
        this.kind = kind;
        this.detail = oneLine(detail);
    }

    public Kind kind() {
        return kind;
    }

    /** The failure's one-line description, without the kind. */
    public String detail() {
        return detail;
    }

    /**
     * The worker failure {@code thrown} (what the driver caught from the stage) carries, or null
     * when it carries none: a worker JVM that died, for instance, fails the stage with Spark's own
     * message.
     */
    public static WorkerFailure of(Throwable thrown) {
        for (Throwable t = thrown; t != null; t = t.getCause()) {
            if (t instanceof WorkerFailure w) {
                return w;
            }
        }
        for (Throwable t = thrown; t != null; t = t.getCause()) {
            Matcher m = LINE.matcher(String.valueOf(t.getMessage()));
            if (m.find()) {
                return new WorkerFailure(Kind.valueOf(m.group(1).toUpperCase(Locale.ROOT)), m.group(2), null);
            }
        }
        return null;
    }

    private static String oneLine(String text) {
        String s = String.valueOf(text).strip();
        int end = s.indexOf('\n');
        return (end < 0 ? s : s.substring(0, end)).strip();
    }
}
