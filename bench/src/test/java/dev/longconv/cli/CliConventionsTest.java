package dev.longconv.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tool's conventions: help everywhere, version from the build, one-line errors, completion, charts. */
class CliConventionsTest {
    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(code, out.toString(), err.toString());
    }

    /** Every command path: [info], [run], [run, causal-conv], ... */
    static List<List<String>> commandPaths(CommandLine cl, List<String> prefix) {
        List<List<String>> out = new ArrayList<>();
        for (var e : cl.getSubcommands().entrySet()) {
            List<String> path = new ArrayList<>(prefix);
            path.add(e.getKey());
            out.add(path);
            out.addAll(commandPaths(e.getValue(), path));
        }
        return out;
    }

    @Test
    void everyCommandAndSubcommandAnswersHelpWithExitZero() {
        List<List<String>> paths = commandPaths(Main.commandLine(new PrintWriter(StringWriter.nullWriter()),
                new PrintWriter(StringWriter.nullWriter())), List.of());
        assertTrue(paths.size() > 25, "commands found: " + paths);
        for (List<String> path : paths) {
            if (path.equals(List.of("bench"))) continue; // JMH's own help, tested below
            for (String flag : new String[] {"--help", "-h"}) {
                List<String> args = new ArrayList<>(path);
                args.add(flag);
                Result r = run(args.toArray(String[]::new));
                assertEquals(0, r.code, args + ": " + r.err);
                assertTrue(r.out.startsWith("Usage: longconv " + String.join(" ", path)), args + ": " + r.out);
                assertEquals("", r.err, args.toString());
            }
        }
    }

    @Test
    void noArgumentsPrintsHelpAndExitsZero() {
        Result r = run();
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.startsWith("Usage: longconv") && r.out.contains("Commands:"), r.out);
        Result group = run("run");
        assertEquals(0, group.code, group.err);
        assertTrue(group.out.startsWith("Usage: longconv run") && group.out.contains("causal-conv"), group.out);
    }

    @Test
    void versionComesFromTheBuild() {
        Result r = run("--version");
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.startsWith("longconv " + BuildInfo.version() + " (commit "), r.out);
        assertTrue(!BuildInfo.version().equals("unknown") && BuildInfo.version().matches("\\d+\\.\\d+\\.\\d+.*"), BuildInfo.version());
    }

    @Test
    void aBadOptionIsOneLineAndExitTwo() {
        Result r = run("run", "causal-conv", "--x", "a.npy", "--nope");
        assertEquals(2, r.code);
        assertEquals(1, r.err.lines().count(), r.err);
        assertTrue(r.err.startsWith("longconv: ") && r.err.contains("longconv run causal-conv --help"), r.err);
    }

    @Test
    void benchPassesHelpAndListToJmhAndRefusesUnknownParameters() {
        assertEquals(0, run("bench", "--help").code);
        assertEquals(0, run("bench", "-h").code);
        assertEquals(0, run("bench", "-l").code);
        Result r = run("bench", "CausalConvBench", "-p", "L=1024");
        assertEquals(2, r.code, r.err);
        assertEquals(1, r.err.lines().count(), r.err);
        assertTrue(r.err.contains("-p L") && r.err.contains("length"), r.err);
        Result bad = run("bench", "-zz");
        assertEquals(2, bad.code, bad.err);
        assertEquals(1, bad.err.lines().count(), bad.err);
    }

    @Test
    void completionScriptsForBashAndZsh() {
        for (String shell : new String[] {"bash", "zsh"}) {
            Result r = run("completion", shell);
            assertEquals(0, r.code, r.err);
            assertTrue(r.out.contains("complete -F") && r.out.contains("causal-conv") && r.out.contains("bashcompinit"), shell);
        }
        assertEquals(2, run("completion", "fish").code);
    }

    @Test
    void chartDrawsJmhResults(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("r.json");
        StringBuilder sb = new StringBuilder("[");
        String[] methods = {"vector", "scalar"};
        int[] lengths = {1024, 8192, 65536};
        for (String m : methods) {
            for (int len : lengths) {
                if (sb.length() > 1) sb.append(',');
                double score = (m.equals("vector") ? 0.5 : 8) * len;
                sb.append("{\"benchmark\":\"dev.longconv.bench.CausalConvBench.").append(m).append("\",\"mode\":\"avgt\",")
                        .append("\"params\":{\"length\":\"").append(len).append("\"},")
                        .append("\"primaryMetric\":{\"score\":").append(score).append(",\"scoreError\":").append(score / 10)
                        .append(",\"scoreUnit\":\"us/op\"}}");
            }
        }
        Files.writeString(json, sb.append("]").toString());
        Path png = dir.resolve("c.png");
        Result r = run("chart", json.toString(), png.toString());
        assertEquals(0, r.code, r.err);
        byte[] b = Files.readAllBytes(png);
        assertTrue(b.length > 1000 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G', "a PNG");
        List<Charts.Point> points = Charts.readJmh(json);
        assertEquals(6, points.size());
        assertEquals("length", Charts.numericParameter(points));
        Files.writeString(json, "{not json");
        Result bad = run("chart", json.toString(), png.toString());
        assertEquals(2, bad.code);
        assertEquals(1, bad.err.lines().count(), bad.err);
    }

    @Test
    void stuFiltersPlot(@TempDir Path dir) throws Exception {
        Result r = run("run", "stu-filters", "--L", "64", "--K", "4", "--out", dir.resolve("phi.npy").toString(),
                "--plot", dir.resolve("phi.png").toString());
        assertEquals(0, r.code, r.err);
        assertTrue(Files.size(dir.resolve("phi.png")) > 1000);
    }

    @Test
    void theIncubatorWarningIsDroppedAndEverythingElsePasses() {
        String warning = Main.INCUBATOR_WARNING + "\n";
        for (String rest : new String[] {"", "\r[####----] 3/8 causal-conv\rdone\n", "longconv: x: bad\n"}) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Main.dropIncubatorWarning(new ByteArrayInputStream((warning + rest).getBytes(StandardCharsets.UTF_8)), out);
            assertEquals(rest, out.toString(StandardCharsets.UTF_8));
        }
        for (String other : new String[] {"WARNING: something else\n", "\rprogress", "", "x"}) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Main.dropIncubatorWarning(new ByteArrayInputStream(other.getBytes(StandardCharsets.UTF_8)), out);
            assertEquals(other, out.toString(StandardCharsets.UTF_8));
        }
    }
}
