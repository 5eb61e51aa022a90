package dev.longconv.bench.gpu;

import dev.longconv.DType;
import dev.longconv.Device;
import dev.longconv.Layout;
import dev.longconv.Tensor;
import dev.longconv.backend.cuda.CudaBackend;
import dev.longconv.cuda.CudaEvent;
import dev.longconv.cuda.CudaProbe;
import dev.longconv.cuda.DeviceBuffer;
import dev.longconv.ops.ConvPlan;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * GPU timing of causal-conv through the cuda backend's cuFFT path, kernel spectra prepared once: B=16, D=768,
 * float32, BDL, L from the arguments (default 1024 4096 16384 65536). Each call is timed alone with CUDA events
 * on the backend's stream; inputs rotate over several sets so the 50 MB L2 cannot hold them; the median of
 * {@code -Dreps} (default 30) after {@code -Dwarmup} (default 5) calls is reported with achieved bandwidth for
 * the bytes a call must move (read x, write y) against the copy bandwidth measured on the same card.
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
        int b = Integer.getInteger("batch", 16), d = Integer.getInteger("channels", 768);
        int warmup = Integer.getInteger("warmup", 5), reps = Integer.getInteger("reps", 30);
        int[] lengths = args.length == 0 ? new int[] {1024, 4096, 16384, 65536} : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
        CudaBackend cuda = CudaBackend.on(0);
        Device gpu = cuda.device();
        var dev = status.devices().get(0);
        double copyGBs = copyBandwidth(cuda);
        PrintStream out = System.out;
        out.printf(Locale.ROOT, "device %s (cc %s), CUDA runtime %d, driver %d, cuFFT %s%n", dev.name(), dev.computeCapability(),
                status.runtimeVersion(), status.driverVersion(), status.cufft());
        out.printf(Locale.ROOT, "device-to-device copy: %.0f GB/s (bytes read + written), the HBM bound used below%n", copyGBs);
        out.printf(Locale.ROOT, "causal-conv cuFFT path, B=%d D=%d float32 BDL, median of %d after %d warm-up%n", b, d, reps, warmup);
        out.println("L,fft_n,median_ms,min_ms,GB_per_s,pct_of_copy_bw");
        List<String> rows = new ArrayList<>();
        for (int len : lengths) {
            long elems = (long) b * d * len;
            int sets = (int) Math.max(2, Math.min(4, (3L << 30) / (elems * 4)));
            List<Tensor> xs = new ArrayList<>();
            try (Tensor k = random(gpu, 7, d, len); Tensor y = Tensor.empty(gpu, DType.FLOAT32, b, d, len);
                 ConvPlan plan = cuda.causalConvPlan(k, len, Layout.BDL); CudaEvent start = CudaEvent.create(); CudaEvent stop = CudaEvent.create()) {
                for (int s = 0; s < sets; s++) xs.add(random(gpu, 100 + s, b, d, len));
                for (int i = 0; i < warmup; i++) plan.applyInto(xs.get(i % sets), y);
                cuda.synchronize();
                double[] ms = new double[reps];
                for (int i = 0; i < reps; i++) {
                    start.record(cuda.stream());
                    plan.applyInto(xs.get(i % sets), y);
                    stop.record(cuda.stream());
                    ms[i] = stop.elapsedMillisSince(start);
                }
                Arrays.sort(ms);
                double med = ms[reps / 2], gbs = 2.0 * elems * 4 / (med * 1e6);
                int n = fftSize(len);
                String row = String.format(Locale.ROOT, "%d,%d,%.4f,%.4f,%.1f,%.1f", len, n, med, ms[0], gbs, 100 * gbs / copyGBs);
                out.println(row);
                rows.add(row);
            } finally {
                xs.forEach(Tensor::close);
            }
        }
        String file = System.getProperty("out");
        if (file != null) Files.write(Path.of(file), (String.join("\n", rows) + "\n").getBytes());
        cuda.releaseScratch();
    }

    /** The FFT length the cuda plan picks for a causal kernel as long as the input. */
    static int fftSize(int len) {
        long need = 2L * len - 1;
        for (long n = need + (need & 1); ; n += 2) {
            long m = n;
            for (int p : new int[] {2, 3, 5, 7}) while (m % p == 0) m /= p;
            if (m == 1) return (int) n;
        }
    }

    /** Uniform [-1, 1) values made on the host, copied once to the GPU. */
    static Tensor random(Device gpu, long seed, long... shape) {
        try (Tensor h = Tensor.random(DType.FLOAT32, seed, shape)) {
            return h.to(gpu);
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
