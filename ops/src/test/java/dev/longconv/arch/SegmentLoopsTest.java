package dev.longconv.arch;

import dev.longconv.Tensor;
import dev.longconv.simd.NativeSegments;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.MethodModel;
import java.lang.classfile.instruction.InvokeInstruction;
import java.net.URISyntaxException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every longconv method that loads or stores vectors through a memory segment casts a segment to the native segment
 * class in the same method ({@link NativeSegments#cast}), so that C2 compiles it the same whatever other code in the
 * JVM did with segments (the class note of NativeSegments says why it must be the loop's own method). Checked on the
 * compiled classes of the ops and simd-cpu modules, lambdas included.
 */
class SegmentLoopsTest {
    private static final String CAST_OWNER = "dev/longconv/simd/NativeSegments";

    @Test
    void everyMethodWithSegmentVectorAccessCastsItsSegment() throws IOException, URISyntaxException {
        List<String> checked = new ArrayList<>(), missing = new ArrayList<>();
        for (Class<?> module : List.of(Tensor.class, NativeSegments.class)) {
            Path root = Path.of(module.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (Files.isDirectory(root)) {
                scan(root, checked, missing);
            } else {
                try (FileSystem jar = FileSystems.newFileSystem(root)) {
                    scan(jar.getPath("/"), checked, missing);
                }
            }
        }
        // the lane loops of GEMM, the activations, the norms and the gathers are all found (a scan that finds none proves nothing)
        for (String expected : List.of("LaneGemm.kernel6x2", "VectorActivations.applyFloat", "VectorNorms.scaleRows", "LaneIO.gatherRows")) {
            assertTrue(checked.stream().anyMatch(m -> m.startsWith(expected)), expected + " not among the methods checked: " + checked);
        }
        assertTrue(missing.isEmpty(), "methods with segment vector accesses and no NativeSegments.cast: " + missing);
    }

    private static void scan(Path root, List<String> checked, List<String> missing) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".class") && !p.endsWith("module-info.class")).toList()) {
                ClassModel cm = ClassFile.of().parse(Files.readAllBytes(f));
                String cls = cm.thisClass().asInternalName();
                if (!cls.startsWith("dev/longconv/")) continue;
                for (MethodModel m : cm.methods()) {
                    boolean access = false, cast = false;
                    var code = m.code();
                    if (code.isEmpty()) continue;
                    for (var e : code.get()) {
                        if (!(e instanceof InvokeInstruction inv)) continue;
                        String owner = inv.owner().asInternalName(), name = inv.name().stringValue();
                        if (owner.startsWith("jdk/incubator/vector/") && (name.equals("fromMemorySegment") || name.equals("intoMemorySegment"))) access = true;
                        if (owner.equals(CAST_OWNER) && name.equals("cast")) cast = true;
                    }
                    if (!access) continue;
                    String where = cls.substring(cls.lastIndexOf('/') + 1) + "." + m.methodName().stringValue();
                    checked.add(where);
                    if (!cast) missing.add(where);
                }
            }
        }
    }
}
