package dev.longconv.cuda;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The kernels library's extract-load-check sequence, with a fake library in place of the real one. */
class KernelLibraryTest {
    private static final byte[] FAKE = "not really an ELF file".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private static Supplier<InputStream> resource(byte[] bytes) {
        return () -> new ByteArrayInputStream(bytes);
    }

    /** A loader that records the file it was given and what the file held at load time. */
    private static final class FakeLoader implements KernelLibrary.Loader {
        final List<Path> files = new ArrayList<>();
        byte[] seen;
        final int abi;

        FakeLoader(int abi) {
            this.abi = abi;
        }

        @Override
        public int loadAndReadAbi(Path file) {
            files.add(file);
            try {
                seen = Files.readAllBytes(file);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return abi;
        }
    }

    @Test
    void matchingAbiLoadsAndLeavesNoTempFile() {
        FakeLoader loader = new FakeLoader(7);
        KernelLibrary.Status s = KernelLibrary.load(resource(FAKE), loader, () -> 7);
        assertTrue(s.loaded(), s.toString());
        assertNull(s.problem());
        assertEquals(7, s.abiVersion());
        assertEquals(1, loader.files.size());
        assertArrayEquals(FAKE, loader.seen, "the loader saw the resource's bytes");
        assertEquals(loader.files.getFirst().toString(), s.location());
        assertFalse(Files.exists(loader.files.getFirst()), "extracted file is deleted once loaded");
    }

    @Test
    void otherAbiIsRefusedWithBothVersions() {
        KernelLibrary.Status s = KernelLibrary.load(resource(FAKE), new FakeLoader(2), () -> 1);
        assertFalse(s.loaded());
        assertEquals(2, s.abiVersion());
        assertTrue(s.problem().startsWith("kernels library has ABI 2, these bindings need 1"), s.problem());
        assertEquals(KernelLibrary.abiProblem(2, 1), s.problem());
        assertNull(KernelLibrary.abiProblem(1, 1));
    }

    @Test
    void missingResourceMeansNotPackaged() {
        KernelLibrary.Status s = KernelLibrary.load(() -> null, file -> fail("nothing to load"), () -> fail("no version to compare"));
        assertFalse(s.loaded());
        assertNull(s.location());
        assertTrue(s.problem().startsWith("kernels library not packaged"), s.problem());
    }

    @Test
    void loadFailureIsReportedAndTheExpectedVersionNeverRead() {
        List<Path> files = new ArrayList<>();
        KernelLibrary.Status s = KernelLibrary.load(resource(FAKE), file -> {
            files.add(file);
            throw new UnsatisfiedLinkError(file + ": invalid ELF header");
        }, () -> fail("the generated constant must not be touched when the library did not load"));
        assertFalse(s.loaded());
        assertEquals(-1, s.abiVersion());
        assertTrue(s.problem().startsWith("kernels library failed to load: ") && s.problem().contains("invalid ELF header"), s.problem());
        assertFalse(Files.exists(files.getFirst()), "no temp file left behind after a failure either");
    }

    @Test
    void realLibraryStatusIsConsistent() {
        KernelLibrary.Status s = KernelLibrary.status();
        if (!KernelLibrary.packaged()) {
            assertFalse(s.loaded());
        } else if (s.loaded()) {
            assertEquals(dev.longconv.cuda.gen.kernels.kernels_h.LONGCONV_CUDA_ABI_VERSION(), s.abiVersion());
            assertFalse(Files.exists(Path.of(s.location())), "extracted copy removed: " + s.location());
        }
        assertTrue(s.loaded() || !s.problem().isBlank(), s.toString());
        assertTrue(Arrays.asList(s.toString().split("\n")).size() == 1);
    }
}
