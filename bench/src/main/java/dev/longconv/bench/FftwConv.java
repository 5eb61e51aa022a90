package dev.longconv.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Benchmark anchor: FFT convolution per channel with FFTW 3 single precision (libfftw3f) through
 * FFM, plans made with FFTW_MEASURE, kernel spectra precomputed. Not part of the library.
 */
final class FftwConv implements AutoCloseable {
    private static final int FFTW_MEASURE = 0;
    private static final Linker LINKER = Linker.nativeLinker();

    private final Arena arena = Arena.ofConfined();
    private final int n, len;
    private final MemorySegment in, out, r2c, c2r;
    private final MemorySegment[] kSpec;
    private final MethodHandle execR2c, execC2r;

    /**
     * The library to load: {@code -Dbench.fftw=/path/to/libfftw3f.so.3} (a build of your own, e.g. with
     * AVX2/AVX-512 and FMA codelets from Debian's source package, see README), else the loader's libfftw3f.so.3.
     */
    static final String LIBRARY = System.getProperty("bench.fftw", "libfftw3f.so.3");

    /** Null when libfftw3f cannot be loaded; the reason is then in {@link #missing()}. */
    static SymbolLookup library() {
        try {
            return LIBRARY.contains("/") ? SymbolLookup.libraryLookup(java.nio.file.Path.of(LIBRARY), Arena.global())
                    : SymbolLookup.libraryLookup(LIBRARY, Arena.global());
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    static String missing() {
        return LIBRARY + " not found: FFTW anchor skipped (apt-get install libfftw3-dev, or -Dbench.fftw=PATH)";
    }

    /**
     * Which FFTW was loaded: its version string (fftwf_version lists the SIMD extensions it was built with, e.g.
     * "fftw-3.3.10-sse2-avx-avx2-avx2_128-avx512"), whether AVX-512 and AVX2 codelets are in it, and the CPU's vector
     * width, so that a comparison against a weaker build is visible in the benchmark's output.
     */
    static String describe(SymbolLookup lib) {
        String version = lib.find("fftwf_version").map(a -> a.reinterpret(256).getString(0)).orElse("unknown version");
        boolean avx512 = version.contains("avx512") || lib.find("fftwf_have_simd_avx512").isPresent();
        boolean avx2 = version.contains("avx2") || lib.find("fftwf_have_simd_avx2").isPresent();
        return "FFTW anchor: " + LIBRARY + " = " + version + " (AVX-512 codelets: " + (avx512 ? "yes" : "no") + ", AVX2/FMA codelets: "
                + (avx2 ? "yes" : "no") + "; FFTW uses those the CPU has: " + cpuFlags() + ")";
    }

    /** The CPU's AVX-512F and AVX2/FMA flags from /proc/cpuinfo (Linux), or "CPU flags unknown". */
    private static String cpuFlags() {
        try {
            String flags = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.startsWith("flags")).findFirst().orElse("");
            java.util.Set<String> set = new java.util.HashSet<>(java.util.Arrays.asList(flags.replaceFirst("^flags\\s*:", "").trim().split("\\s+")));
            return "CPU avx512f " + (set.contains("avx512f") ? "yes" : "no") + ", avx2 " + (set.contains("avx2") ? "yes" : "no")
                    + ", fma " + (set.contains("fma") ? "yes" : "no");
        } catch (java.io.IOException | RuntimeException e) {
            return "CPU flags unknown";
        }
    }

    FftwConv(SymbolLookup lib, float[][] kernels, int len, int n) throws Throwable {
        this.n = n;
        this.len = len;
        MethodHandle planR2c = LINKER.downcallHandle(lib.findOrThrow("fftwf_plan_dft_r2c_1d"), FunctionDescriptor.of(ValueLayout.ADDRESS,
                ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        MethodHandle planC2r = LINKER.downcallHandle(lib.findOrThrow("fftwf_plan_dft_c2r_1d"), FunctionDescriptor.of(ValueLayout.ADDRESS,
                ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        execR2c = LINKER.downcallHandle(lib.findOrThrow("fftwf_execute_dft_r2c"),
                FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
        execC2r = LINKER.downcallHandle(lib.findOrThrow("fftwf_execute_dft_c2r"),
                FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
        in = arena.allocate(4L * n, 64);
        out = arena.allocate(8L * (n / 2 + 1), 64);
        r2c = (MemorySegment) planR2c.invokeExact(n, in, out, FFTW_MEASURE);
        c2r = (MemorySegment) planC2r.invokeExact(n, out, in, FFTW_MEASURE);
        kSpec = new MemorySegment[kernels.length];
        for (int d = 0; d < kernels.length; d++) {
            in.fill((byte) 0);
            MemorySegment.copy(kernels[d], 0, in, ValueLayout.JAVA_FLOAT, 0, Math.min(len, kernels[d].length));
            execR2c.invokeExact(r2c, in, out);
            kSpec[d] = arena.allocate(out.byteSize(), 64).copyFrom(out);
        }
    }

    /** y[d] = causal conv of x[d] with kernel d, first len outputs. */
    void convolve(float[][] x, float[][] y) throws Throwable {
        float scale = 1.0f / n;
        for (int d = 0; d < x.length; d++) {
            in.fill((byte) 0);
            MemorySegment.copy(x[d], 0, in, ValueLayout.JAVA_FLOAT, 0, len);
            execR2c.invokeExact(r2c, in, out);
            MemorySegment k = kSpec[d];
            for (long f = 0, bins = n / 2 + 1; f < bins; f++) {
                float xr = out.getAtIndex(ValueLayout.JAVA_FLOAT, 2 * f), xi = out.getAtIndex(ValueLayout.JAVA_FLOAT, 2 * f + 1);
                float kr = k.getAtIndex(ValueLayout.JAVA_FLOAT, 2 * f), ki = k.getAtIndex(ValueLayout.JAVA_FLOAT, 2 * f + 1);
                out.setAtIndex(ValueLayout.JAVA_FLOAT, 2 * f, (xr * kr - xi * ki) * scale);
                out.setAtIndex(ValueLayout.JAVA_FLOAT, 2 * f + 1, (xr * ki + xi * kr) * scale);
            }
            execC2r.invokeExact(c2r, out, in);
            MemorySegment.copy(in, ValueLayout.JAVA_FLOAT, 0, y[d], 0, len);
        }
    }

    @Override
    public void close() {
        arena.close(); // plans stay allocated inside FFTW; a benchmark makes a handful
    }
}
