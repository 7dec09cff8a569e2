package io.galore4j.trainer.run;

import java.io.PrintStream;
import java.time.Duration;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of a long run: a progress bar (step, loss, lr, tokens/s, ETA) on a terminal, plain log
 * lines otherwise (CI logs, pipes, files).
 */
public final class Progress implements AutoCloseable {

    private final ProgressBar bar;
    private final PrintStream log;
    private final int total;
    private final int first;
    private final long startNanos = System.nanoTime();

    private Progress(ProgressBar bar, PrintStream log, int total, int first) {
        this.bar = bar;
        this.log = log;
        this.total = total;
        this.first = first;
    }

    /** A bar when standard output is a terminal, else log lines on {@code log}. */
    public static Progress of(String task, int totalSteps, PrintStream log) {
        return of(task, 0, totalSteps, log);
    }

    /**
     * As {@link #of(String, int, PrintStream)} for a run resumed after {@code doneSteps} steps:
     * the ETA extrapolates from the steps of this process only.
     */
    public static Progress of(String task, int doneSteps, int totalSteps, PrintStream log) {
        if (doneSteps < 0 || doneSteps > totalSteps) {
            throw new IllegalArgumentException("done steps " + doneSteps + " outside [0, " + totalSteps + "]");
        }
        if (System.console() == null) {
            return new Progress(null, log, totalSteps, doneSteps);
        }
        ProgressBar bar = new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(totalSteps)
                .startsFrom(doneSteps, Duration.ZERO)
                .setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(500)
                .showSpeed()
                .build();
        return new Progress(bar, log, totalSteps, doneSteps);
    }

    /** Reports the state after {@code step} steps (1-based count of completed steps). */
    public void update(int done, double loss, double lr, double tokensPerSecond) {
        String extra = String.format("loss %.4f lr %.2e %.0f tok/s", loss, lr, tokensPerSecond);
        if (bar != null) {
            bar.stepTo(done);
            bar.setExtraMessage(extra);
        } else {
            double elapsed = (System.nanoTime() - startNanos) / 1e9;
            long etaSeconds = done <= first ? 0 : Math.round(elapsed / (done - first) * (total - done));
            log.printf("step %d/%d  %s  eta %s%n", done, total, extra, format(Duration.ofSeconds(etaSeconds)));
        }
    }

    /** A line that must not be lost in the bar (evaluation results, warnings). */
    public void message(String line) {
        if (bar != null) {
            System.out.print("\r");
        }
        log.println(line);
    }

    private static String format(Duration d) {
        return String.format("%d:%02d:%02d", d.toHours(), d.toMinutesPart(), d.toSecondsPart());
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }
}
