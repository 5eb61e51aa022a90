package dev.longconv.io;

import dev.longconv.DType;
import dev.longconv.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What the writers do with what is already at the path: regular files replaced keeping their mode, symbolic links
 * followed, directories and FIFOs refused; readers refuse FIFOs instead of blocking in open(2).
 */
class FileReplacementTest {
    @TempDir
    Path dir;

    private static Tensor small() {
        return Tensor.random(DType.FLOAT32, 1, 3, 4);
    }

    @Test
    void aRegularFileKeepsItsPermissions() throws IOException {
        Path f = dir.resolve("y.npy");
        Files.writeString(f, "old");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        try (Tensor t = small()) {
            Npy.save(t, f);
            Safetensors.write(dir.resolve("w.safetensors"), Map.of("t", t), Map.of());
        }
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        try (Tensor r = Npy.load(f)) {
            assertEquals(12, r.numel());
        }
    }

    @Test
    void aSymbolicLinkIsFollowedAndKept() throws IOException {
        Path target = dir.resolve("target.npy"), link = dir.resolve("link.npy");
        Files.writeString(target, "old");
        Files.createSymbolicLink(link, target.getFileName());
        try (Tensor t = small()) {
            Npy.save(t, link);
        }
        assertTrue(Files.isSymbolicLink(link), "the link stays a link");
        try (Tensor r = Npy.load(target)) {
            assertEquals(12, r.numel(), "the target was written");
        }
    }

    @Test
    void directoriesAndFifosAreRefused() throws Exception {
        Path sub = Files.createDirectory(dir.resolve("sub.npy"));
        try (Tensor t = small()) {
            IOException e = assertThrows(IOException.class, () -> Npy.save(t, sub));
            assertTrue(e.getMessage().contains("a directory") && e.getMessage().lines().count() == 1, e.getMessage());
            Path fifo = fifo();
            e = assertThrows(IOException.class, () -> Npy.save(t, fifo));
            assertTrue(e.getMessage().contains("FIFO"), e.getMessage());
            assertTrue(Files.exists(fifo) && !Files.isRegularFile(fifo), "the FIFO is still there");
            e = assertThrows(IOException.class, () -> Safetensors.write(fifo, Map.of("t", t), null));
            assertTrue(e.getMessage().contains("FIFO"), e.getMessage());
        }
    }

    @Test
    void readersRefuseAFifoInsteadOfBlocking() throws Exception {
        Path fifo = fifo();
        IOException e = assertThrows(IOException.class, () -> Npy.load(fifo));
        assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
        e = assertThrows(IOException.class, () -> Safetensors.open(fifo));
        assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
    }

    private Path fifo() throws Exception {
        Path f = dir.resolve("pipe.npy");
        Process p;
        try {
            p = new ProcessBuilder("mkfifo", f.toString()).start();
        } catch (IOException e) {
            assumeTrue(false, "no mkfifo here: " + e.getMessage());
            throw e;
        }
        assumeTrue(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0, "mkfifo failed");
        return f;
    }
}
