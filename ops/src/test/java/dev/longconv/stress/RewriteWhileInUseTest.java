package dev.longconv.stress;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A .npy input rewritten in place while a service uses it (numpy.save truncates and writes the same inode) must not
 * abort the JVM: the default load copies the data, so the tensor keeps the old values. In a forked JVM, since a
 * fault would take the test JVM down with it. (With the opt-in mapping the child is expected to die: that is the
 * documented risk of Npy.loadMapped.)
 */
@Tag("stress")
class RewriteWhileInUseTest {
    @TempDir
    Path dir;

    @Test
    void aLoadedFileRewrittenInPlaceLeavesTheTensorAsItWas() throws Exception {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Xmx1g", "-cp", System.getProperty("java.class.path"), RewriteWhileInUse.class.getName(),
                dir.resolve("input.npy").toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child finished");
        assertEquals(0, p.exitValue(), "child JVM exit code; output:\n" + out);
        assertTrue(out.lines().anyMatch(l -> l.equals("ok")), out);
    }
}
