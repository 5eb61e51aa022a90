package dev.longconv.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Coverage-guided fuzzing of the file readers (Jazzer). Every input either loads or fails with the documented
 * exception: an IOException (NpyFormatException, SafetensorsFormatException, or a file-system failure) or a
 * LongConvException; anything else, a crash or a hang fails the target. Without JAZZER_FUZZ the seeds under
 * src/test/resources/dev/longconv/io/IoFuzzTestInputs run as regression tests; the build's fuzz executions run each
 * target for a fixed time (see ops/pom.xml, which also gives the command for a longer run).
 */
class IoFuzzTest {
    @TempDir
    static Path dir;

    private static Path file(String name, byte[] data) throws IOException {
        Path f = dir.resolve(name);
        Files.write(f, data);
        return f;
    }

    @FuzzTest(maxDuration = "20s")
    void npy(byte[] data) throws IOException {
        try (Tensor t = Npy.load(file("fuzz.npy", data))) {
            long n = Math.min(t.numel(), 64);
            for (long i = 0; i < n; i++) t.getFlat(i);
        } catch (IOException | LongConvException expected) {
            // a malformed file, reported as documented
        }
    }

    @FuzzTest(maxDuration = "20s")
    void safetensors(byte[] data) throws IOException {
        try (Safetensors st = Safetensors.open(file("fuzz.safetensors", data))) {
            st.metadata();
            for (String name : st.names()) {
                try {
                    Tensor t = st.tensor(name);
                    long n = Math.min(t.numel(), 64);
                    for (long i = 0; i < n; i++) t.getFlat(i);
                } catch (LongConvException notLoadable) {
                    // stored types longconv lists but does not load
                }
            }
        } catch (IOException | LongConvException expected) {
            // a malformed file, reported as documented
        }
    }
}
