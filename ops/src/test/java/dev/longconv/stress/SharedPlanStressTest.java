package dev.longconv.stress;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;
import dev.longconv.ops.ConvPlan;
import dev.longconv.ops.Ops;
import dev.longconv.ops.TestBackends;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Plans are shared by threads: every plan kind (scalar and vector, direct and FFT, causal and toeplitz, gated) applied
 * from several threads at once gives bit for bit what it gives alone; and 10^5 small op calls leave the process's
 * resident memory bounded (closed tensors' memory goes back).
 */
@Tag("stress")
class SharedPlanStressTest {
    @Test
    void sharedPlansGiveTheSameBitsFromEveryThread() throws Exception {
        int d = 24, len = 700;
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            for (Backend be : TestBackends.cpu()) {
                for (DType dt : DType.values()) {
                    for (int taps : new int[] {5, 700}) {
                        try (Tensor k = Tensor.random(dt, taps, d, taps); Tensor kt = Tensor.random(dt, 3, d, 2 * len - 1);
                             ConvPlan causal = be.causalConvPlan(k, len, Layout.BDL); ConvPlan toeplitz = be.toeplitzConvPlan(kt, len, Layout.BDL)) {
                            for (ConvPlan plan : new ConvPlan[] {causal, toeplitz}) {
                                List<Tensor> xs = new ArrayList<>(), alone = new ArrayList<>();
                                for (int i = 0; i < 4; i++) {
                                    Tensor x = Tensor.random(dt, 100 + i, 2, d, len);
                                    xs.add(x);
                                    Tensor y = Tensor.zeros(dt, 2, d, len);
                                    plan.applyGatedInto(x, x, null, null, y, Layout.BDL);
                                    alone.add(y);
                                }
                                List<Future<?>> runs = new ArrayList<>();
                                for (int t = 0; t < 4; t++) {
                                    int first = t;
                                    runs.add(pool.submit(() -> {
                                        for (int rep = 0; rep < 3; rep++) {
                                            for (int i = 0; i < xs.size(); i++) {
                                                int j = (i + first) % xs.size();
                                                try (Tensor y = Tensor.zeros(dt, 2, d, len)) {
                                                    plan.applyGatedInto(xs.get(j), xs.get(j), null, null, y, Layout.BDL);
                                                    assertArrayEquals(alone.get(j).toDoubleArray(), y.toDoubleArray(), plan.describe() + " input " + j);
                                                }
                                            }
                                        }
                                        return null;
                                    }));
                                }
                                for (Future<?> f : runs) f.get();
                                xs.forEach(Tensor::close);
                                alone.forEach(Tensor::close);
                            }
                        }
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aHundredThousandSmallCallsKeepResidentMemoryBounded() throws Exception {
        Path status = Path.of("/proc/self/status");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(status), "no /proc/self/status here");
        try (Tensor x = Tensor.random(DType.FLOAT32, 1, 1, 20, 256); Tensor k = Tensor.random(DType.FLOAT32, 2, 20, 8)) {
            for (int i = 0; i < 10_000; i++) Ops.causalConv(x, k, Layout.BDL).close();
            long before = rssKiB(status);
            for (int i = 0; i < 100_000; i++) Ops.causalConv(x, k, Layout.BDL).close();
            long grew = rssKiB(status) - before;
            System.out.println("resident memory after 10^5 causal-conv calls at [1, 20, 256]: " + grew / 1024 + " MiB more than after 10^4");
            // 10^5 outputs of 20 KiB are 2 GiB: without release this would be far above the budget of closed memory
            assertTrue(grew < 768 * 1024, "resident memory grew by " + grew / 1024 + " MiB");
        }
    }

    private static long rssKiB(Path status) throws Exception {
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        throw new IllegalStateException("no VmRSS in " + status);
    }
}
