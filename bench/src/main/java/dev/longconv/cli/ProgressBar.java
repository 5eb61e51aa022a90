package dev.longconv.cli;

import java.io.PrintWriter;

/**
 * A one-line progress bar redrawn in place on stderr, only when stderr is a terminal: redraws with carriage returns
 * would fill a log file or a pipe, and a later error line would start in the middle of one. Labels are cut at a word
 * boundary.
 */
final class ProgressBar {
    private static final int WIDTH = 30, LABEL = 48;
    private final PrintWriter err;
    private final int total;
    private final boolean shown;
    private int done;

    ProgressBar(PrintWriter err, int total) {
        this(err, total, System.console() != null && System.console().isTerminal());
    }

    ProgressBar(PrintWriter err, int total, boolean shown) {
        this.err = err;
        this.total = Math.max(total, 1);
        this.shown = shown;
    }

    void step(String label) {
        if (shown) {
            int filled = WIDTH * done / total;
            err.printf("\r[%s%s] %3d/%d %-" + LABEL + "s", "#".repeat(filled), "-".repeat(WIDTH - filled), done + 1, total, fit(label));
            err.flush();
        }
        done++;
    }

    void done() {
        if (!shown) return;
        err.printf("\r[%s] %d/%d done%s%n", "#".repeat(WIDTH), total, total, " ".repeat(LABEL));
        err.flush();
    }

    /** The label, cut at the last space before the width (with an ellipsis) when it is too long. */
    static String fit(String label) {
        if (label.length() <= LABEL) return label;
        int cut = label.lastIndexOf(' ', LABEL - 3);
        return label.substring(0, cut > 0 ? cut : LABEL - 3) + "...";
    }
}
