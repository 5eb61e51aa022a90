package dev.longconv.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Host-side helpers for the GPU tests: moving arrays to and from device buffers, and error measures. */
final class GpuTestSupport {
    private GpuTestSupport() {}

    static void assumeGpu() {
        assumeTrue(Cuda.available(), Cuda.unavailableReason());
    }

    static float[] randomFloats(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (2 * r.nextDouble() - 1);
        return a;
    }

    static double[] randomDoubles(Random r, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = 2 * r.nextDouble() - 1;
        return a;
    }

    static DeviceBuffer upload(float[] a) {
        DeviceBuffer d = DeviceBuffer.allocate(4L * Math.max(1, a.length));
        try (Arena arena = Arena.ofConfined()) {
            d.copyFrom(arena.allocateFrom(JAVA_FLOAT, a));
        }
        return d;
    }

    static DeviceBuffer upload(double[] a) {
        DeviceBuffer d = DeviceBuffer.allocate(8L * Math.max(1, a.length));
        try (Arena arena = Arena.ofConfined()) {
            d.copyFrom(arena.allocateFrom(JAVA_DOUBLE, a));
        }
        return d;
    }

    static float[] downloadFloats(DeviceBuffer d, int n) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment h = arena.allocate(JAVA_FLOAT, n);
            d.copyTo(h);
            return h.toArray(JAVA_FLOAT);
        }
    }

    static double[] downloadDoubles(DeviceBuffer d, int n) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment h = arena.allocate(JAVA_DOUBLE, n);
            d.copyTo(h);
            return h.toArray(JAVA_DOUBLE);
        }
    }

    /** ||got - ref|| / ||ref|| (absolute when ref is zero). */
    static double relL2(double[] ref, float[] got) {
        double[] g = new double[got.length];
        for (int i = 0; i < g.length; i++) g[i] = got[i];
        return relL2(ref, g);
    }

    static double relL2(double[] ref, double[] got) {
        if (ref.length != got.length) throw new IllegalArgumentException("length " + ref.length + " vs " + got.length);
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = got[i] - ref[i];
            num += d * d;
            den += ref[i] * ref[i];
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }
}
