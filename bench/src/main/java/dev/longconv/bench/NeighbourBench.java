package dev.longconv.bench;

import dev.longconv.Tensor;
import dev.longconv.ops.Backend;
import dev.longconv.ops.Backends;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * The small TNO and GTU forwards of {@link ServingBench} (vector backend) in a JVM where other code has already run
 * Vector API loops over segments of another kind, before longconv's loops were compiled: {@code neighbour} = none,
 * heap (a segment over a float[]: {@code MemorySegment.ofArray}) or mapped (a memory-mapped file, as a search
 * library reads its index). Such loops share the JDK's type profiles with longconv's, and before longconv typed its
 * segments for the JIT ({@code NativeSegments}) they made its forwards 1.2-1.6x slower. The three rows should agree
 * within noise. Run: java -jar bench/target/benchmarks.jar NeighbourBench
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class NeighbourBench {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    @Param({"none", "heap", "mapped"})
    String neighbour;

    Backend be;
    SmallLayers layers;
    /** What the neighbour's loops computed, so the JIT cannot drop them. */
    float neighbourSum;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        if (!neighbour.equals("none")) runNeighbour();
        be = Backends.get("vector");
        layers = new SmallLayers();
    }

    /** Loads, adds and stores over 64 KB of the neighbour's segment until its loop is compiled (about a second). */
    private void runNeighbour() throws IOException {
        int bytes = 1 << 16;
        Path file = null;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg;
            if (neighbour.equals("heap")) {
                seg = MemorySegment.ofArray(new float[bytes / Float.BYTES]);
            } else {
                file = Files.createTempFile("neighbour", ".bin");
                Files.write(file, new byte[bytes]);
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                    seg = ch.map(FileChannel.MapMode.READ_WRITE, 0, bytes, arena);
                }
            }
            for (int round = 0; round < 20_000; round++) {
                FloatVector acc = FloatVector.zero(S);
                for (long i = 0; i < bytes; i += S.vectorByteSize()) {
                    FloatVector v = FloatVector.fromMemorySegment(S, seg, i, ByteOrder.LITTLE_ENDIAN);
                    acc = acc.add(v);
                    v.add(1f).intoMemorySegment(seg, i, ByteOrder.LITTLE_ENDIAN);
                }
                neighbourSum += acc.reduceLanes(VectorOperators.ADD);
            }
        } finally {
            if (file != null) Files.deleteIfExists(file);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        layers.close();
    }

    @Benchmark
    public Tensor gtuForward() {
        try (Tensor y = layers.gtu.forward(be, layers.gtuX)) {
            return y;
        }
    }

    @Benchmark
    public Tensor tnoForward() {
        try (Tensor y = layers.tno.forward(be, layers.tnoX)) {
            return y;
        }
    }
}
