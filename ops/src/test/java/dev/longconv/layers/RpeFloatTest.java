package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;
import dev.longconv.ops.Backends;
import dev.longconv.ops.spi.BiasedGemm;
import dev.longconv.ops.spi.HostTasks;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The positional encoder's float32 pass ({@link Rpe#forwardFloat32}) split into runs of rows across a backend's host
 * tasks: it asks for one run per host thread (at most one per row), and the split result is the same, bit for bit, as one run over every
 * row, for every run length (1 to 2047 positions, 1 to 5 runs, runs of unequal length and of one row), depth, norm
 * type, residual and bias. Both also follow the float64 pass within relative L2 1e-5 (float32 roundings between the
 * steps). The host tasks here are the vector backend's ops behind a proxy that claims a given thread count and runs
 * the tasks on the calling thread in reverse order, so the split does not depend on this machine's cores.
 */
class RpeFloatTest {
    @Test
    void rowRunsGiveTheResultOfOneRun() {
        long seed = TnnTestSupport.SEED + 71;
        SplittableRandom rng = new SplittableRandom(seed);
        Backend vector = Backends.get("vector");
        for (int trial = 0; trial < 24; trial++) {
            int dim = 1 + rng.nextInt(40), outdim = 1 + rng.nextInt(40), layers = rng.nextInt(4);
            NormType norm = NormType.values()[rng.nextInt(NormType.values().length)];
            Rpe.Config c = new Rpe.Config(dim, outdim, rng.nextBoolean(), rng.nextBoolean() ? Activation.RELU : Activation.SILU,
                    rng.nextBoolean(), layers, norm);
            Map<String, Tensor> params = randomParams(c, "rpe.", rng);
            Rpe rpe = new Rpe("rpe", c, "rpe.", params);
            int m = switch (trial % 4) {
                case 0 -> 1 + rng.nextInt(4);
                case 1 -> 2047;
                default -> 5 + rng.nextInt(600);
            };
            double[] positions = centredPositions(m);
            int threads = 2 + rng.nextInt(4);
            List<Integer> ran = new ArrayList<>();
            String where = "seed " + seed + " trial " + trial + " " + c + " m=" + m + " threads=" + threads;
            float[] whole, split;
            try (Arena arena = Arena.ofShared()) {
                whole = rpe.forwardFloat32(vector, arena, positions).toFloatArray();
                split = rpe.forwardFloat32(TnnTestSupport.reversedTasks(vector, threads, ran), arena, positions).toFloatArray();
            }
            int runs = Math.min(threads, m);
            assertEquals(runs > 1 ? runs : 0, ran.size(), where + ": host tasks asked for (none for one run)");
            assertArrayEquals(whole, split, where);
            double[] ref = rpe.forward(Backends.get("scalar"), DType.FLOAT64, positions, false).output();
            double err = TnnTestSupport.relL2(toDoubles(whole), ref);
            assertTrue(err <= 1e-5, where + ": relative L2 " + err);
        }
    }

    /**
     * Runs of rows split the rows in order, each boundary within a sixteenth of a run of the even split, and on a
     * checkpoint of the first block where one is that near (a TNO's 2L - 1 positions halve at L, not L - 1).
     */
    @Test
    void runsStartOnACheckpointWhenOneIsNear() {
        int align = RpeFirstBlock.CHECKPOINT;
        assertEquals(512, Rpe.runStart(1023, 2, 1, align), "a GTU's 1023 positions in two runs");
        assertEquals(1024, Rpe.runStart(2047, 2, 1, align), "a TNO's 2047 positions in two runs");
        assertEquals(511, Rpe.runStart(1023, 2, 1, 1), "no alignment");
        assertEquals(150, Rpe.runStart(300, 2, 1, align), "no checkpoint within a sixteenth of 150 rows");
        for (int m : new int[] {1, 2, 15, 255, 256, 257, 511, 1023, 2047, 4095, 5000, 65535}) {
            for (int parts = 1; parts <= 5; parts++) {
                for (int a : new int[] {1, align}) {
                    String where = "m=" + m + " parts=" + parts + " align=" + a;
                    assertEquals(0, Rpe.runStart(m, parts, 0, a), where + ": first start");
                    assertEquals(m, Rpe.runStart(m, parts, parts, a), where + ": last end");
                    for (int part = 1; part < parts; part++) {
                        int start = Rpe.runStart(m, parts, part, a), even = (int) ((long) m * part / parts);
                        assertTrue(Rpe.runStart(m, parts, part - 1, a) <= start, where + ": runs in order at " + part);
                        assertTrue(Math.abs(start - even) <= m / parts / 16, where + ": start " + start + " against " + even);
                        int nearest = Math.round((float) even / a) * a;
                        if (Math.abs(nearest - even) <= m / parts / 16 && nearest > 0 && nearest < m) {
                            assertEquals(nearest, start, where + ": the checkpoint near " + even);
                        }
                    }
                }
            }
        }
    }

    /**
     * The first block by pieces (ReLU with a simple RMS, RMS or scale norm: {@link RpeFirstBlock}) against the same pass
     * through the block's norm, activation and GEMM: within relative L2 1e-6, and both within 1e-5 of the float64 pass.
     * The lines p w_j + b_j change sign between positions, on positions (b_j = -p_k w_j), never (w_j = 0), with
     * negative norm scales, at 1 to 2047 positions, with 1 to 600 values (dim 512 and out 96: a GTU's defaults), in
     * runs of rows across 1 to 4 threads. A row where every line changes sign together (the row vanishes up to
     * rounding) is compared with the float64 pass only: the GEMM path's float32 row is exactly zero there, while the
     * float64 one is the normalized rounding residue, which the pieces follow.
     */
    @Test
    void firstBlockByPiecesFollowsItsGemm() {
        long seed = TnnTestSupport.SEED + 73;
        SplittableRandom rng = new SplittableRandom(seed);
        Backend vector = Backends.get("vector"), scalar = Backends.get("scalar");
        NormType[] norms = {NormType.SIMPLE_RMS, NormType.RMS, NormType.SCALE};
        for (int trial = 0; trial < 40; trial++) {
            boolean wide = trial == 0;
            int dim = wide ? 512 : 1 + rng.nextInt(trial % 8 == 1 ? 600 : 40), outdim = wide ? 96 : 1 + rng.nextInt(40);
            int shape = trial % 5; // 0 plain, 1 on positions, 2 some w_j = 0, 3 negative scales, 4 all on one position
            Rpe.Config c = new Rpe.Config(dim, outdim, rng.nextBoolean(), Activation.RELU, shape == 4 || rng.nextBoolean(),
                    rng.nextInt(3), norms[rng.nextInt(norms.length)]);
            int m = wide ? 1023 : switch (trial % 3) {
                case 0 -> 1 + rng.nextInt(3);
                case 1 -> 2047;
                default -> 5 + rng.nextInt(700);
            };
            int n = (m + 1) / 2;
            double[] positions = new double[m];
            boolean scaled = rng.nextBoolean(); // par_type 1: lags; 2: lags / (n - 1)
            for (int i = 0; i < m; i++) positions[i] = scaled && n > 1 ? (i - (m - 1) / 2.0) / (n - 1) : i - (m - 1) / 2.0;
            Map<String, Tensor> params = randomParams(c, "rpe.", rng);
            Tensor w = params.get("rpe.pos_proj.weight"), b = params.get("rpe.pos_proj.bias");
            double at = positions[rng.nextInt(m)];
            for (int j = 0; j < dim; j++) {
                if (shape == 1 && b != null) b.setFlat(j, (float) (-positions[rng.nextInt(m)] * w.getFlat(j)));
                if (shape == 2 && rng.nextInt(3) == 0) w.setFlat(j, 0);
                if (shape == 4) b.setFlat(j, (float) (-at * w.getFlat(j)));
            }
            String scale = c.normType() == NormType.RMS ? "scale" : c.normType() == NormType.SCALE ? "scala" : null;
            if (shape == 3 && scale != null) {
                Tensor g = params.get("rpe.layers.0.0." + scale) != null ? params.get("rpe.layers.0.0." + scale) : params.get("rpe.out.0." + scale);
                for (int j = 0; j < g.numel(); j++) g.setFlat(j, -Math.abs(g.getFlat(j)) - 0.1);
            }
            Rpe rpe = new Rpe("rpe", c, "rpe.", params);
            String where = "seed " + seed + " trial " + trial + " " + c + " m=" + m + " shape=" + shape;
            double[] pieces, gemm;
            try (Arena arena = Arena.ofShared()) {
                int threads = 1 + rng.nextInt(4);
                pieces = toDoubles(rpe.forwardFloat32(TnnTestSupport.reversedTasks(vector, threads, new ArrayList<>()), arena, positions, true).toFloatArray());
                gemm = toDoubles(rpe.forwardFloat32(vector, arena, positions, false).toFloatArray());
            }
            double[] ref = rpe.forward(scalar, DType.FLOAT64, positions, false).output();
            double errPieces = TnnTestSupport.relL2(pieces, ref), errGemm = TnnTestSupport.relL2(gemm, ref), apart = TnnTestSupport.relL2(pieces, gemm);
            assertTrue(errPieces <= 1e-5, where + ": pieces against float64, relative L2 " + errPieces);
            if (shape != 4) {
                assertTrue(errGemm <= 1e-5, where + ": GEMM path against float64, relative L2 " + errGemm);
                assertTrue(apart <= 1e-6, where + ": pieces against the GEMM path, relative L2 " + apart);
            }
        }
    }

    /**
     * Pieces apply to ReLU with a norm without a shift, positions (at least one) in order, finite parameters and a first
     * Linear of at most {@link RpeFirstBlock#MAX_TABLE_FLOATS} values, and nowhere else.
     */
    @Test
    void piecesApplyOnlyWhereTheIdentityHolds() {
        long seed = TnnTestSupport.SEED + 79;
        SplittableRandom rng = new SplittableRandom(seed);
        double[] ordered = {-2, -1, 0, 1, 2}, unordered = {-2, 0, -1, 1, 2};
        for (NormType norm : NormType.values()) {
            for (Activation act : new Activation[] {Activation.RELU, Activation.SILU, Activation.LEAK}) {
                Rpe.Config c = new Rpe.Config(6, 4, false, act, true, 1, norm);
                Map<String, Tensor> p = randomParams(c, "", rng);
                String scale = norm == NormType.RMS ? "scale" : norm == NormType.SCALE ? "scala" : null;
                Tensor g = scale == null ? null : p.get("layers.0.0." + scale);
                Tensor w0 = p.get("layers.0.2.weight");
                boolean applies = act == Activation.RELU && (norm == NormType.SIMPLE_RMS || norm == NormType.RMS || norm == NormType.SCALE);
                String where = "seed " + seed + " " + norm + " " + act;
                assertEquals(applies, RpeFirstBlock.of(c, ordered, p.get("pos_proj.weight"), p.get("pos_proj.bias"), g, w0) != null, where);
                if (!applies) continue;
                assertEquals(null, RpeFirstBlock.of(c, unordered, p.get("pos_proj.weight"), p.get("pos_proj.bias"), g, w0), where + " unordered");
                assertEquals(null, RpeFirstBlock.of(c, new double[0], p.get("pos_proj.weight"), p.get("pos_proj.bias"), g, w0), where + " empty");
                int wide = (int) (RpeFirstBlock.MAX_TABLE_FLOATS / c.dim() + 1);
                try (Tensor big = Tensor.zeros(DType.FLOAT32, wide, c.dim())) {
                    assertEquals(null, RpeFirstBlock.of(c, ordered, p.get("pos_proj.weight"), p.get("pos_proj.bias"), g, big), where + " wide");
                }
                for (Tensor bad : new Tensor[] {p.get("pos_proj.weight"), p.get("pos_proj.bias"), w0}) {
                    double keep = bad.getFlat(1);
                    for (double v : new double[] {Double.NaN, Double.POSITIVE_INFINITY}) {
                        bad.setFlat(1, v);
                        assertEquals(null, RpeFirstBlock.of(c, ordered, p.get("pos_proj.weight"), p.get("pos_proj.bias"), g, w0), where + " " + v);
                    }
                    bad.setFlat(1, keep);
                }
            }
        }
    }

    /**
     * The first block's weight transposed by ranges of columns on the host tasks (from {@link
     * RpeFirstBlock#POOL_MIN_VALUES} values; 127 x 127 stays on one thread) gives the bits of the transpose on one
     * thread, and a NaN or an infinity in any range (the first column, the last, one in the middle) still turns the
     * pieces off.
     */
    @Test
    void firstBlockWeightTransposedOnTheTasksGivesTheBitsOfOneThread() {
        long seed = TnnTestSupport.SEED + 89;
        SplittableRandom rng = new SplittableRandom(seed);
        Backend vector = Backends.get("vector");
        int w = VectorNorms.lanes();
        // [dim, dim] weights from POOL_MIN_VALUES up (a GTU's, one with a tail of columns past the lane blocks, one
        // without) and one just below it
        int[][] shapes = {{512, 96}, {133, 7}, {160, 33}, {127, 5}};
        for (int[] shape : shapes) {
            Rpe.Config c = new Rpe.Config(shape[0], shape[1], false, Activation.RELU, true, 1, NormType.SIMPLE_RMS);
            Map<String, Tensor> params = randomParams(c, "rpe.", rng);
            Rpe rpe = new Rpe("rpe", c, "rpe.", params);
            int m = 301;
            double[] positions = centredPositions(m);
            for (int threads = 2; threads <= 3; threads++) {
                String where = "seed " + seed + " " + c + " threads=" + threads;
                List<Integer> ran = new ArrayList<>();
                float[] one, tasks;
                try (Arena arena = Arena.ofShared()) {
                    one = rpe.forwardFloat32(vector, arena, positions).toFloatArray();
                    tasks = rpe.forwardFloat32(TnnTestSupport.reversedTasks(vector, threads, ran), arena, positions).toFloatArray();
                }
                assertArrayEquals(one, tasks, where);
                // the rows' tasks, and the transpose's when the weight is large enough: more than one task per thread
                boolean split = (long) c.dim() * c.dim() >= RpeFirstBlock.POOL_MIN_VALUES && c.dim() >= 2 * w;
                assertEquals(split ? threads + Math.min(threads, c.dim() / w) : threads, ran.size(), where + ": host tasks");
                Tensor w0 = params.get("rpe.layers.0.2.weight"), posW = params.get("rpe.pos_proj.weight"), posB = params.get("rpe.pos_proj.bias");
                HostTasks pool = (HostTasks) TnnTestSupport.reversedTasks(vector, threads, new ArrayList<>());
                assertTrue(RpeFirstBlock.of(c, positions, posW, posB, null, w0, pool) != null, where + ": pieces apply");
                int dim = c.dim();
                for (int column : new int[] {0, dim - 1, dim / 2}) {
                    long at = (long) rng.nextInt(dim) * dim + column; // W is [dim, dim]: row, then column
                    double keep = w0.getFlat(at);
                    for (double bad : new double[] {Double.NaN, Double.NEGATIVE_INFINITY}) {
                        w0.setFlat(at, bad);
                        assertEquals(null, RpeFirstBlock.of(c, positions, posW, posB, null, w0, pool), where + ": " + bad + " in column " + column);
                    }
                    w0.setFlat(at, keep);
                }
            }
        }
    }

    /**
     * A block's norm writing its rows for the GEMM to read in place ({@link BiasedGemm#gemmRowsInto}) gives the bits of
     * the norm into the [M, dim] buffer and the GEMM on that tensor: rows of whole vectors (1 to 4 of them and 512
     * values), each norm type that takes lanes, with and without bias and residual, 1 to 2047 positions (past a norm
     * block of 256 rows, and short of a micro-panel), in runs across 1 to 3 threads. Both backends here are the vector
     * backend's ops; only the in-place one offers BiasedGemm, and it is checked to have been asked.
     */
    @Test
    void normedRowsReadInPlaceGiveTheBitsOfTheBuffer() {
        long seed = TnnTestSupport.SEED + 83;
        SplittableRandom rng = new SplittableRandom(seed);
        Backend vector = Backends.get("vector");
        int w = VectorNorms.lanes();
        NormType[] norms = {NormType.SIMPLE_RMS, NormType.RMS, NormType.SCALE};
        for (int trial = 0; trial < 12; trial++) {
            int dim = trial == 0 ? 512 : w * (1 + rng.nextInt(4)), outdim = 1 + rng.nextInt(40);
            Rpe.Config c = new Rpe.Config(dim, outdim, rng.nextBoolean(), Activation.RELU, rng.nextBoolean(), 1 + rng.nextInt(3),
                    norms[trial % norms.length]);
            Map<String, Tensor> params = randomParams(c, "rpe.", rng);
            Rpe rpe = new Rpe("rpe", c, "rpe.", params);
            int m = switch (trial % 4) {
                case 0 -> 1 + rng.nextInt(5);
                case 1 -> 2047;
                default -> 7 + rng.nextInt(600);
            };
            double[] positions = centredPositions(m);
            int threads = 1 + rng.nextInt(3);
            List<String> asked = new ArrayList<>();
            String where = "seed " + seed + " trial " + trial + " " + c + " m=" + m + " threads=" + threads;
            float[] inPlace, buffered;
            try (Arena arena = Arena.ofShared()) {
                inPlace = rpe.forwardFloat32(TnnTestSupport.reversedTasks(vector, threads, new ArrayList<>(), asked), arena, positions).toFloatArray();
                buffered = rpe.forwardFloat32(TnnTestSupport.reversedTasks(vector, threads, new ArrayList<>()), arena, positions).toFloatArray();
            }
            assertTrue(asked.contains("gemmRowsInto"), where + ": the in-place GEMM was not asked; asked " + asked);
            assertArrayEquals(buffered, inPlace, where);
        }
    }

    /** Every parameter of an encoder with config c under prefix, float32 and random, drawn from rng in registration order. */
    private static Map<String, Tensor> randomParams(Rpe.Config c, String prefix, SplittableRandom rng) {
        Map<String, Tensor> params = new LinkedHashMap<>();
        for (var e : Rpe.shapes(c, prefix).entrySet()) params.put(e.getKey(), Tensor.random(DType.FLOAT32, rng.nextLong(), e.getValue()));
        return params;
    }

    /** Positions -(m - 1) / 2 .. (m - 1) / 2 in steps of one: a TNO's lags for m = 2L - 1. */
    private static double[] centredPositions(int m) {
        double[] positions = new double[m];
        for (int i = 0; i < m; i++) positions[i] = i - (m - 1) / 2.0;
        return positions;
    }

    private static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }
}
