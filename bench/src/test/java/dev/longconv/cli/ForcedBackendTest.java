package dev.longconv.cli;

import dev.longconv.ops.Backends;
import dev.longconv.simd.Simd;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The backend choice and the properties are read once per JVM, so they are tested in fresh JVMs: forcing an available
 * backend logs it once (with --verbose); a property that cannot be honoured is a one-line error with exit 2; without
 * --verbose the tool prints no log records.
 */
class ForcedBackendTest {
    record Proc(int code, String out, String err) {
        /** stderr without the JVM's own incubator warning (the launcher and the self-relaunch drop it). */
        List<String> errLines() {
            return err.lines().filter(l -> !l.equals(Main.INCUBATOR_WARNING)).toList();
        }
    }

    static Proc java(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path")));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).start();
        p.getOutputStream().close();
        var out = p.getInputStream().readAllBytes();
        var err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return new Proc(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    @Test
    void forcingScalarIsLoggedOnce() throws Exception {
        Proc r = java("-Dlongconv.backend=scalar", Main.class.getName(), "info", "--verbose");
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.contains("selected     scalar (forced by -Dlongconv.backend)"), r.out);
        assertEquals(1, r.err.split("longconv backend: scalar \\(forced by -Dlongconv.backend=scalar\\)", -1).length - 1, r.err);
    }

    @Test
    void verboseLogsWhyFasterBackendsWereSkipped() throws Exception {
        Proc r = java(Main.class.getName(), "--verbose", "info");
        assertEquals(0, r.code, r.err);
        String fastest = Backends.statuses().stream().filter(Backends.Status::available).findFirst().orElseThrow().name();
        assertTrue(r.err.contains("longconv backend: " + fastest + " ("), r.err);
        assertTrue(r.err.contains("debug: longconv backend: " + fastest + "; skipped cuda: "), r.err);
    }

    /** Quiet by default: no log record (the backend choice, a missing GPU) on stderr, on a CPU-only machine or not. */
    @Test
    void withoutVerboseNothingIsLogged() throws Exception {
        Proc r = java(Main.class.getName(), "info");
        assertEquals(0, r.code, r.err);
        assertEquals(List.of(), r.errLines(), r.err);
        assertTrue(r.out.contains("backends"), r.out);
    }

    @Test
    void withoutTheVectorModuleTheLogNamesTheFlag() throws Exception {
        // Bypass the tool's self-relaunch to see what a library user without the flag gets.
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Dlongconv.relaunched=true", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "--verbose", "info"));
        Process p = new ProcessBuilder(cmd).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), err);
        assertTrue(err.contains("longconv backend: scalar") && err.contains("skipped vector: jdk.incubator.vector is not readable; "
                + "start the JVM with --add-modules jdk.incubator.vector"), err);
        assertTrue(out.contains("selected     scalar"), out);
    }

    @Test
    void vectorWidthCanBeForcedNarrower() throws Exception {
        assumeTrue(Simd.status().available(), "no usable Vector API here");
        Proc r = java("-Dlongconv.vectorBits=128", Main.class.getName(), "info");
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.contains("vector   available: 128 bits (forced by -Dlongconv.vectorBits"), r.out);
    }

    /** 1024 bits used to make the vector backend silently unavailable; now the property is named in one line. */
    @Test
    void anImpossibleVectorWidthIsAOneLineError() throws Exception {
        Proc r = java("-Dlongconv.vectorBits=1024", Main.class.getName(), "demo", "--repeats", "1", "--time-ms", "1", "--warm-ms", "1");
        assertEquals(2, r.code, r.out + r.err);
        assertEquals(1, r.errLines().size(), r.err);
        String line = r.errLines().get(0);
        assertTrue(line.startsWith("longconv: ") && line.contains("-Dlongconv.vectorBits=1024") && line.contains("128, 256 or 512"), line);
    }

    @Test
    void aMissingCudaLibdirIsAOneLineError() throws Exception {
        Proc r = java("-Dlongconv.cuda.libdir=/no/such/dir", Main.class.getName(), "info");
        assertEquals(2, r.code, r.out + r.err);
        assertEquals(1, r.errLines().size(), r.err);
        assertTrue(r.errLines().get(0).contains("-Dlongconv.cuda.libdir") && r.errLines().get(0).contains("'/no/such/dir'"), r.err);
    }

    /** After Lucene: under C1 only the vector backend runs many times slower than scalar, so it is not chosen, and one line says why. */
    @Test
    void withoutC2TheVectorBackendIsNotChosen() throws Exception {
        Proc r = java("-XX:TieredStopAtLevel=1", Main.class.getName(), "info");
        assertEquals(0, r.code, r.out + r.err);
        assertTrue(r.out.contains("vector   unavailable: C2 is not available (-XX:TieredStopAtLevel=1)"), r.out);
        assertTrue(r.out.contains("selected     scalar"), r.out);
        assertEquals(1, r.errLines().size(), r.err);
        assertTrue(r.errLines().get(0).startsWith("longconv: warning: vector backend not used: C2 is not available"), r.err);
    }

    @Test
    void forcingAnUnavailableBackendIsAOneLineError() throws Exception {
        Proc r = java("-Dlongconv.backend=cuda", Main.class.getName(), "info");
        assertEquals(2, r.code, r.out + r.err);
        assertEquals(1, r.errLines().size(), r.err);
        assertTrue(r.errLines().get(0).startsWith("longconv: ") && r.errLines().get(0).contains("backend 'cuda' is not available"), r.err);
        assertFalse(r.err.contains("\tat "), "no stack trace without --verbose: " + r.err);
    }

    /** An invalid -Dlongconv.threads is one line naming the property, on every op (not an ExceptionInInitializerError, then NoClassDefFoundError). */
    @Test
    void anInvalidThreadCountIsAOneLineErrorNamingTheProperty() throws Exception {
        Proc r = java("-Dlongconv.threads=abc", Main.class.getName(), "demo", "--repeats", "1", "--time-ms", "1", "--warm-ms", "1");
        assertEquals(2, r.code, r.out + r.err);
        assertEquals(1, r.errLines().size(), r.err);
        String line = r.errLines().get(0);
        assertTrue(line.contains("-Dlongconv.threads") && line.contains("'abc'"), r.err);
        assertFalse(r.err.contains("\tat ") || r.err.contains("NoClassDefFoundError") || r.err.contains("ExceptionInInitializerError"), r.err);
    }

    /** A bad input file: exactly one line on stderr (no log records), exit 2. */
    @Test
    void badInputIsExactlyOneLine() throws Exception {
        Proc r = java(Main.class.getName(), "run", "causal-conv", "--x", "/no/such/x.npy", "--k", "/no/such/k.npy", "--out", "/tmp/y.npy");
        assertEquals(2, r.code, r.out + r.err);
        assertEquals(1, r.errLines().size(), r.err);
        assertTrue(r.errLines().get(0).startsWith("longconv: causal-conv: argument x: "), r.err);
    }
}
