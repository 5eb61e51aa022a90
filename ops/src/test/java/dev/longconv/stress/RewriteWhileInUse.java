package dev.longconv.stress;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.Tensor;
import dev.longconv.backend.vector.VectorBackend;
import dev.longconv.io.Npy;
import dev.longconv.ops.ConvPlan;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The child JVM of {@link RewriteWhileInUseTest}: loads a 16 MiB .npy, warms a vector plan on it until its loads are
 * compiled, rewrites the file in place as numpy.save does (truncate, then write), and uses the tensor again. Prints
 * "ok" when it survives. Argument 2 "mapped" uses the opt-in mapping instead (which is expected to fault).
 */
public final class RewriteWhileInUse {
    private RewriteWhileInUse() {}

    public static void main(String[] args) throws Exception {
        Path f = Path.of(args[0]);
        boolean mapped = args.length > 1 && args[1].equals("mapped");
        int d = 64, len = 65536;
        try (Tensor t = Tensor.random(DType.FLOAT32, 1, 1, d, len)) {
            Npy.save(t, f);
        }
        try (Tensor x = mapped ? Npy.loadMapped(f) : Npy.load(f); Tensor k = Tensor.random(DType.FLOAT32, 2, d, 16);
             Tensor y = Tensor.zeros(DType.FLOAT32, 1, d, len)) {
            ConvPlan plan = new VectorBackend().causalConvPlan(k, len, Layout.BDL);
            long end = System.nanoTime() + 3_000_000_000L;
            while (System.nanoTime() < end) plan.applyInto(x, y);
            double before = y.get(0, 0, 100);
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ch.write(ByteBuffer.wrap(new byte[128]));
            }
            for (int i = 0; i < 20; i++) plan.applyInto(x, y);
            System.out.println(y.get(0, 0, 100) == before ? "ok" : "changed");
        }
    }
}
