package dev.longconv.simd;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The vector path's availability rules: the -Dlongconv.vectorBits values it refuses, and the JIT settings without C2. */
class SimdTest {
    private static String c2(Map<String, String> options, String vmName, String vmInfo) {
        return Simd.c2Problem(options::get, vmName, vmInfo);
    }

    @Test
    void c2IsFoundMissingUnderEachSettingThatDisablesIt() {
        String server = "OpenJDK 64-Bit Server VM";
        assertNull(c2(Map.of("TieredStopAtLevel", "4", "TieredCompilation", "true", "UseCompiler", "true"), server, "mixed mode, sharing"));
        assertEquals("-XX:TieredStopAtLevel=1", c2(Map.of("TieredStopAtLevel", "1", "TieredCompilation", "true"), server, "mixed mode"));
        assertNull(c2(Map.of("TieredStopAtLevel", "1", "TieredCompilation", "false"), server, "mixed mode"), "C2 only without tiers");
        assertEquals("-Xint: interpreter only", c2(Map.of(), server, "interpreted mode, sharing"));
        assertEquals("a client VM", c2(Map.of(), "OpenJDK Client VM", "mixed mode"));
        assertEquals("-XX:CompilationMode=quick-only", c2(Map.of("CompilationMode", "quick-only"), server, "mixed mode"));
        assertEquals("the JVM emulates a client VM", c2(Map.of(), server, "mixed mode, emulated-client"));
    }

    @Test
    void vectorBitsValuesThatCannotBeHonouredAreNamed() {
        VectorInfo avx2 = new VectorInfo(true, 256, 8, 4, true);
        assertNull(Simd.propertyProblem(null, avx2));
        assertNull(Simd.propertyProblem("128", avx2));
        assertNull(Simd.propertyProblem(" 256 ", avx2));
        assertEquals("-Dlongconv.vectorBits=1024 is not 128, 256 or 512", Simd.propertyProblem("1024", avx2));
        assertEquals("-Dlongconv.vectorBits=abc is not 128, 256 or 512", Simd.propertyProblem("abc", avx2));
        assertTrue(Simd.propertyProblem("512", avx2).contains("wider than this CPU's 256-bit vectors"));
    }
}
