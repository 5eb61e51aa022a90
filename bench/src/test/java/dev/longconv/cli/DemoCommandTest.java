package dev.longconv.cli;

import dev.longconv.ops.Backends;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `longconv demo` runs every op on every available backend against the reference and exits 0. */
class DemoCommandTest {
    @Test
    void everyOpOnEveryBackendIsWithinTolerance() {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true),
                "demo", "--repeats", "1", "--time-ms", "0", "--warm-ms", "0");
        assertEquals(0, code, out + "\n" + err);
        String table = out.toString();
        assertTrue(table.contains("all results within tolerance"), table);
        for (String op : new String[] {"causal-conv", "toeplitz-conv", "short-conv", "ski", "causal-spectrum", "rfft", "irfft", "gemm"}) {
            assertTrue(table.contains(op), op + " in\n" + table);
        }
        Backends.statuses().stream().filter(Backends.Status::available)
                .forEach(s -> assertTrue(table.contains(" " + s.name() + " "), s.name() + " in\n" + table));
    }
}
