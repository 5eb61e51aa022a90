package dev.longconv.simd;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;

import java.lang.management.ManagementFactory;

/**
 * What the Vector API offers on this JVM and CPU. Never touches jdk.incubator.vector unless the
 * module is readable, so it is safe to call from a JVM started without {@code --add-modules}.
 */
public record VectorInfo(boolean moduleReadable, int preferredBits, int floatLanes, int doubleLanes, boolean fma) {

    /** The exact JVM flag that makes the Vector API readable. */
    public static final String FLAG = "--add-modules jdk.incubator.vector";

    public static VectorInfo detect() {
        boolean fma = vmFlag("UseFMA");
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) return new VectorInfo(false, 0, 0, 0, fma);
        return Species.read(fma);
    }

    /** One line for logs and `longconv info`. */
    public String describe() {
        if (!moduleReadable) return "not readable (start the JVM with " + FLAG + ")";
        return "preferred species " + preferredBits + " bits (" + floatLanes + " float / " + doubleLanes
                + " double lanes), FMA " + (fma ? "yes" : "no");
    }

    private static boolean vmFlag(String name) {
        try {
            var bean = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            return bean != null && Boolean.parseBoolean(bean.getVMOption(name).getValue());
        } catch (RuntimeException | LinkageError e) {
            return false; // not HotSpot, or the option does not exist on this CPU architecture
        }
    }

    /** Separate class so jdk.incubator.vector is only linked after the module check. */
    private static final class Species {
        static VectorInfo read(boolean fma) {
            var f = FloatVector.SPECIES_PREFERRED;
            var d = DoubleVector.SPECIES_PREFERRED;
            return new VectorInfo(true, f.vectorBitSize(), f.length(), d.length(), fma);
        }
    }
}
