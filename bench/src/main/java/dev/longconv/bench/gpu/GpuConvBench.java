package dev.longconv.bench.gpu;

import dev.longconv.DType;
import dev.longconv.Device;
import dev.longconv.Layout;
import dev.longconv.Tensor;
import dev.longconv.backend.cuda.CudaBackend;
import dev.longconv.cuda.CudaEvent;
import dev.longconv.cuda.CudaProbe;
import dev.longconv.cuda.DeviceBuffer;
import dev.longconv.cuda.MemInfo;
import dev.longconv.ops.ConvPlan;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * GPU timing of causal-conv through the cuda backend, kernel spectra prepared once: D=768, float32, BDL, Lk=L,
 * for each batch in {@code -Dbatches} (default 16), each length in the arguments (default 1024 4096 16384 65536)
 * and each path in {@code -Dpaths} (default cufft,fused: the cuFFT pipeline and the fused single-pass kernel, where
 * it takes the size). Each call is timed alone with CUDA events on the backend's stream; inputs rotate over
 * several sets so the 50 MB L2 cannot hold them; the median of {@code -Dreps} (default 30) after {@code -Dwarmup}
 * (default 5) calls is reported with the bandwidth for the bytes a call must move (read x, write y) against the
 * copy bandwidth measured on the same card. The fused path's output is checked against the cuFFT path's first.
 *
 * <p>Usage: {@code java -cp benchmarks.jar dev.longconv.bench.gpu.GpuConvBench [L...]}; {@code -Dout=file.csv}
 * writes the rows as CSV too.
 */
public final class GpuConvBench {
    private GpuConvBench() {}

    public static void main(String[] args) throws IOException {
        var status = CudaProbe.status();
        if (!status.available()) {
            System.err.println("GpuConvBench: CUDA not available: " + status.reason());
            System.exit(2);
        }
        int d = Integer.getInteger("channels", 768);
        int warmup = Integer.getInteger("warmup", 5), reps = Integer.getInteger("reps", 30);
        int[] batches = Arrays.stream(System.getProperty("batches", "16").split(",")).mapToInt(Integer::parseInt).toArray();
        List<CudaBackend.ConvPath> paths = Arrays.stream(System.getProperty("paths", "cufft,fused").split(","))
                .map(p -> CudaBackend.ConvPath.valueOf(p.strip().toUpperCase(Locale.ROOT))).toList();
        int[] lengths = args.length == 0 ? new int[] {1024, 4096, 16384, 65536} : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
        CudaBackend cuda = CudaBackend.on(0);
        Device gpu = cuda.device();
        var dev = status.devices().get(0);
        double copyGBs = copyBandwidth(cuda);
        PrintStream out = System.out;
        out.printf(Locale.ROOT, "device %s (cc %s), CUDA runtime %d, driver %d, cuFFT %s%n", dev.name(), dev.computeCapability(),
                status.runtimeVersion(), status.driverVersion(), status.cufft());
        out.printf(Locale.ROOT, "device-to-device copy: %.0f GB/s (bytes read + written), the HBM bound used below%n", copyGBs);
        out.printf(Locale.ROOT, "causal-conv, D=%d float32 BDL, Lk=L, median of %d after %d warm-up%n", d, reps, warmup);
        String header = "B,L,path,fft_n,median_ms,min_ms,GB_per_s,pct_of_copy_bw,max_rel_diff_vs_cufft";
        out.println(header);
        List<String> rows = new ArrayList<>();
        for (int b : batches) {
            for (int len : lengths) {
                long elems = (long) b * d * len;
                // inputs, output and the cuFFT path's two scratch buffers [B*D, 2L] (real and complex) must fit with room
                long need = elems * 4 * 2 + elems * 4 * 2 * 3;
                if (need > MemInfo.current().freeBytes() * 0.8) {
                    out.printf(Locale.ROOT, "%d,%d,skipped: needs about %.1f GB of device memory%n", b, len, need / 1e9);
                    continue;
                }
                int sets = (int) Math.max(2, Math.min(4, (2L << 30) / (elems * 4)));
                List<Tensor> xs = new ArrayList<>();
                try (Tensor k = randomOnDevice(cuda, 7, d, len)) {
                    for (int s = 0; s < sets; s++) xs.add(randomOnDevice(cuda, 100 + s, b, d, len));
                    Tensor reference = null;
                    try {
                        for (CudaBackend.ConvPath path : paths) {
                            String row = time(cuda, k, xs, b, d, len, path, warmup, reps, copyGBs, reference);
                            if (row == null) continue;
                            if (reference == null && path == CudaBackend.ConvPath.CUFFT) reference = lastOutput;
                            else if (lastOutput != null) lastOutput.close();
                            lastOutput = null;
                            out.println(row);
                            rows.add(row);
                        }
                    } finally {
                        if (reference != null) reference.close();
                    }
                } finally {
                    xs.forEach(Tensor::close);
                }
                cuda.releaseScratch();
            }
        }
        String file = System.getProperty("out");
        if (file != null) Files.write(Path.of(file), (header + "\n" + String.join("\n", rows) + "\n").getBytes());
    }

    private static Tensor lastOutput;

    /** One row, or null when the path does not take this shape; leaves the output of the first set in {@link #lastOutput}. */
    private static String time(CudaBackend cuda, Tensor k, List<Tensor> xs, int b, int d, int len, CudaBackend.ConvPath path, int warmup, int reps,
                               double copyGBs, Tensor reference) {
        ConvPlan plan;
        try {
            plan = cuda.causalConvPlan(k, len, Layout.BDL, path);
        } catch (dev.longconv.LongConvException e) {
            return String.format(Locale.ROOT, "%d,%d,%s,skipped: %s", b, len, path.name().toLowerCase(Locale.ROOT), e.getMessage());
        }
        int sets = xs.size();
        Tensor y = Tensor.empty(cuda.device(), DType.FLOAT32, b, d, len);
        try (plan; CudaEvent start = CudaEvent.create(); CudaEvent stop = CudaEvent.create()) {
            for (int i = 0; i < warmup; i++) plan.applyInto(xs.get(i % sets), y);
            double[] ms = new double[reps];
            for (int i = 0; i < reps; i++) {
                start.record(cuda.stream());
                plan.applyInto(xs.get(i % sets), y);
                stop.record(cuda.stream());
                ms[i] = stop.elapsedMillisSince(start);
            }
            plan.applyInto(xs.get(0), y);
            String diff = reference == null ? "" : String.format(Locale.ROOT, "%.2e", relDiff(y, reference));
            Arrays.sort(ms);
            long elems = (long) b * d * len;
            double med = ms[reps / 2], gbs = 2.0 * elems * 4 / (med * 1e6);
            lastOutput = y;
            y = null;
            return String.format(Locale.ROOT, "%d,%d,%s,%d,%.4f,%.4f,%.1f,%.1f,%s", b, len, path.name().toLowerCase(Locale.ROOT), fftSize(cuda, k, len, path),
                    med, ms[0], gbs, 100 * gbs / copyGBs, diff);
        } finally {
            if (y != null) y.close();
        }
    }

    /** The FFT size the path uses, as the plan chose it (cuFFT: even 2^a3^b5^c7^d >= 2L-1; fused: the power of two). */
    private static int fftSize(CudaBackend cuda, Tensor k, int len, CudaBackend.ConvPath path) {
        long need = 2L * len - 1;
        if (path != CudaBackend.ConvPath.CUFFT) return Integer.highestOneBit((int) need - 1) << 1;
        for (long n = need + (need & 1); ; n += 2) {
            long m = n;
            for (int p : new int[] {2, 3, 5, 7}) while (m % p == 0) m /= p;
            if (m == 1) return (int) n;
        }
    }

    /** Relative L2 difference of two device tensors (copied to the host). */
    private static double relDiff(Tensor a, Tensor b) {
        try (Tensor ha = a.to(Device.CPU); Tensor hb = b.to(Device.CPU)) {
            var sa = ha.segment();
            var sb = hb.segment();
            double num = 0, den = 0;
            for (long i = 0, n = ha.numel(); i < n; i++) {
                double x = sa.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i), r = sb.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i);
                num += (x - r) * (x - r);
                den += r * r;
            }
            return Math.sqrt(num / Math.max(den, Double.MIN_NORMAL));
        }
    }

    /**
     * Uniform [-1, 1) values on the GPU: one host block of at most 16 M floats, copied up and tiled by device copies
     * (rows repeat past 16 M elements, which changes nothing for timing and keeps set-up seconds, not minutes).
     */
    static Tensor randomOnDevice(CudaBackend cuda, long seed, long... shape) {
        long n = 1;
        for (long s : shape) n *= s;
        long block = Math.min(n, 1L << 24);
        Tensor t = Tensor.empty(cuda.device(), DType.FLOAT32, shape);
        try (Tensor h = Tensor.zeros(DType.FLOAT32, block)) {
            var seg = h.segment();
            SplittableRandom r = new SplittableRandom(seed);
            for (long i = 0; i < block; i++) seg.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, (float) (2 * r.nextDouble() - 1));
            DeviceBuffer buf = t.deviceBuffer();
            buf.copyFrom(seg);
            for (long done = block; done < n; ) {
                long c = Math.min(done, n - done);
                buf.copyFrom(buf, 0, done * 4, c * 4);
                done += c;
            }
            return t;
        } catch (RuntimeException | Error e) {
            t.close();
            throw e;
        }
    }

    /** GB/s of a 1 GiB device-to-device copy, counting bytes read and written; median of 10. */
    static double copyBandwidth(CudaBackend cuda) {
        long bytes = 1L << 30;
        try (DeviceBuffer a = DeviceBuffer.allocate(bytes); DeviceBuffer c = DeviceBuffer.allocate(bytes);
             CudaEvent start = CudaEvent.create(); CudaEvent stop = CudaEvent.create()) {
            a.memset(1);
            double[] ms = new double[10];
            for (int i = -2; i < ms.length; i++) {
                start.record(cuda.stream());
                c.copyFromAsync(a, 0, 0, bytes, cuda.stream());
                stop.record(cuda.stream());
                float t = stop.elapsedMillisSince(start);
                if (i >= 0) ms[i] = t;
            }
            Arrays.sort(ms);
            return 2.0 * bytes / (ms[ms.length / 2] * 1e6);
        }
    }
}
