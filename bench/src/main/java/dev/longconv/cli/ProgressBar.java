package dev.longconv.cli;

import java.io.PrintWriter;

/** A one-line progress bar redrawn in place on stderr. */
final class ProgressBar {
    private static final int WIDTH = 30;
    private final PrintWriter err;
    private final int total;
    private int done;

    ProgressBar(PrintWriter err, int total) {
        this.err = err;
        this.total = Math.max(total, 1);
    }

    void step(String label) {
        int filled = WIDTH * done / total;
        String text = label.length() > 48 ? label.substring(0, 48) : label;
        err.printf("\r[%s%s] %3d/%d %-48s", "#".repeat(filled), "-".repeat(WIDTH - filled), done + 1, total, text);
        err.flush();
        done++;
    }

    void done() {
        err.printf("\r[%s] %d/%d done%s%n", "#".repeat(WIDTH), total, total, " ".repeat(48));
        err.flush();
    }
}
