package dev.longconv.arch;

import dev.longconv.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ops module's floor plan (ARCHITECTURE.md), checked on its compiled classes: no package cycle, the core
 * package depends on no other project package, the op contract names no backend, and nothing here reaches
 * the CUDA bindings.
 */
class ArchitectureTest {
    private static final PackageGraph OPS = PackageGraph.ofModuleOf(Tensor.class);

    @Test
    void theGraphSeesTheDependencies() {
        assertTrue(OPS.dependenciesOf("dev.longconv.ops").contains("dev.longconv.ops.spi"), "ops uses its toolkit:\n" + OPS);
        assertTrue(OPS.dependenciesOf("dev.longconv.backend.vector").contains("dev.longconv.backend.scalar"), "vector routes float64 to scalar");
    }

    @Test
    void noPackageCycles() {
        List<Set<String>> cycles = OPS.cycles();
        assertTrue(cycles.isEmpty(), "package cycles " + cycles + " in\n" + OPS);
    }

    @Test
    void theCorePackageDependsOnNoOtherProjectPackage() {
        assertEquals(Set.of(), OPS.dependenciesOf("dev.longconv"), "dev.longconv uses");
    }

    @Test
    void theContractAndItsToolkitNameNoBackend() {
        for (String pkg : List.of("dev.longconv.ops", "dev.longconv.ops.spi", "dev.longconv.io", "dev.longconv")) {
            for (String dep : OPS.dependenciesOf(pkg)) {
                assertFalse(dep.startsWith("dev.longconv.backend"), pkg + " uses " + dep);
            }
        }
        assertFalse(OPS.dependenciesOf("dev.longconv.ops.spi").contains("dev.longconv.ops"), "the toolkit does not use the contract");
    }

    @Test
    void opsDoesNotReachTheCudaBindings() {
        for (String pkg : OPS.packages()) {
            for (String dep : OPS.dependenciesOf(pkg)) assertFalse(dep.startsWith("dev.longconv.cuda"), pkg + " uses " + dep);
            assertFalse(pkg.startsWith("dev.longconv.backend.cuda"), "cuda classes in ops: " + pkg);
        }
    }
}
