package dev.longconv.bench;

import dev.longconv.Tensor;
import dev.longconv.ops.Backend;
import dev.longconv.ops.Backends;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
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
 * The small TNO and GTU forwards of {@link ServingBench} (vector backend, float32) in a JVM where other code has
 * already run Vector API loops before longconv's loops were compiled, since such code shares the JIT's profiles of the
 * JDK's methods with longconv ({@code neighbour}):
 * <ul>
 * <li>none: nothing ran first.
 * <li>heap: loads and stores over a segment of a float[] ({@code MemorySegment.ofArray}).
 * <li>mapped: the same over a memory-mapped file (as a search library reads its index), in a shared arena.
 * <li>reinterpret: an {@code IntVector} loop over {@code reinterpretAsInts} of float vectors (its Java fallback goes
 * through a heap segment).
 * <li>confined: loads and stores over native memory of a confined arena ({@code Arena.ofConfined()}).
 * </ul>
 * Before longconv typed its segments for the JIT ({@code NativeSegments}), the first three made the TNO's best call
 * 1.3-1.9x slower for good (two Zen 5 cores); they now read 1.03-1.20x of none, within this VM's noise. The last one
 * is not fixed: the JIT recompiles longconv's segment loops over and over for the first tens of seconds (README,
 * Troubleshooting), so its rows read several times slower in a short run. Run: java -jar bench/target/benchmarks.jar NeighbourBench
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class NeighbourBench {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, S.vectorShape());

    @Param({"none", "heap", "mapped", "reinterpret", "confined"})
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

    /** The neighbour's loop over 64 KB, run until it is compiled (about a second). */
    private void runNeighbour() throws IOException {
        int bytes = 1 << 16, rounds = 20_000;
        if (neighbour.equals("reinterpret")) {
            float[] x = new float[bytes / Float.BYTES];
            for (int i = 0; i < x.length; i++) x[i] = i - 2000.5f;
            for (int round = 0; round < rounds; round++) {
                IntVector m = IntVector.zero(INTS);
                for (int i = 0; i < x.length; i += S.length()) m = m.max(((IntVector) FloatVector.fromArray(S, x, i).reinterpretAsInts()).and(0x7fffffff));
                neighbourSum += m.reduceLanes(VectorOperators.MAX);
            }
            return;
        }
        Path file = null;
        try (Arena arena = neighbour.equals("confined") ? Arena.ofConfined() : Arena.ofShared()) {
            MemorySegment seg = switch (neighbour) {
                case "heap" -> MemorySegment.ofArray(new float[bytes / Float.BYTES]);
                case "confined" -> arena.allocate(bytes, 64);
                case "mapped" -> {
                    file = Files.createTempFile("neighbour", ".bin");
                    Files.write(file, new byte[bytes]);
                    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                        yield ch.map(FileChannel.MapMode.READ_WRITE, 0, bytes, arena);
                    }
                }
                default -> throw new IllegalArgumentException("neighbour " + neighbour);
            };
            for (int round = 0; round < rounds; round++) {
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
        return layers.gtuForward(be);
    }

    @Benchmark
    public Tensor tnoForward() {
        return layers.tnoForward(be);
    }
}
