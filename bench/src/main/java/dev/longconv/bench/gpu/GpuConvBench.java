package dev.longconv.bench.gpu;

import dev.longconv.DType;
import dev.longconv.Device;
import dev.longconv.DeviceMemory;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.backend.cuda.ConvPath;
import dev.longconv.backend.cuda.CudaBackend;
import dev.longconv.cuda.CudaEvent;
import dev.longconv.cuda.CudaProbe;
import dev.longconv.cuda.DeviceBuffer;
import dev.longconv.cuda.MemInfo;
import dev.longconv.ops.ConvPlan;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * GPU timing of causal-conv through the cuda backend, kernel spectra prepared once: D=768, float32, Lk=L, for each
 * layout in {@code -Dlayouts} (default bdl,bld), each batch in {@code -Dbatches} (default 16), each length in the
 * arguments (default 1024 4096 16384 65536) and each path in {@code -Dpaths} (default cufft,fused: the cuFFT pipeline
 * and the fused single-pass kernel, where it takes the size; cuFFT always runs first, as the reference). Each call is
 * timed alone with CUDA events on the backend's stream; inputs rotate over several sets so the 50 MB L2 cannot hold
 * them; the median of {@code -Dreps} (default 30) after {@code -Dwarmup} (default 5) calls is reported with the
 * bandwidth for the bytes a call must move (read x, write y) against the copy bandwidth measured on the same card,
 * and with {@code speedup_vs_cufft} (the cuFFT path's median over this path's). Each fused output is compared with
 * the cuFFT path's; a relative L2 difference above {@value #MAX_DIFF} fails the run (exit 1).
 *
 * <p>Usage: {@code java -cp benchmarks.jar dev.longconv.bench.gpu.GpuConvBench [L...]}; {@code -Dout=file.csv}
 * writes the rows as CSV too.
 */
public final class GpuConvBench {
    private GpuConvBench() {}

    /** Both paths are within 1e-5 of float64 in the parity suite; two such results differ by at most about twice that. */
    static final double MAX_DIFF = 1e-4;

    /** One timed configuration; {@code output} is the result of the first input set (the caller closes it). */
    private record Timing(String path, int fftN, double medianMs, double minMs, Tensor output) {}

    public static void main(String[] args) throws IOException {
        var status = CudaProbe.status();
        if (!status.available()) {
            System.err.println("GpuConvBench: CUDA not available: " + status.reason());
            System.exit(2);
        }
        int d = Integer.getInteger("channels", 768);
        int warmup = Integer.getInteger("warmup", 5), reps = Integer.getInteger("reps", 30);
        int[] batches = Arrays.stream(System.getProperty("batches", "16").split(",")).mapToInt(s -> Integer.parseInt(s.strip())).toArray();
        List<Layout> layouts = Arrays.stream(System.getProperty("layouts", "bdl,bld").split(","))
                .map(p -> Layout.valueOf(p.strip().toUpperCase(Locale.ROOT))).toList();
        List<ConvPath> paths = new ArrayList<>(Arrays.stream(System.getProperty("paths", "cufft,fused").split(","))
                .map(p -> ConvPath.valueOf(p.strip().toUpperCase(Locale.ROOT))).distinct().toList());
        paths.sort(Comparator.comparing(p -> p != ConvPath.CUFFT)); // the reference first
        int[] lengths = args.length == 0 ? new int[] {1024, 4096, 16384, 65536} : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
        CudaBackend cuda = CudaBackend.on(0);
        var dev = status.devices().get(0);
        double copyGBs = copyBandwidth(cuda);
        PrintStream out = System.out;
        out.printf(Locale.ROOT, "device %s (cc %s), CUDA runtime %d, driver %d, cuFFT %s%n", dev.name(), dev.computeCapability(),
                status.runtimeVersion(), status.driverVersion(), status.cufft());
        out.printf(Locale.ROOT, "device-to-device copy: %.0f GB/s (bytes read + written), the HBM bound used below%n", copyGBs);
        out.printf(Locale.ROOT, "causal-conv, D=%d float32, Lk=L, median of %d after %d warm-up%n", d, reps, warmup);
        String header = "layout,B,L,path,fft_n,median_ms,min_ms,GB_per_s,pct_of_copy_bw,speedup_vs_cufft,rel_diff_vs_cufft";
        out.println(header);
        List<String> rows = new ArrayList<>();
        double worstDiff = 0;
        for (Layout layout : layouts) {
            for (int b : batches) {
                for (int len : lengths) {
                    long elems = (long) b * d * len;
                    // inputs, output and the cuFFT path's two scratch buffers [B*D, 2L] (real and complex) must fit with room
                    long need = elems * 4 * 2 + elems * 4 * 2 * 3;
                    String shape = String.format(Locale.ROOT, "%s,%d,%d", layout.name().toLowerCase(Locale.ROOT), b, len);
                    if (need > MemInfo.current().freeBytes() * 0.8) {
                        out.printf(Locale.ROOT, "%s,skipped: needs about %.1f GB of device memory%n", shape, need / 1e9);
                        continue;
                    }
                    int sets = (int) Math.max(2, Math.min(4, (2L << 30) / (elems * 4)));
                    List<Tensor> xs = new ArrayList<>();
                    Timing reference = null;
                    try (Tensor k = randomOnDevice(cuda, 7, layout.kernelShape(d, len))) {
                        for (int s = 0; s < sets; s++) xs.add(randomOnDevice(cuda, 100 + s, layout.seqShape(b, d, len)));
                        for (ConvPath path : paths) {
                            Timing t;
                            try {
                                t = time(cuda, k, xs, len, layout, path, warmup, reps);
                            } catch (LongConvException e) {
                                String row = shape + "," + path.name().toLowerCase(Locale.ROOT) + ",skipped: " + e.getMessage();
                                out.println(row);
                                continue;
                            }
                            String speedup = "", diff = "";
                            if (reference != null) {
                                double rel = relDiff(t.output(), reference.output());
                                worstDiff = Math.max(worstDiff, rel);
                                speedup = String.format(Locale.ROOT, "%.3f", reference.medianMs() / t.medianMs());
                                diff = String.format(Locale.ROOT, "%.2e", rel);
                                t.output().close();
                            } else if (path == ConvPath.CUFFT) {
                                reference = t;
                                speedup = "1.000";
                            } else {
                                t.output().close();
                            }
                            double gbs = 2.0 * elems * 4 / (t.medianMs() * 1e6);
                            String row = String.format(Locale.ROOT, "%s,%s,%d,%.4f,%.4f,%.1f,%.1f,%s,%s", shape, t.path(), t.fftN(), t.medianMs(), t.minMs(), gbs,
                                    100 * gbs / copyGBs, speedup, diff);
                            out.println(row);
                            rows.add(row);
                        }
                    } finally {
                        if (reference != null) reference.output().close();
                        xs.forEach(Tensor::close);
                    }
                    cuda.releaseScratch();
                }
            }
        }
        String file = System.getProperty("out");
        if (file != null) Files.write(Path.of(file), (header + "\n" + String.join("\n", rows) + "\n").getBytes());
        out.printf(Locale.ROOT, "fused vs cuFFT: largest relative L2 difference %.2e (limit %.0e)%n", worstDiff, MAX_DIFF);
        if (worstDiff > MAX_DIFF) System.exit(1);
    }

    /** Times one path on one shape; LongConvException when the path does not take it. */
    private static Timing time(CudaBackend cuda, Tensor k, List<Tensor> xs, int len, Layout layout, ConvPath path, int warmup,
                               int reps) {
        int sets = xs.size();
        try (ConvPlan plan = cuda.causalConvPlan(k, len, layout, path); CudaEvent start = CudaEvent.create(); CudaEvent stop = CudaEvent.create()) {
            Tensor y = Tensor.empty(cuda.device(), DType.FLOAT32, xs.get(0).shape());
            try {
                for (int i = 0; i < warmup; i++) plan.applyInto(xs.get(i % sets), y);
                double[] ms = new double[reps];
                for (int i = 0; i < reps; i++) {
                    start.record(cuda.stream());
                    plan.applyInto(xs.get(i % sets), y);
                    stop.record(cuda.stream());
                    ms[i] = stop.elapsedMillisSince(start);
                }
                plan.applyInto(xs.get(0), y);
                Arrays.sort(ms);
                return new Timing(path.name().toLowerCase(Locale.ROOT), plan.describe().fftSize(), ms[reps / 2], ms[0], y);
            } catch (RuntimeException | Error e) {
                y.close();
                throw e;
            }
        }
    }

    /** Relative L2 difference of two device tensors (copied to the host). */
    private static double relDiff(Tensor a, Tensor b) {
        try (Tensor ha = a.to(Device.CPU); Tensor hb = b.to(Device.CPU)) {
            var sa = ha.segment();
            var sb = hb.segment();
            double num = 0, den = 0;
            for (long i = 0, n = ha.numel(); i < n; i++) {
                double x = sa.getAtIndex(ValueLayout.JAVA_FLOAT, i), r = sb.getAtIndex(ValueLayout.JAVA_FLOAT, i);
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
            for (long i = 0; i < block; i++) seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (2 * r.nextDouble() - 1));
            DeviceMemory buf = t.deviceMemory();
            buf.copyFromHost(seg, 0);
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
