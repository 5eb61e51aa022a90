package dev.longconv.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The progress bar draws only on a terminal and cuts labels between words. */
class ProgressBarTest {
    @Test
    void offATerminalNothingIsDrawn() {
        StringWriter w = new StringWriter();
        ProgressBar bar = new ProgressBar(new PrintWriter(w, true), 3, false);
        bar.step("a");
        bar.done();
        assertEquals("", w.toString());
        ProgressBar shown = new ProgressBar(new PrintWriter(w, true), 3, true);
        shown.step("a");
        assertTrue(w.toString().startsWith("\r["), w.toString());
    }

    @Test
    void longLabelsAreCutBetweenWords() {
        String label = "short-conv B=2 D=8 L=4096 bdl W=4 causal reference and some more words";
        String fit = ProgressBar.fit(label);
        assertTrue(fit.length() <= 48 && fit.endsWith("...") && label.startsWith(fit.substring(0, fit.length() - 3)), fit);
        assertTrue(label.charAt(fit.length() - 3) == ' ', "cut at a space: " + fit);
        assertEquals("ski r=32", ProgressBar.fit("ski r=32"));
    }
}
