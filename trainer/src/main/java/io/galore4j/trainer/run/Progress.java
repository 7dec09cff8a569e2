package io.galore4j.trainer.run;

import java.io.PrintStream;
import java.time.Duration;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarRenderer;
import me.tongfei.progressbar.ProgressBarStyle;
import me.tongfei.progressbar.ProgressState;

/**
 * Progress of a long run: on a terminal a progress bar whose line fits {@link #WIDTH} columns
 * (step, loss, tokens/s and ETA, each labelled); otherwise (CI logs, pipes, files) a plain line
 * every {@code every} steps and at the last step.
 */
public final class Progress implements AutoCloseable {

    /** The widest line the bar draws: an 80-column terminal shows it whole. */
    public static final int WIDTH = 80;

    /**
     * Stands for the terminal the progress bar library finds by itself; never drawn to. A plain
     * object, because the library's own consumers probe the terminal (starting processes) when
     * they are built, which a run without a terminal must not pay for.
     */
    static final ProgressBarConsumer CONSOLE = new ProgressBarConsumer() {
        @Override
        public int getMaxRenderedLength() {
            return WIDTH;
        }

        @Override
        public void accept(String line) {
        }

        @Override
        public void close() {
        }
    };

    private final ProgressBar bar;
    private final PrintStream log;
    private final int total;
    private final int first;
    private final int every;
    private final long startNanos = System.nanoTime();
    private volatile double loss = Double.NaN;
    private volatile double tokensPerSecond = Double.NaN;

    private Progress(String task, ProgressBarConsumer terminal, PrintStream log, int total, int first, int every) {
        this.log = log;
        this.total = total;
        this.first = first;
        this.every = every;
        if (terminal == null) {
            this.bar = null;
            return;
        }
        ProgressBarBuilder b = new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(total)
                .startsFrom(first, Duration.ZERO)
                .setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(500)
                .setMaxRenderedLength(WIDTH)
                .setRenderer(new Renderer());
        this.bar = (terminal == CONSOLE ? b : b.setConsumer(terminal)).build();
    }

    /**
     * A bar when standard output is a terminal, else a log line on {@code log} every {@code every}
     * steps ({@code train.log_every}) and at the last.
     */
    public static Progress of(String task, int totalSteps, int every, PrintStream log) {
        return of(task, 0, totalSteps, every, log);
    }

    /**
     * As {@link #of(String, int, int, PrintStream)} for a run resumed after {@code doneSteps} steps:
     * the ETA extrapolates from the steps of this process only.
     */
    public static Progress of(String task, int doneSteps, int totalSteps, int every, PrintStream log) {
        return of(task, doneSteps, totalSteps, every, log, System.console() != null ? CONSOLE : null);
    }

    /** As above, the bar drawn by {@code terminal} ({@link #CONSOLE}: the library's own), or log lines when null. */
    static Progress of(String task, int doneSteps, int totalSteps, int every, PrintStream log,
            ProgressBarConsumer terminal) {
        if (doneSteps < 0 || doneSteps > totalSteps) {
            throw new IllegalArgumentException("done steps " + doneSteps + " outside [0, " + totalSteps + "]");
        }
        if (every < 1) {
            throw new IllegalArgumentException("log every " + every + " steps: must be >= 1");
        }
        return new Progress(task, terminal, log, totalSteps, doneSteps, every);
    }

    /**
     * Reports the state after {@code done} steps (1-based count of completed steps); {@code last}
     * says the run ends with it (before train.steps when a time limit ends it).
     */
    public void update(int done, double loss, double lr, double tokensPerSecond, boolean last) {
        this.loss = loss;
        this.tokensPerSecond = tokensPerSecond;
        if (bar != null) {
            bar.stepTo(done);
        } else if (done % every == 0 || done == total || last) {
            log.printf("step %d/%d  loss %.4f lr %.2e %.0f tok/s  eta %s%n", done, total, loss, lr, tokensPerSecond,
                    format(eta(done, (System.nanoTime() - startNanos) / 1e9)));
        }
    }

    /** The time left after {@code done} steps, extrapolated from the steps of this process. */
    private Duration eta(long done, double elapsedSeconds) {
        return Duration.ofSeconds(done <= first ? 0 : Math.round(elapsedSeconds / (done - first) * (total - done)));
    }

    /** A line that must not be lost in the bar (evaluation results, warnings). */
    public void message(String line) {
        if (bar != null) {
            System.out.print("\r");
        }
        log.println(line);
    }

    /**
     * The bar's line: {@code task}, the percentage, the bar, then step, loss, tokens/s and ETA, in
     * at most {@code width} columns and never more than {@link #WIDTH}. The bar narrows first, then
     * the task name goes, then the figures are cut at the right edge.
     */
    static String line(String task, long done, long total, double loss, double tokensPerSecond, Duration eta,
            int columns) {
        int width = Math.min(columns, WIDTH);
        String figures = String.format(" step %d/%d loss %.4f tok/s %.0f eta %s", done, total, loss, tokensPerSecond,
                format(eta));
        String percent = String.format("%3d%%", total == 0 ? 100 : done * 100 / total);
        String head = task + " " + percent;
        if (head.length() + 2 + 10 + figures.length() > width) {
            head = percent; // a short bar with the figures, rather than the name
        }
        int barWidth = width - head.length() - 3 - figures.length();
        if (barWidth < 1) {
            String text = (head + figures).trim();
            return text.length() <= width ? text : text.substring(0, width);
        }
        int filled = (int) (total == 0 ? barWidth : Math.min(barWidth, done * barWidth / total));
        return head + " [" + "=".repeat(filled) + " ".repeat(barWidth - filled) + "]" + figures;
    }

    private static String format(Duration d) {
        return String.format("%d:%02d:%02d", d.toHours(), d.toMinutesPart(), d.toSecondsPart());
    }

    /** Draws {@link #line} for the bar's state. */
    private final class Renderer implements ProgressBarRenderer {
        @Override
        public String render(ProgressState state, int maxLength) {
            long done = state.getCurrent();
            double elapsed = state.getElapsedAfterStart().toNanos() / 1e9;
            return line(state.getTaskName(), done, state.getMax(), loss, tokensPerSecond, eta(done, elapsed),
                    maxLength > 0 ? maxLength : WIDTH);
        }
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }
}
