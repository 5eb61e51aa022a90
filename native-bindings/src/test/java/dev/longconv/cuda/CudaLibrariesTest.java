package dev.longconv.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class CudaLibrariesTest {

    @Test
    void placesFollowTheDocumentedOrder() {
        Map<String, String> env = Map.of(CudaLibraries.LIBDIR_ENV, "/e", "CUDA_HOME", "/h", "CUDA_PATH", "/p");
        List<CudaLibraries.Place> places = CudaLibraries.places(Map.of(CudaLibraries.LIBDIR_PROPERTY, "/d")::get, env::get);
        List<Path> dirs = places.stream().map(CudaLibraries.Place::dir).toList();
        assertEquals(Path.of("/d"), dirs.get(0));
        assertEquals(Path.of("/e"), dirs.get(1));
        assertEquals(Path.of("/h/lib64"), dirs.get(2));
        assertEquals(Path.of("/p/lib64"), dirs.get(3));
        assertEquals(Path.of("/usr/local/cuda/lib64"), dirs.get(4));
        assertEquals(null, dirs.get(5), "then the system loader");
        assertTrue(dirs.subList(6, dirs.size()).stream().allMatch(p -> p.endsWith("lib") && p.toString().contains("/nvidia/")), dirs.toString());
    }

    @Test
    void unsetVariablesAreSkipped() {
        List<CudaLibraries.Place> places = CudaLibraries.places(Map.<String, String>of()::get, Map.<String, String>of()::get);
        assertEquals(Path.of("/usr/local/cuda/lib64"), places.getFirst().dir());
    }

    @Test
    void emptyLibdirFallsThroughToLaterPlaces(@TempDir Path empty) {
        List<CudaLibraries.Place> places = CudaLibraries.places(Map.of(CudaLibraries.LIBDIR_PROPERTY, empty.toString())::get, System::getenv);
        assertEquals(empty, places.getFirst().dir());
        StringBuilder searched = new StringBuilder();
        Optional<CudaLibraries.Loaded> found = CudaLibraries.find(CudaLibraries.CUDART, places, searched);
        found.ifPresent(l -> assertFalse(l.location().startsWith(empty.toString()), l.location()));
        assertEquals(Cudart.library().isPresent(), found.isPresent(), "same answer as without the property");

        StringBuilder none = new StringBuilder();
        assertTrue(CudaLibraries.find(List.of("libdoes-not-exist.so.99"), places, none).isEmpty());
        assertTrue(none.toString().startsWith("-D" + CudaLibraries.LIBDIR_PROPERTY + "=" + empty), none.toString());
        assertTrue(none.toString().contains("/usr/local/cuda/lib64, system loader (libdoes-not-exist.so.99)"), none.toString());
    }

    @Test
    void libdirIsSearchedFirst(@TempDir Path dir) throws Exception {
        String cudart = CudaProbe.status().cudartPath();
        assumeTrue(cudart != null && cudart.startsWith("/"), "needs libcudart loaded from a file");
        Path link = Files.createSymbolicLink(dir.resolve(Path.of(cudart).getFileName()), Path.of(cudart));
        List<CudaLibraries.Place> places = CudaLibraries.places(Map.of(CudaLibraries.LIBDIR_PROPERTY, dir.toString())::get, System::getenv);
        Optional<CudaLibraries.Loaded> found = CudaLibraries.find(CudaLibraries.CUDART, places, new StringBuilder());
        assertEquals(link.toString(), found.orElseThrow().location());
    }

    @Test
    void fileThatFailsToLoadIsReported(@TempDir Path dir) throws Exception {
        // A real library marked for another machine: dlopen rejects it from the header alone. (Garbage bytes would
        // also be rejected, but HotSpot first takes a file without PT_GNU_STACK for an executable-stack library.)
        Path donor = Path.of(System.getProperty("java.home"), "lib", "libjava.so");
        assumeTrue(Files.isRegularFile(donor), "needs an ELF JDK");
        byte[] elf = Files.readAllBytes(donor);
        elf[18] = (byte) (elf[18] == (byte) 183 ? 62 : 183); // e_machine: AArch64, or x86-64 on AArch64
        elf[19] = 0;
        Files.write(dir.resolve("libbogus.so.1"), elf);
        List<CudaLibraries.Place> places = CudaLibraries.places(Map.of(CudaLibraries.LIBDIR_PROPERTY, dir.toString())::get, Map.<String, String>of()::get);
        StringBuilder searched = new StringBuilder();
        assertTrue(CudaLibraries.find(List.of("libbogus.so.1"), places, searched).isEmpty());
        assertTrue(searched.toString().contains("libbogus.so.1 failed to load"), searched.toString());
    }

    @Test
    void publicSearchDescribesWhereItLooked() {
        String s = CudaLibraries.searched("nonesuch", List.of("libnonesuch.so.1"));
        assertTrue(s.startsWith("libnonesuch: "), s);
        assertTrue(s.contains("/usr/local/cuda/lib64") && s.contains("system loader (libnonesuch.so.1)"), s);
        assertTrue(CudaLibraries.find("nonesuch", List.of("libnonesuch.so.1")).isEmpty());
    }

    @Test
    void sonameResolvesToTheMappedFile() {
        // libjava is mapped in every JVM; a dlopen by soname has to be turned into such a path for System.load
        Path p = CudaLibraries.mappedFile("libjava.so");
        assertTrue(p != null && p.isAbsolute() && Files.isRegularFile(p) && p.getFileName().toString().startsWith("libjava.so"), String.valueOf(p));
        assertEquals(null, CudaLibraries.mappedFile("libdoes-not-exist.so.99"));
    }

    @Test
    void foundLibraryIsVisibleToTheGeneratedBindingsLookup() {
        Optional<CudaLibraries.Loaded> cudart = Cudart.library();
        assumeTrue(cudart.isPresent(), "no libcudart here");
        // the generated classes use SymbolLookup.loaderLookup(): what CudaLibraries loaded must be in it
        assertTrue(java.lang.foreign.SymbolLookup.loaderLookup().find("cudaGetErrorName").isPresent());
        assertEquals("cudaErrorInsufficientDriver", Cudart.errorName(35));
    }
}
