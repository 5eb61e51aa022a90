package dev.longconv.layers;

import dev.longconv.Tensor;
import dev.longconv.ops.spi.HostTasks;
import dev.longconv.simd.LaneGemm;
import dev.longconv.simd.LaneKernels;
import dev.longconv.simd.Lanes;
import dev.longconv.simd.NativeSegments;
import dev.longconv.simd.Simd;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The first block of a positional encoder's float32 pass ({@link Rpe#forwardFloat32}) without its GEMM. The block's
 * input is pos_proj(p) = p w + b, a line in p. A norm without a shift (simple RMS, RMS, scale) multiplies it by a factor
 * c(p) > 0 and by its elementwise scale g, and ReLU commutes with a positive factor, so with u(p) = g (p w + b):
 * <pre>
 *   W relu(c(p) u(p)) = c(p) (p A(p) + B(p)),   A = sum over active j of g_j w_j W[:, j],   B = the same with b_j
 * </pre>
 * where j is active while u_j(p) > 0. As p goes up each u_j changes sign at most once, so A and B change by one
 * column of W at each such crossing: at most dim column updates and one factor and one axpy per position, in place of
 * the [M, dim] x [dim, out] GEMM (at a GTU's defaults, a third of the encoder's 1.7 GFLOP) and the block's norm and
 * activation passes. A and B are kept in float64; each output is rounded once to float32, so the result follows the
 * float64 form at least as closely as the GEMM's.
 * <p>
 * It applies to the ReLU encoders with those norms (tnn-pytorch's defaults), positions in ascending order (every TNO
 * kernel's) and finite parameters; {@link #of} says when it does not. The tables it builds once per call live in the
 * calling thread's scratch and are only read by the runs of rows ({@link #rows}), which may be on other threads.
 */
final class RpeFirstBlock {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT;
    private static final boolean VECTOR = Simd.status().available();
    /**
     * A and B are summed afresh at every this many positions (a sum over the active columns: dim x out multiply-adds,
     * about what 256 rows of output cost at dim = out), which also bounds how many updates their rounding carries.
     */
    static final int CHECKPOINT = 256;
    /**
     * The most values of W the transposed table holds: it stays with the calling thread between calls (4 MB at the
     * largest), so a block wider than this takes its GEMM. tnn-pytorch's and ski-tnn's encoders are at most 512 x 512.
     */
    static final long MAX_TABLE_FLOATS = 1 << 20;

    /**
     * Per calling thread: W transposed ([dim][out]); pos_proj's w and b and the norm's scale g
     * as doubles; and the sign changes by position.
     */
    private static final class Tables {
        float[] wt = new float[0];
        double[] w = new double[0], b = new double[0], g = new double[0];
        long[] flips = new long[0];
    }

    private static final ThreadLocal<Tables> TABLES = ThreadLocal.withInitial(Tables::new);
    /** Per run thread: A and B. */
    private static final class Sums {
        double[] a = new double[0], b = new double[0];
        /** A run's factors and factors times positions (a run ends at a checkpoint at the latest). */
        final double[] c = new double[CHECKPOINT], cp = new double[CHECKPOINT];
    }

    private static final ThreadLocal<Sums> SUMS = ThreadLocal.withInitial(Sums::new);

    private final Tables t;
    private final NormType norm;
    private final int dim, out;
    private final double[] positions;
    /** w.w, w.b and b.b: the sum of squares of pos_proj's row p w + b is p^2 ww + 2 p wb + bb. */
    private final double ww, wb, bb;

    private RpeFirstBlock(Tables t, NormType norm, int dim, int out, double[] positions) {
        this.t = t;
        this.norm = norm;
        this.dim = dim;
        this.out = out;
        this.positions = positions;
        double[] w = t.w, b = t.b;
        double sww = 0, swb = 0, sbb = 0;
        for (int j = 0; j < dim; j++) {
            sww += w[j] * w[j];
            swb += w[j] * b[j];
            sbb += b[j] * b[j];
        }
        this.ww = sww;
        this.wb = swb;
        this.bb = sbb;
    }

    /**
     * The block for this call, or null where the identity does not hold or cannot be trusted: an activation other than
     * ReLU, a norm with a shift or a gate, no positions or positions out of order, a parameter that is not finite (the
     * GEMM then spreads NaN as upstream does), or a Linear wider than {@link #MAX_TABLE_FLOATS}.
     */
    static RpeFirstBlock of(Rpe.Config c, double[] positions, Tensor posWeight, Tensor posBias, Tensor normScale, Tensor weight) {
        return of(c, positions, posWeight, posBias, normScale, weight, null);
    }

    /**
     * {@link #of(Rpe.Config, double[], Tensor, Tensor, Tensor, Tensor)}, the weight's transpose split by columns across
     * {@code pool}'s threads from {@link #POOL_MIN_VALUES} values (the pool then weighs it by {@link
     * #TRANSPOSE_FLOPS_PER_VALUE}); a null pool runs it on this thread.
     * The pool's threads must be allowed to read the weight.
     */
    static RpeFirstBlock of(Rpe.Config c, double[] positions, Tensor posWeight, Tensor posBias, Tensor normScale, Tensor weight,
                            HostTasks pool) {
        if (c.act() != Activation.RELU || (long) c.dim() * weight.dim(0) > MAX_TABLE_FLOATS) return null;
        NormType norm = c.normType();
        if (norm != NormType.SIMPLE_RMS && norm != NormType.RMS && norm != NormType.SCALE) return null;
        int m = positions.length, dim = c.dim(), out = (int) weight.dim(0);
        if (m == 0) return null;
        for (int r = 0; r < m; r++) {
            if (!Double.isFinite(positions[r]) || r > 0 && positions[r] < positions[r - 1]) return null;
        }
        double[] w = TnoTensors.read(posWeight), b = posBias == null ? null : TnoTensors.read(posBias);
        double[] g = normScale == null ? null : TnoTensors.read(normScale);
        Tables t = TABLES.get();
        if (t.w.length < dim) {
            t.w = new double[dim];
            t.b = new double[dim];
            t.g = new double[dim];
            t.flips = new long[dim];
        }
        for (int j = 0; j < dim; j++) {
            t.w[j] = w[j];
            t.b[j] = b == null ? 0 : b[j];
            t.g[j] = g == null ? 1 : g.length == 1 ? g[0] : g[j];
            if (!Double.isFinite(t.w[j]) || !Double.isFinite(t.b[j]) || !Double.isFinite(t.g[j])) return null;
        }
        if (t.wt.length < dim * out) t.wt = new float[dim * out];
        // W (contiguous: Rpe passes it through inDtype) transposed in register tiles, then checked on lanes: an element
        // at a time, the two took 5% of a GTU forward's calling thread (still the way for a W over heap memory)
        float[] wt = t.wt;
        MemorySegment ws = weight.segment();
        if (VECTOR && NativeSegments.isNative(ws)) {
            if (!transposeFinite(ws, out, dim, wt, pool)) return null;
        } else {
            boolean finite = true;
            for (int i = 0; i < out; i++) {
                for (int j = 0; j < dim; j++) {
                    float v = ws.getAtIndex(F32, (long) i * dim + j);
                    finite &= Float.isFinite(v);
                    wt[j * out + i] = v;
                }
            }
            if (!finite) return null;
        }
        // Where each u_j first differs in sign from position 0 (m when never): u_j(p) is monotone in p and so is its
        // rounding, so a binary search finds it, and a run's mask is a checkpoint's with the later flips applied. The
        // flips in order of position: (position << 32 | j), sorted (arrays of dim, whatever the number of positions).
        long[] flips = t.flips;
        for (int j = 0; j < dim; j++) {
            boolean first = active(t, j, positions[0]);
            int lo = 1, hi = m;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (active(t, j, positions[mid]) != first) hi = mid;
                else lo = mid + 1;
            }
            flips[j] = (long) lo << 32 | j;
        }
        java.util.Arrays.sort(flips, 0, dim);
        return new RpeFirstBlock(t, norm, dim, out, positions);
    }

    /**
     * What transposing one value of W costs, in the flops that {@link HostTasks#forEachHostTask} weighs: 512 x 512 took
     * 42 µs with W in L2 (a throwaway loop; about 29 flops' time each at the 180 GFLOP/s of a GEMM on Zen 5), and about
     * 200 µs inside a GTU forward, where W comes from further out: a GTU's 512 x 512 goes to the pool.
     */
    static final double TRANSPOSE_FLOPS_PER_VALUE = 29;

    /**
     * Fewer values of W than this are transposed on the calling thread without asking the pool: 128 x 128 takes a few
     * microseconds from L2, about what handing half of it to another thread costs, and a small TNO's 32 x 32 then makes
     * no task objects a call (the pool would run it inline anyway).
     */
    static final long POOL_MIN_VALUES = 128 * 128;

    /**
     * W [out, dim] at ws transposed into wt ([dim][out]) and checked finite: by ranges of whole lane blocks of its
     * columns on the pool's threads, each checking what it wrote. The calling thread alone took 4-5% of a two-core GTU
     * forward here while the other core waited.
     */
    private static boolean transposeFinite(MemorySegment ws, int out, int dim, float[] wt, HostTasks pool) {
        int parts = pool == null || (long) out * dim < POOL_MIN_VALUES ? 1 : Math.max(1, Math.min(pool.hostThreads(), dim / Lanes.W));
        if (parts == 1) {
            LaneGemm.transpose(ws, 0, out, dim, wt);
            return LaneKernels.allFinite(wt, dim * out);
        }
        boolean[] finite = new boolean[parts];
        pool.forEachHostTask(parts, TRANSPOSE_FLOPS_PER_VALUE * out * dim / parts, part -> {
            int first = columnSplit(dim, parts, part), end = columnSplit(dim, parts, part + 1);
            LaneGemm.transpose(ws, 0, out, dim, wt, first, end);
            finite[part] = LaneKernels.allFinite(wt, first * out, end * out);
        });
        for (boolean f : finite) if (!f) return false;
        return true;
    }

    /** Where part of parts starts among dim columns: a whole number of lane blocks, the last part ending at dim. */
    private static int columnSplit(int dim, int parts, int part) {
        return part == parts ? dim : (int) ((long) dim / Lanes.W * part / parts) * Lanes.W;
    }

    /**
     * Whether ReLU passes value j at p: the sign of g_j (p w_j + b_j), computed as the float64 form computes the norm's
     * input and scales it, so the two agree on every sign, also where p w_j + b_j is a rounding residue.
     */
    private static boolean active(Tables t, int j, double p) {
        return (p * t.w[j] + t.b[j]) * t.g[j] > 0;
    }

    /**
     * The block's output (before its bias) at positions [first, end) into the rows of y ([end - first, out] float32).
     * A and B are summed afresh at every CHECKPOINT-th position and carried through the crossings in between, starting
     * from the checkpoint at or before first, so each row's value does not depend on where a run of rows starts: the
     * result is the same for every split of the rows across threads. The rows between two changes of A and B share
     * them, and go to {@link VectorActivations#combineRows} in one call with their factors.
     */
    void rows(int first, int end, Tensor y) {
        Sums sums = SUMS.get();
        if (sums.a.length < out) {
            sums.a = new double[out];
            sums.b = new double[out];
        }
        double[] a = sums.a, bs = sums.b, c = sums.c, cp = sums.cp;
        MemorySegment ys = y.storageSegment();
        long at0 = y.offset() * Float.BYTES, ld = y.stride(0) * Float.BYTES;
        long[] flips = t.flips;
        int next = 0; // the first sign change not yet in A and B
        // runs of rows between two changes of A and B (a checkpoint or a sign change): their factors, then one call
        for (int r = first / CHECKPOINT * CHECKPOINT; r < end; ) {
            if (r % CHECKPOINT == 0) {
                java.util.Arrays.fill(a, 0, out, 0);
                java.util.Arrays.fill(bs, 0, out, 0);
                for (int j = 0; j < dim; j++) if (active(t, j, positions[r])) add(j, 1, a, bs);
                while (next < dim && flips[next] >>> 32 <= r) next++;
            } else {
                for (; next < dim && flips[next] >>> 32 == r; next++) {
                    int j = (int) flips[next];
                    add(j, active(t, j, positions[r]) ? 1 : -1, a, bs);
                }
            }
            int runEnd = Math.min(end, (r / CHECKPOINT + 1) * CHECKPOINT);
            if (next < dim) runEnd = (int) Math.min(runEnd, flips[next] >>> 32);
            int from = Math.max(r, first), rows = runEnd - from;
            if (rows > 0) {
                for (int k = 0; k < rows; k++) c[k] = sumOfSquares(positions[from + k]);
                int done = VECTOR ? VectorNorms.factorsOnLanes(norm, c, rows, dim) : 0;
                for (int k = done; k < rows; k++) c[k] = Norm.factor(norm, c[k], dim);
                for (int k = 0; k < rows; k++) cp[k] = c[k] * positions[from + k];
                long at = at0 + (from - first) * ld;
                int i0 = VECTOR ? VectorActivations.combineRows(cp, c, rows, a, bs, out, ys, at, ld) : 0;
                for (int k = 0; k < rows; k++, at += ld) {
                    for (int i = i0; i < out; i++) ys.set(F32, at + (long) i * Float.BYTES, (float) (cp[k] * a[i] + c[k] * bs[i]));
                }
            }
            r = runEnd;
        }
    }

    /** A += sign g_j w_j W[:, j] and B += sign g_j b_j W[:, j]. */
    private void add(int j, int sign, double[] a, double[] bs) {
        double sa = sign * (t.g[j] * t.w[j]), sb = sign * (t.g[j] * t.b[j]);
        float[] wt = t.wt;
        int at = j * out;
        for (int i = 0; i < out; i++) {
            a[i] += sa * wt[at + i];
            bs[i] += sb * wt[at + i];
        }
    }

    /**
     * The sum of squares of pos_proj's row p w + b in float64, the norm's input: by the dot products where that does not
     * cancel, else summed over the row (a row near zero, where p is near every b_j / w_j).
     */
    private double sumOfSquares(double p) {
        double scale = p * p * ww + bb, sq = scale + 2 * p * wb;
        if (!(sq > 1e-8 * scale)) {
            sq = 0;
            for (int j = 0; j < dim; j++) {
                double h = p * t.w[j] + t.b[j];
                sq += h * h;
            }
        }
        return sq;
    }
}
