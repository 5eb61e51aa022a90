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

    /** --json: the rows and a per-backend summary (geometric-mean speedup over scalar, worst error) as one JSON object. */
    @Test
    @SuppressWarnings("unchecked")
    void jsonHasTheRowsAndAPerBackendSummary() {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true),
                "demo", "--repeats", "1", "--time-ms", "0", "--warm-ms", "0", "--json");
        assertEquals(0, code, out + "\n" + err);
        var root = (java.util.Map<String, Object>) Charts.Json.parse(out.toString());
        assertEquals(Boolean.TRUE, root.get("all_within_tolerance"));
        var results = (java.util.List<java.util.Map<String, Object>>) root.get("results");
        var summary = (java.util.List<java.util.Map<String, Object>>) root.get("summary");
        long available = Backends.statuses().stream().filter(Backends.Status::available).count();
        assertEquals(available, summary.size(), summary.toString());
        for (var s : summary) {
            assertTrue(((Number) s.get("worst_rel_l2_error")).doubleValue() <= 1e-5, s.toString());
            assertTrue(!((String) s.get("purpose")).isBlank(), s.toString());
            if (s.get("backend").equals("scalar")) assertEquals(1.0, ((Number) s.get("geomean_speedup_over_scalar")).doubleValue(), 1e-12);
        }
        assertTrue(results.size() > 50, "rows: " + results.size());
    }
}
