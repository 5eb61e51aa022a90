package dev.longconv.layers;

import dev.longconv.simd.Lanes;
import dev.longconv.simd.NativeSegments;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The activations whose vector form is exact enough to share with their scalar form (relu, leak, exp, sigmoid, silu,
 * elu), on DoubleVector and FloatVector lanes. Loaded only where the Vector API is readable ({@link
 * Activation#applyAll}).
 *
 * <p>The exponential is written here from additions, multiplications, fused multiply-adds, integer operations and
 * conversions on the lanes, not taken from the Vector API's EXP and EXPM1: those return different last bits before C2 compiles the
 * caller (the Vector API's Java fallback) and after (an intrinsic), 170 of 4096 random floats in [-10, 10) in a
 * throwaway test, so a prepared layer gave a different answer for the same input as the JVM warmed. Every operation
 * used here is rounded as IEEE 754 defines in both states, so a lane's result depends only on its input. The steps:
 * z clamped to [EXP_MIN, EXP_MAX] (beyond them the result is 0 or infinity anyway), n = z log2(e) rounded to the
 * nearest integer (adding and subtracting 1.5 2^23, or 1.5 2^52), r = z - n ln2 with ln2 split in two (Cody and
 * Waite), e^r - 1 = r + r^2 q(r) with q the Taylor polynomial to degree 7 (floats) or 13 (doubles) (|r| <= ln2 / 2:
 * truncation below a tenth of an ulp), and 2^n as two powers 2^n1 2^n2 made from exponent bits (through {@link
 * #BITS}), so that neither leaves the normal range where e^z is subnormal or overflows. e^x - 1 for the elu comes
 * from the same steps as 2^n (e^r - 1) + (2^n - 1), exact near 0. {@code VectorActivationsTest} holds the lanes to a
 * scalar model of these steps bit for bit, and to Math.exp within a few ulps.
 *
 * <p>The sigmoid is 1 / (1 + e^-x) through e = e^-|x|, so that no lane overflows: x >= 0 gives q = 1 / (1 + e), x < 0
 * gives e q (the scalar form divides e / (1 + e): at most an ulp apart). One division per vector instead of two: the
 * divisions were most of a small GTU's SiLU (ServingBench.gtuPrepared, stack profiler).
 *
 * <p>Every activation is written out inside its loop's switch, not in helpers that take and return vectors: C2 inlines
 * such a helper only where it judges the call hot when it compiles the loop, and where it does not, every vector is
 * boxed. A sigmoid helper did that in some JVM runs and not others: a warm prepared GTU (SiLU) then allocated 697 KB
 * per call instead of 0.9 KB.
 *
 * <p>Nothing the loops read is null or out of range whatever the call leaves out: a missing bias is a vector of -0
 * added anyway ({@link #NO_BIAS}), a missing gate is replaced by the input (not read), the bits scratch is fetched for
 * every activation, in the float and the double loop. C2 hoists the null and range checks of an access the profile says is usually made to
 * the loop's entry (profiled loop predication); when the loop read a bias only where one was given, a call without one
 * failed the hoisted check, and the method deoptimized, ran unintrinsified (boxing every vector) and recompiled over
 * and over: a caller mixing calls with and without a bias (a GTU's RPE and its gated SiLU) allocated about 1.8 MB per
 * call through all 20 s of a timing loop. {@code VectorActivationsTest} holds this.
 */
final class VectorActivations {
    private VectorActivations() {}

    /** The lane kernels' species ({@link Lanes}), and doubles in vectors of the same size: a forced -Dlongconv.vectorBits holds here too. */
    private static final VectorSpecies<Float> FLOATS = Lanes.FLOAT;
    private static final VectorSpecies<Double> SPECIES = VectorSpecies.of(double.class, Lanes.FLOAT.vectorShape());
    private static final VectorSpecies<Long> LONGS = VectorSpecies.of(long.class, Lanes.FLOAT.vectorShape());
    /**
     * Ints in vectors of the float size, named here for the F2I conversion: {@code convert(F2I, 0)} finds its target
     * species through the Vector API's species cache, and a C2 compile that does not fold that lookup to a constant
     * leaves the conversion unintrinsified (PrintIntrinsics: "missing constant ... vlen_to=LoadI"), boxing every vector of
     * the loop. {@code convertShape} with this constant has nothing to look up.
     */
    private static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, Lanes.FLOAT.vectorShape());

    /** Floats per vector in the float loops. */
    static int floatLanes() {
        return FLOATS.length();
    }

    /** Doubles per vector in the double loops. */
    static int doubleLanes() {
        return SPECIES.length();
    }

    /** The float exponential's steps (class note): the clamp, the rounding constant 1.5 2^23, ln2 in two. */
    static final float EXP_MIN_F = -104f, EXP_MAX_F = 89f, ROUND_F = 0x1.8p23f, LOG2E_F = 1.44269504088896341f,
            LN2_HI_F = 0.693147182464599609375f, LN2_LO_F = -1.904654299957768e-9f;
    /** 1/k! for k = 2..7, the float polynomial's coefficients. */
    static final float[] COEF_F = {1f / 2, 1f / 6, 1f / 24, 1f / 120, 1f / 720, 1f / 5040};

    /** The double exponential's steps: as the float ones with 1.5 2^52 and eleven more bits of ln2. */
    static final double EXP_MIN = -746, EXP_MAX = 710, ROUND = 0x1.8p52, LOG2E = 1.4426950408889634,
            LN2_HI = 0.6931471805599453, LN2_LO = 2.3190468138462996e-17;
    /** The bits of ROUND: t = ROUND + n has the bits ROUND_BITS + n. */
    static final long ROUND_BITS = 0x4338000000000000L;
    /** 1/k! for k = 2..13, the double polynomial's coefficients. */
    static final double[] COEF = {1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320, 1.0 / 362880,
            1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800.0};

    /**
     * Where the exponent bits of 2^n1 and 2^n2 become floats (or doubles): a few bytes of native memory per thread,
     * written as int (long) lanes and read back as float (double) lanes. The Vector API's reinterpretAsFloats would
     * do it in registers once compiled, but its Java fallback (before C2 compiles the loop) writes through a heap byte
     * segment, and that pollutes the type profile every vector store to a memory segment shares: every store loop C2
     * compiled afterwards, in this library or not, checked for a heap segment (relu over [1023, 512] floats took 230
     * µs instead of 58 in a timing loop). Writing and reading back here costs a store and a load per vector.
     */
    private static final ThreadLocal<MemorySegment> BITS = ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(2L * VectorActivations.BITS_SECOND, 64));
    /** The offset of the second vector of bits: one vector of the widest species. */
    static final long BITS_SECOND = 64;

    /** The bias of a call without one: a vector of -0, which added changes no float (+0 would turn -0 into +0). */
    private static final float[] NO_BIAS = negativeZeros(FLOATS.length());

    private static float[] negativeZeros(int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, -0f);
        return a;
    }

    /** Whether {@code a} has a vector form here. */
    static boolean covers(Activation a) {
        return switch (a) {
            case NONE, RELU, LEAK, EXP, SIGMOID, SILU, ELU, ONE_PLUS_ELU, TWO_PLUS_ELU -> true;
            case GELU -> false;
        };
    }

    /**
     * out[i] = a(in[i]) for i in [from, to); tails through the scalar form. At 128 bits (two doubles a vector) C2 on
     * x86 does not intrinsify the sigmoid's and the elus' compare and blend ("not supported: ... op=blend vlen=2
     * etype=double", PrintIntrinsics), so those kinds box there: 573 KB (SiLU, sigmoid) and 475 KB (elu) per call over
     * 4096 doubles, the SiLU as much as with the Vector API's EXP before. Relu, leak and the exponential itself do not.
     */
    static void apply(Activation a, double[] in, double[] out, int from, int to) {
        int w = SPECIES.length(), i = from;
        boolean exp = usesExp(a);
        DoubleVector c2 = DoubleVector.broadcast(SPECIES, COEF[0]), c3 = DoubleVector.broadcast(SPECIES, COEF[1]),
                c4 = DoubleVector.broadcast(SPECIES, COEF[2]), c5 = DoubleVector.broadcast(SPECIES, COEF[3]),
                c6 = DoubleVector.broadcast(SPECIES, COEF[4]), c7 = DoubleVector.broadcast(SPECIES, COEF[5]),
                c8 = DoubleVector.broadcast(SPECIES, COEF[6]), c9 = DoubleVector.broadcast(SPECIES, COEF[7]),
                c10 = DoubleVector.broadcast(SPECIES, COEF[8]), c11 = DoubleVector.broadcast(SPECIES, COEF[9]);
        double c12 = COEF[10], c13 = COEF[11];
        DoubleVector ln2Hi = DoubleVector.broadcast(SPECIES, -LN2_HI);
        MemorySegment bits = NativeSegments.cast(BITS.get()); // fetched for every kind: see the class note on loop predication
        for (; i + w <= to; i += w) {
            DoubleVector x = DoubleVector.fromArray(SPECIES, in, i), y;
            if (exp) { // the exponential's steps (class note), e^z = s1 s2 (1 + p), e^z - 1 = s (1 + p) - 1
                DoubleVector z = (a == Activation.SIGMOID || a == Activation.SILU ? x.abs().neg() : x).max(EXP_MIN).min(EXP_MAX);
                DoubleVector t = z.fma(LOG2E, ROUND), nf = t.sub(ROUND);
                DoubleVector r = nf.fma(ln2Hi, z).add(nf.mul(-LN2_LO));
                DoubleVector q = r.fma(c13, c12).fma(r, c11).fma(r, c10).fma(r, c9).fma(r, c8).fma(r, c7).fma(r, c6).fma(r, c5)
                        .fma(r, c4).fma(r, c3).fma(r, c2);
                DoubleVector p = r.mul(q).fma(r, r);
                t.intoMemorySegment(bits, 0, ByteOrder.LITTLE_ENDIAN); // its bits hold n: no D2L conversion, which AVX2 lacks
                LongVector n = LongVector.fromMemorySegment(LONGS, bits, 0, ByteOrder.LITTLE_ENDIAN).sub(ROUND_BITS);
                LongVector n1 = n.lanewise(VectorOperators.ASHR, 1);
                n1.add(1023).lanewise(VectorOperators.LSHL, 52).intoMemorySegment(bits, 0, ByteOrder.LITTLE_ENDIAN);
                n.sub(n1).add(1023).lanewise(VectorOperators.LSHL, 52).intoMemorySegment(bits, BITS_SECOND, ByteOrder.LITTLE_ENDIAN);
                DoubleVector s1 = DoubleVector.fromMemorySegment(SPECIES, bits, 0, ByteOrder.LITTLE_ENDIAN);
                DoubleVector s2 = DoubleVector.fromMemorySegment(SPECIES, bits, BITS_SECOND, ByteOrder.LITTLE_ENDIAN);
                y = switch (a) {
                    case EXP -> p.fma(s1, s1).mul(s2);
                    case SIGMOID, SILU -> { // see the class note on the sigmoid
                        DoubleVector e = p.fma(s1, s1).mul(s2);
                        DoubleVector h = DoubleVector.broadcast(SPECIES, 1.0).div(e.add(1.0));
                        DoubleVector sig = h.blend(e.mul(h), x.compare(VectorOperators.LT, 0.0));
                        yield a == Activation.SILU ? x.mul(sig) : sig;
                    }
                    default -> { // the elus
                        DoubleVector s = s1.mul(s2), e = x.blend(p.fma(s, s.sub(1.0)), x.compare(VectorOperators.LE, 0.0));
                        yield a == Activation.ELU ? e : e.add(a == Activation.ONE_PLUS_ELU ? 1.0 : 2.0);
                    }
                };
            } else {
                y = switch (a) {
                    case RELU -> x.blend(0.0, x.compare(VectorOperators.LE, 0.0)); // as the float form's
                    case LEAK -> x.max(x.mul(0.01));
                    default -> x;
                };
            }
            y.intoArray(out, i);
        }
        for (; i < to; i++) out[i] = a.apply(in[i]);
    }

    /** Whether {@code a}'s vector form takes an exponential; GELU has no vector form ({@link #covers}). */
    private static boolean usesExp(Activation a) {
        return switch (a) {
            case EXP, SIGMOID, SILU, ELU, ONE_PLUS_ELU, TWO_PLUS_ELU -> true;
            case NONE, RELU, LEAK -> false;
            case GELU -> throw new IllegalStateException("gelu has no vector form here");
        };
    }

    /** The first {@link #SPECIES}-length lanes of a float vector: where a D2F conversion puts its part 0. */
    private static final VectorMask<Float> DOUBLE_LANES = VectorMask.fromLong(FLOATS, (1L << SPECIES.length()) - 1);
    /** The other lanes: where a D2F conversion puts its part -1. */
    private static final VectorMask<Float> UPPER_LANES = DOUBLE_LANES.not();

    /**
     * {@link TnoTensors#permuteHeads}' copies on float lanes: runs of d floats from src (heads [B, H, L, d], or tokens
     * [B, L, H d] when not toTokens) to dst in the other layout, each run a few whole vectors, where d is a multiple of
     * the lane count and both segments are native; returns false, copying nothing, otherwise. A MemorySegment.copy per
     * run of 16 floats (the small TNO's heads, 4096 runs a call) cost its checks at every run.
     */
    static boolean permuteRuns(MemorySegment src, MemorySegment dst, int b, int h, int len, int d, boolean toTokens) {
        int w = FLOATS.length();
        if (d % w != 0 || !NativeSegments.isNative(src) || !NativeSegments.isNative(dst)) return false;
        src = NativeSegments.cast(src);
        dst = NativeSegments.cast(dst);
        long run = (long) d * Float.BYTES, vector = (long) w * Float.BYTES;
        for (int bi = 0; bi < b; bi++) {
            for (int hi = 0; hi < h; hi++) {
                for (int t = 0; t < len; t++) {
                    long heads = (((long) bi * h + hi) * len + t) * run, tokens = (((long) bi * len + t) * h + hi) * run;
                    long from = toTokens ? heads : tokens, to = toTokens ? tokens : heads;
                    for (long q = 0; q < run; q += vector) {
                        FloatVector.fromMemorySegment(FLOATS, src, from + q, ByteOrder.LITTLE_ENDIAN).intoMemorySegment(dst, to + q, ByteOrder.LITTLE_ENDIAN);
                    }
                }
            }
        }
        return true;
    }

    /**
     * Rows below this many double vectors (pairs of them, at this many) go through {@link #combineRows}' flat loop:
     * rows of 32 outputs at 16 float lanes (the small TNO's first RPE block) took 6.3-7.1 ns a row flat against
     * 9.7-10.2 ns row by row, whose inner loop of two pairs spent its time entering and leaving; at 128 outputs both
     * took 23.6 ns, and at 256 and 512 the row loop was 1.5x and 1.65x faster (a throwaway loop over 2047 rows, Zen 5).
     */
    static final int FLAT_COMBINE_MAX_PAIRS = 8;

    /**
     * {@link #combineRow} for {@code rows} rows sharing a and b, row k with s[k] and t[k], written at byte at + k ld
     * of out; returns the count of each row's elements done (the caller does the rest of every row), or 0 when out is on
     * the heap. Rows of fewer than {@link #FLAT_COMBINE_MAX_PAIRS} pairs of double vectors, in pairs only, run as one
     * flat loop over all of them.
     */
    static int combineRows(double[] s, double[] t, int rows, double[] a, double[] b, int n, MemorySegment out, long at, long ld) {
        if (!NativeSegments.isNative(out)) return 0;
        out = NativeSegments.cast(out);
        int w = SPECIES.length(), pair = 2 * w;
        if (rows > 0 && n % pair == 0 && n / pair < FLAT_COMBINE_MAX_PAIRS && (long) rows * n <= Integer.MAX_VALUE - pair) {
            double sk = s[0], tk = t[0];
            for (int q = 0, total = rows * n, j = 0, k = 0; q < total; q += pair) {
                storePair(sk, a, tk, b, j, out, at + (long) j * Float.BYTES);
                j += pair;
                if (j == n) {
                    j = 0;
                    at += ld;
                    if (++k < rows) {
                        sk = s[k];
                        tk = t[k];
                    }
                }
            }
            return n;
        }
        int done = 0;
        for (int k = 0; k < rows; k++, at += ld) done = combineRow(s[k], a, t[k], b, n, out, at);
        return done;
    }

    /**
     * out[j] = (float) (s a[j] + t b[j]) at byte offset {@code at} of out, for j below the returned count (n rounded down
     * to whole double vectors; the caller does the rest): each sum in float64 and rounded once, as element by element.
     * Two double vectors at a time: their conversions fill parts 0 and -1 of a float vector of the same size, blended
     * into one whole store (2.2x the speed of a masked store per double vector, which was barely faster than the
     * element loop, at 512 outputs a row; 1.5x at 32); one vector left over goes through that masked store. Returns 0
     * when out is on the heap ({@link NativeSegments}).
     */
    static int combineRow(double s, double[] a, double t, double[] b, int n, MemorySegment out, long at) {
        if (!NativeSegments.isNative(out)) return 0;
        out = NativeSegments.cast(out);
        int w = SPECIES.length(), j = 0;
        for (; j <= n - 2 * w; j += 2 * w) storePair(s, a, t, b, j, out, at + (long) j * Float.BYTES);
        if (j <= n - w) {
            DoubleVector v = DoubleVector.fromArray(SPECIES, a, j).mul(s).add(DoubleVector.fromArray(SPECIES, b, j).mul(t));
            ((FloatVector) v.convertShape(VectorOperators.D2F, FLOATS, 0)).intoMemorySegment(out, at + (long) j * Float.BYTES, ByteOrder.LITTLE_ENDIAN, DOUBLE_LANES);
            j += w;
        }
        return j;
    }

    /**
     * (float) (s a[j + i] + t b[j + i]) for i below two double vectors, stored whole at byte {@code byteAt} of a native
     * out: the two conversions fill parts 0 and -1 of one float vector, blended. It returns nothing, so there is no
     * vector to box where C2 does not inline it.
     */
    private static void storePair(double s, double[] a, double t, double[] b, int j, MemorySegment out, long byteAt) {
        out = NativeSegments.cast(out);
        int w = SPECIES.length();
        DoubleVector lo = DoubleVector.fromArray(SPECIES, a, j).mul(s).add(DoubleVector.fromArray(SPECIES, b, j).mul(t));
        DoubleVector hi = DoubleVector.fromArray(SPECIES, a, j + w).mul(s).add(DoubleVector.fromArray(SPECIES, b, j + w).mul(t));
        FloatVector f = ((FloatVector) lo.convertShape(VectorOperators.D2F, FLOATS, 0))
                .blend((FloatVector) hi.convertShape(VectorOperators.D2F, FLOATS, -1), UPPER_LANES);
        f.intoMemorySegment(out, byteAt, ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * {@link FloatRows#biasActivation} on float lanes over the whole vectors of each row: out = act(in + bias) (·
     * gate), bias null adding nothing; returns the index in the row where the whole vectors stop (the caller finishes
     * the tails), or 0 when a segment is on the heap (the caller then does it all: {@link NativeSegments}). Offsets and
     * strides count elements. Where every row is whole vectors and the rows lie back to back (stride d everywhere), the
     * rows run as one flat loop with the bias index wrapping at d: a loop per row of a few vectors (d = 32 is four AVX2
     * vectors) ran at half the speed of the flat loop, in loop entry and exit. The loops
     * count in int: with a long counter C2 kept deoptimizing and recompiling this method (profile_predicate traps,
     * dozens a second), and between compiles the unintrinsified vectors allocated megabytes per call.
     */
    static int applyFloat(Activation a, int rows, int d, MemorySegment in, long inAt, long inStride, float[] bias,
                          MemorySegment gate, long gateAt, long gateStride, MemorySegment out, long outAt, long outStride) {
        if (!NativeSegments.allNative(in, gate, out)) return 0;
        in = NativeSegments.cast(in);
        gate = NativeSegments.cast(gate);
        out = NativeSegments.cast(out);
        int w = FLOATS.length(), whole = d - d % w;
        boolean flat = whole == d && inStride == d && outStride == d && (gate == null || gateStride == d) && (long) rows * d <= Integer.MAX_VALUE - w;
        int count = flat ? rows * d : whole, rowCount = flat ? 1 : rows;
        boolean exp = usesExp(a);
        FloatVector c2 = FloatVector.broadcast(FLOATS, COEF_F[0]), c3 = FloatVector.broadcast(FLOATS, COEF_F[1]),
                c4 = FloatVector.broadcast(FLOATS, COEF_F[2]), c5 = FloatVector.broadcast(FLOATS, COEF_F[3]);
        float c6 = COEF_F[4], c7 = COEF_F[5];
        FloatVector ln2Hi = FloatVector.broadcast(FLOATS, -LN2_HI_F);
        MemorySegment bits = NativeSegments.cast(BITS.get()); // fetched for every kind: see the class note on loop predication
        float[] addend = bias != null ? bias : NO_BIAS;
        int addendWrap = bias != null ? d : w;
        boolean gated = gate != null;
        MemorySegment gates = gated ? gate : in; // never read when not gated
        long gatesAt = gated ? gateAt : inAt, gatesStride = gated ? gateStride : inStride;
        for (int r = 0; r < rowCount; r++) {
            long i = (inAt + r * inStride) * Float.BYTES, g = (gatesAt + r * gatesStride) * Float.BYTES, o = (outAt + r * outStride) * Float.BYTES;
            int b = 0;
            for (int j = 0; j < count; j += w) {
                FloatVector x = FloatVector.fromMemorySegment(FLOATS, in, i + (long) j * Float.BYTES, ByteOrder.LITTLE_ENDIAN);
                x = x.add(FloatVector.fromArray(FLOATS, addend, b));
                b = b + w == addendWrap ? 0 : b + w;
                FloatVector y;
                if (exp) { // as in apply
                    FloatVector z = (a == Activation.SIGMOID || a == Activation.SILU ? x.abs().neg() : x).max(EXP_MIN_F).min(EXP_MAX_F);
                    FloatVector t = z.fma(LOG2E_F, ROUND_F), nf = t.sub(ROUND_F);
                    FloatVector f = nf.fma(ln2Hi, z).add(nf.mul(-LN2_LO_F));
                    FloatVector q = f.fma(c7, c6).fma(f, c5).fma(f, c4).fma(f, c3).fma(f, c2);
                    FloatVector p = f.mul(q).fma(f, f);
                    IntVector n = (IntVector) nf.convertShape(VectorOperators.F2I, INTS, 0), n1 = n.lanewise(VectorOperators.ASHR, 1);
                    n1.add(127).lanewise(VectorOperators.LSHL, 23).intoMemorySegment(bits, 0, ByteOrder.LITTLE_ENDIAN);
                    n.sub(n1).add(127).lanewise(VectorOperators.LSHL, 23).intoMemorySegment(bits, BITS_SECOND, ByteOrder.LITTLE_ENDIAN);
                    FloatVector s1 = FloatVector.fromMemorySegment(FLOATS, bits, 0, ByteOrder.LITTLE_ENDIAN);
                    FloatVector s2 = FloatVector.fromMemorySegment(FLOATS, bits, BITS_SECOND, ByteOrder.LITTLE_ENDIAN);
                    y = switch (a) {
                        case EXP -> p.fma(s1, s1).mul(s2);
                        case SIGMOID, SILU -> { // see the class note on the sigmoid
                            FloatVector e = p.fma(s1, s1).mul(s2);
                            FloatVector h = FloatVector.broadcast(FLOATS, 1f).div(e.add(1f));
                            FloatVector sig = h.blend(e.mul(h), x.compare(VectorOperators.LT, 0f));
                            yield a == Activation.SILU ? x.mul(sig) : sig;
                        }
                        default -> { // the elus
                            FloatVector s = s1.mul(s2), e = x.blend(p.fma(s, s.sub(1f)), x.compare(VectorOperators.LE, 0f));
                            yield a == Activation.ELU ? e : e.add(a == Activation.ONE_PLUS_ELU ? 1f : 2f);
                        }
                    };
                } else {
                    y = switch (a) {
                        // zero where x <= 0 (-0 included), x elsewhere (NaN included): the bits of x.max(0f), whose
                        // Java semantics (NaN, -0 below +0) take several instructions where this takes a compare
                        // and a blend (the norm's fused ReLU was 15% faster so); VectorNorms writes the same
                        case RELU -> x.blend(0f, x.compare(VectorOperators.LE, 0f));
                        case LEAK -> x.max(x.mul(0.01f));
                        default -> x;
                    };
                }
                if (gated) y = y.mul(FloatVector.fromMemorySegment(FLOATS, gates, g + (long) j * Float.BYTES, ByteOrder.LITTLE_ENDIAN));
                y.intoMemorySegment(out, o + (long) j * Float.BYTES, ByteOrder.LITTLE_ENDIAN);
            }
        }
        return whole;
    }
}
