package dev.longconv.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Real FFTs of W sequences at once in float32, one sequence per vector lane (W = {@link Lanes#W}).
 * Data is lane-interleaved: element t of lane l sits at {@code t * W + l}. Every butterfly is plain
 * vector arithmetic across lanes, so there are no shuffles, and the same twiddle serves all lanes.
 * Sizes are 2^a 3^b 5^c: a complex FFT of n/2 points ({@link LaneStockham}) on the packed pairs
 * z_j = x_2j + i x_2j+1, then the usual split into the n/2 + 1 bins of the real transform.
 *
 * <p>Why a four-step split. One W-lane complex element is W complex floats (a 64-byte line per part at
 * W = 16), so a half-size transform of 1024 points is 128 KB and, with its ping-pong buffer, lives in
 * L2; at n = 131072 it is 8 MB and every Stockham stage streams it from L3. Above
 * {@link #DIRECT_MAX_HALF} points the half-size transform is therefore split as m1 x m2 (z_j at row
 * j / m2, column j % m2): m2 transforms of m1 points over the columns, a twiddle, m1 transforms of m2
 * points over the rows, each small enough for L1 or L2, so the large buffer is read and written a few
 * times instead of once per stage. Rows are padded by one element so that a column does not sit on a
 * power-of-two stride. The output is left in transposed order (bin k1 + m1 k2 at row k1, column k2) and
 * the inverse consumes that order directly (rows first, then columns), so no transpose pass is needed;
 * only the split steps, which pair bin k with bin n/2 - k, know the order.
 *
 * <p>How the split moves data. The column passes take {@link #COLUMN_BLOCK} adjacent columns at a time, and where
 * the column transform starts and ends with radix 4 (every power-of-two size) its first stage reads the data where it
 * lies (the lanes of x; in the inverse, the matrix with the four-step twiddle applied on load) and its last writes
 * where the result goes (the matrix, twiddled; in the inverse, the output reals), so no pass only gathers, scatters,
 * packs or unpacks. Rows are transformed where they lie, and {@link #convolve} takes each pair of rows that the
 * spectrum product couples (k1 and m1 - k1) through forward transform, product and inverse transform in L1.
 *
 * <p>Plans are cached per size, immutable and thread-safe; callers pass the scratch
 * ({@link #scratchFloats()} floats), so a call allocates nothing.
 */
public final class LaneFft {
    private static final ConcurrentHashMap<Integer, LaneFft> CACHE = new ConcurrentHashMap<>();

    private static final VectorSpecies<Float> SPECIES = Lanes.FLOAT;
    private static final int W = Lanes.W;

    /**
     * The largest half size transformed by one Stockham pass sequence; above it, the four-step split.
     * Measured with the threshold moved (convolve at W = 16, one thread, AMD EPYC AVX-512, JDK 25): n = 512
     * took 10.4 us direct and 16.9 us split, n = 1024 32.9 us direct and 29.3 us split. The column
     * count m1 (about sqrt(n/2)) was measured the same way: at n = 131072, 64 to 512 columns are within 10%.
     */
    static final int DIRECT_MAX_HALF = 256;

    private final int n, half;
    /** half = m1 * m2; m2 == 1 means one Stockham transform of half points (no split). */
    private final int m1, m2;
    /**
     * Elements per row of the split's m1 x m2 matrix in the scratch: m2 + 1 (1 without the split). Bin
     * k1 + m1 k2 sits at position k1 * rp + k2. The pad keeps a column's elements off power-of-two strides,
     * which would put them all in a handful of cache sets and make every column pass miss to L3.
     */
    private final int rp;
    /** Where the imaginary parts start in the scratch (after m1 * rp real elements and one vector of pad). */
    private final int imOff;
    /** Where bin n/2 goes in a {@link #convolutionSpectrum}: one past the last position. */
    private final int halfSlot;
    private final LaneStockham cols, rows;
    /**
     * Whether the column transforms start and end with distinct radix-4 stages (m1 a power of 4 from 16 up: every
     * power-of-two size the split takes), so the column passes read their input in the first stage and write their
     * result (twiddled into the matrix, or unpacked into reals) in the last, with no gather or scatter pass of their own.
     */
    private final boolean fusedEnds;
    /** Four-step twiddles W_half^(j2 k1) at k1 * m2 + j2; empty without the split. */
    private final float[] stepRe, stepIm;
    /** e^{-2 pi i k / n}, k = 0..n/2, for splitting the packed half-size transform. */
    private final float[] splitRe, splitIm;
    /** The same twiddles by position, so {@link #convolve} reads them in sequence. */
    private final float[] posRe, posIm;

    private LaneFft(int n) {
        this.n = n;
        this.half = n / 2;
        this.m1 = half <= DIRECT_MAX_HALF ? half : columnsFor(half);
        this.m2 = half / m1;
        this.rp = m2 == 1 ? 1 : m2 + 1;
        this.halfSlot = m1 * rp;
        this.imOff = halfSlot * W + W;
        this.cols = new LaneStockham(m1);
        this.rows = m2 == 1 ? null : new LaneStockham(m2);
        this.fusedEnds = m2 > 1 && cols.firstIsRadix4() && cols.lastIsRadix4() && cols.stages() >= 2;
        int steps = m2 == 1 ? 0 : half;
        stepRe = new float[steps];
        stepIm = new float[steps];
        for (int k1 = 0; k1 < m1 && steps > 0; k1++) {
            for (int j2 = 0; j2 < m2; j2++) {
                double ang = -2 * Math.PI * ((long) j2 * k1 % half) / half;
                stepRe[k1 * m2 + j2] = (float) Math.cos(ang);
                stepIm[k1 * m2 + j2] = (float) Math.sin(ang);
            }
        }
        splitRe = new float[half + 1];
        splitIm = new float[half + 1];
        for (int k = 0; k <= half; k++) {
            double ang = -2 * Math.PI * k / n;
            splitRe[k] = (float) Math.cos(ang);
            splitIm[k] = (float) Math.sin(ang);
        }
        posRe = new float[halfSlot];
        posIm = new float[halfSlot];
        for (int k1 = 0; k1 < m1; k1++) {
            for (int k2 = 0; k2 < m2; k2++) {
                posRe[k1 * rp + k2] = splitRe[k1 + m1 * k2];
                posIm[k1 * rp + k2] = splitIm[k1 + m1 * k2];
            }
        }
    }

    /**
     * The column count m1: a divisor of half from sqrt(half) / {@link #COLUMN_SPREAD} to sqrt(half) (columns are the
     * strided side, so they get the smaller count) with the fewest Stockham stages in the two sub-transforms, the
     * largest such. Fewest stages means no radix-2 stage on both sides: at half = 1024, 32 x 32 runs two radix-2
     * stages (4·4·2 twice, six passes) where 16 x 64 runs five radix-4 passes.
     */
    static int columnsFor(int half) {
        int root = 1;
        while ((long) (root + 1) * (root + 1) <= half) root++;
        int best = 1, bestStages = Integer.MAX_VALUE;
        for (int d = Math.max(1, root / COLUMN_SPREAD); d <= root; d++) {
            if (half % d != 0) continue;
            int stages = MixedRadix.factor(d).length + MixedRadix.factor(half / d).length;
            if (stages <= bestStages) {
                best = d;
                bestStages = stages;
            }
        }
        return best;
    }

    /**
     * How far below sqrt(half) the column count may go: at n = 131072, 64 to 512 columns ran within 10% of each other
     * (see {@link #DIRECT_MAX_HALF}), so a factor of 4 costs little against a pass saved.
     */
    static final int COLUMN_SPREAD = 4;

    /** The plan for even fast size n (n >= 2, n/2 = 2^a 3^b 5^c), at the JVM's lane width ({@link Lanes}). */
    public static LaneFft of(int n) {
        if (n < 2 || n % 2 != 0 || !FftSizes.isFast(n / 2)) {
            throw new IllegalArgumentException("LaneFft size must be even with n/2 = 2^a 3^b 5^c, got " + n);
        }
        return CACHE.computeIfAbsent(n, LaneFft::new);
    }

    /**
     * The size this class takes for at least minN points, chosen by estimated time rather than by count: among the
     * sizes 2h (h = 2^a 3^b 5^c) from the smallest that fits up to the next power of two, the one of least
     * {@code n (1 + FIVE_COST f + THREE_COST t)}, f and t the factors 5 and 3 of h.
     */
    public static int sizeFor(int minN) {
        int h = FftSizes.nextFast(Math.max(1, minN / 2 + (minN & 1)));
        long pow2 = Long.highestOneBit(h) == h ? h : Long.highestOneBit(h) << 1;
        int best = h;
        double bestCost = relativeCost(h);
        while (h < pow2 && pow2 <= 1 << 30) {
            h = FftSizes.nextFast(h + 1);
            double c = relativeCost(h);
            if (c < bestCost) {
                best = h;
                bestCost = c;
            }
        }
        return 2 * best;
    }

    /**
     * What a factor 5 and a factor 3 of n/2 add to the time per point. Measured per point (one lane group's convolve,
     * W = 8, AVX2, best of a throwaway loop, n from 1000 to 4096): powers of two and sizes with factors 3 only took
     * 15.5-19 ns, one factor 5 about 1.3x that, two 1.6x, three 1.8x (n = 2000 took 58 us against 33 for 2048, n = 1080
     * 28 us against 19 for 1152); factors 3 cost little but lose the fused column ends when m1 is no power of 4.
     */
    static final double FIVE_COST = 0.3, THREE_COST = 0.1;

    /** n/2 = h's estimated time in units of a power-of-two point: h (1 + FIVE_COST f + THREE_COST t). */
    static double relativeCost(int h) {
        int r = h, fives = 0, threes = 0;
        while (r % 5 == 0) {
            r /= 5;
            fives++;
        }
        while (r % 3 == 0) {
            r /= 3;
            threes++;
        }
        return h * (1 + FIVE_COST * fives + THREE_COST * threes);
    }

    public int size() {
        return n;
    }

    public int lanes() {
        return W;
    }

    /** Floats of spectrum per part (re or im): (n/2 + 1) bins times W lanes, or the positions of a {@link #convolutionSpectrum}. */
    public int spectrumFloats() {
        return (Math.max(half, halfSlot) + 1) * W;
    }

    /** Scratch a call needs: the packed half-size transform (re and im) and its ping-pong or sub-transform buffer. */
    public int scratchFloats() {
        return m2 == 1 ? 4 * imOff : 2 * imOff + 4 * Math.max(COLUMN_BLOCK * cols.pitch(), rows.pitch());
    }

    /**
     * Spectrum bins 0..n/2 of the W real sequences in {@code x} (lane-interleaved, n * W floats from
     * xOff) into {@code re} and {@code im} ((n/2+1) * W floats each).
     */
    public void forward(float[] x, int xOff, float[] re, float[] im, float[] scratch) {
        forward(x, xOff, re, im, scratch, false);
    }

    /**
     * The spectrum of W kernels (lane-interleaved, n * W floats from kOff) as {@link #convolve} takes it:
     * the bins of {@link #forward}, stored in the transform's own order so that convolve reads them in
     * sequence with its data (in natural order its reads would stride by m1 bins). Only for convolve.
     */
    public void convolutionSpectrum(float[] k, int kOff, float[] re, float[] im, float[] scratch) {
        forward(k, kOff, re, im, scratch, true);
        // convolve's product leaves out two scalings: the split's 1/2 (bins 1..n/2-1) and the inverse's 1/n (all bins).
        float inner = 0.5f / n, edge = 1.0f / n;
        for (int p = 0; p <= halfSlot; p++) {
            float f = p == 0 || p == halfSlot ? edge : inner;
            FloatVector.fromArray(SPECIES, re, p * W).mul(f).intoArray(re, p * W);
            FloatVector.fromArray(SPECIES, im, p * W).mul(f).intoArray(im, p * W);
        }
    }

    private void forward(float[] x, int xOff, float[] re, float[] im, float[] scratch, boolean byPosition) {
        int z = forwardTransform(x, xOff, n, scratch);
        int hw = imOff;
        for (int k1 = 0; k1 < m1; k1++) {
            for (int k2 = 0; k2 < m2; k2++) {
                int p = k1 * rp + k2, k = k1 + m1 * k2;
                splitBin(scratch, z + p * W, z + partner(k1, k2) * W, hw, k, byPosition ? p : k, re, im);
            }
        }
        splitBin(scratch, z, z, hw, half, byPosition ? halfSlot : half, re, im);
    }

    /**
     * Inverse: n reals per lane (scaled by 1/n, numpy irfft semantics: the imaginary parts of bins 0 and
     * n/2 are ignored) from spectrum bins in {@code re}, {@code im} into {@code x} from xOff.
     */
    public void inverse(float[] re, float[] im, float[] x, int xOff, float[] scratch) {
        int hw = imOff;
        FloatVector zero = FloatVector.zero(SPECIES);
        float s = 1.0f / n;
        // k2 outer, k1 inner: bins are read in natural order (k = k1 + m1 k2 counts up) and the strided
        // accesses are the stores, which cost less than strided loads (at n = 16384: 1045 us instead of 1600).
        for (int k2 = 0; k2 < m2; k2++) {
            for (int k1 = 0; k1 < m1; k1++) {
                int k = k1 + m1 * k2, mk = half - k, p = (k1 * rp + k2) * W;
                FloatVector ar = FloatVector.fromArray(SPECIES, re, k * W);
                FloatVector ai = k == 0 ? zero : FloatVector.fromArray(SPECIES, im, k * W);
                FloatVector br = FloatVector.fromArray(SPECIES, re, mk * W);
                FloatVector bi = mk == half ? zero : FloatVector.fromArray(SPECIES, im, mk * W).neg();
                FloatVector er = ar.add(br), ei = ai.add(bi), dr = ar.sub(br), di = ai.sub(bi);
                float wr = splitRe[k], wi = -splitIm[k]; // W^{-k}
                FloatVector or = dr.mul(wr).sub(di.mul(wi)), oi = dr.mul(wi).add(di.mul(wr));
                // Z = E + i O, with the factor 1/2 of E and O and the 1/(n/2) of the inverse folded into one 1/n.
                er.sub(oi).mul(s).intoArray(scratch, p);
                // Conjugate on the way in: the forward engine then computes the inverse transform.
                ei.add(or).mul(-s).intoArray(scratch, hw + p);
            }
        }
        inverseTransform(scratch, 0, x, xOff, n);
    }

    /**
     * The circular convolution of the W sequences in {@code x} with a kernel whose spectrum
     * ({@link #convolutionSpectrum} of the kernel) is {@code kRe}, {@code kIm}: outputs t &lt; outCount into
     * {@code y[yOff + t * W + l]}. Only reals t &lt; nonzero of x are read (the rest count as zero), so
     * the caller need not pad. y may be x. The split, the product and the inverse's un-split run as one
     * pass over bin pairs (k, n/2 - k) in the transposed order, so no spectrum is written out.
     */
    public void convolve(float[] x, int xOff, int nonzero, float[] kRe, float[] kIm, float[] y, int yOff, int outCount, float[] scratch) {
        if (nonzero < 0 || nonzero > n || outCount < 0 || outCount > n) {
            throw new IllegalArgumentException("LaneFft(" + n + ").convolve: nonzero=" + nonzero + ", outCount=" + outCount + " must be in [0, n]");
        }
        int hw = imOff;
        if (rows == null) {
            int z = forwardTransform(x, xOff, nonzero, scratch);
            multiplyPair0(scratch, z, hw, kRe, kIm);
            for (int k1 = 1; 2 * k1 <= m1; k1++) multiplyPair(scratch, z, k1, m1 - k1, hw, kRe, kIm);
            inverseTransform(scratch, z, y, yOff, outCount);
            return;
        }
        // Four-step: the product pairs row k1 with row m1 - k1 (row 0 and row m1/2 with themselves), so each such
        // pair of rows goes through its forward transform, the product and its inverse transform while it sits in L1,
        // instead of the whole matrix passing through L2 (or beyond) between the three steps.
        forwardColumns(x, xOff, nonzero, scratch);
        for (int k1 = 0; 2 * k1 <= m1; k1++) {
            int partnerRow = (m1 - k1) % m1;
            transformRow(scratch, k1);
            if (partnerRow != k1) transformRow(scratch, partnerRow);
            if (k1 == 0) {
                multiplyPair0(scratch, 0, hw, kRe, kIm);
                for (int k2 = 1; 2 * k2 <= m2; k2++) multiplyPair(scratch, 0, k2, m2 - k2, hw, kRe, kIm);
            } else {
                int r1 = k1 * rp, r2 = partnerRow * rp;
                for (int k2 = 0; k2 < m2; k2++) {
                    if (partnerRow == k1 && k2 > m2 - 1 - k2) break; // row m1/2 pairs with itself: each pair once
                    multiplyPair(scratch, 0, r1 + k2, r2 + (m2 - 1 - k2), hw, kRe, kIm);
                }
            }
            transformRow(scratch, k1);
            if (partnerRow != k1) transformRow(scratch, partnerRow);
        }
        inverseColumns(scratch, y, yOff, outCount);
    }

    /** Position of bin n/2 - k, for bin k = k1 + m1 k2 at position k1 rp + k2 (bin 0 pairs with itself). */
    private int partner(int k1, int k2) {
        if (k1 != 0) return (m1 - k1) * rp + (m2 - 1 - k2);
        return k2 == 0 ? 0 : m2 - k2;
    }

    /** X[k] = E + W^k O from Z[k] at a and Z[n/2 - k] at b, stored as bin {@code out}. */
    private void splitBin(float[] s, int a, int b, int hw, int k, int out, float[] re, float[] im) {
        FloatVector ar = FloatVector.fromArray(SPECIES, s, a), ai = FloatVector.fromArray(SPECIES, s, a + hw);
        FloatVector br = FloatVector.fromArray(SPECIES, s, b), bi = FloatVector.fromArray(SPECIES, s, b + hw).neg();
        FloatVector er = ar.add(br).mul(0.5f), ei = ai.add(bi).mul(0.5f);
        FloatVector or = ai.sub(bi).mul(0.5f), oi = br.sub(ar).mul(0.5f);
        float wr = splitRe[k], wi = splitIm[k];
        er.add(or.mul(wr)).sub(oi.mul(wi)).intoArray(re, out * W);
        ei.add(oi.mul(wr)).add(or.mul(wi)).intoArray(im, out * W);
    }

    /**
     * Bins k and n/2 - k (0 < k < n/2) in place at positions pa and pb: split both from the two packed values, multiply
     * by the kernel, and un-split into the conjugated, 1/n-scaled input of the inverse. The pair shares every
     * intermediate: X[k] = (E + P, F + Q) and X[n/2-k] = (E - P, Q - F), and the un-split of Y[n/2-k] is the mirror of
     * Y[k]'s, so one set of products serves both. The split's factor 1/2 and the inverse's 1/n are in the kernel
     * spectrum ({@link #convolutionSpectrum}), so E, F, O here are twice the textbook ones and nothing is rescaled.
     */
    private void multiplyPair(float[] s, int z, int pa, int pb, int hw, float[] kRe, float[] kIm) {
        int a = z + pa * W, b = z + pb * W;
        FloatVector ar = FloatVector.fromArray(SPECIES, s, a), ai = FloatVector.fromArray(SPECIES, s, a + hw);
        FloatVector br = FloatVector.fromArray(SPECIES, s, b), bi = FloatVector.fromArray(SPECIES, s, b + hw);
        float wr = posRe[pa], wi = posIm[pa];
        FloatVector e = ar.add(br), f = ai.sub(bi), or = ai.add(bi), oi = br.sub(ar);
        FloatVector p = or.fma(FloatVector.broadcast(SPECIES, wr), oi.mul(-wi)), q = oi.fma(FloatVector.broadcast(SPECIES, wr), or.mul(wi));
        FloatVector x1r = e.add(p), x1i = f.add(q), x2r = e.sub(p), x2i = q.sub(f);
        int k1 = pa * W, k2 = pb * W;
        FloatVector c1r = FloatVector.fromArray(SPECIES, kRe, k1), c1i = FloatVector.fromArray(SPECIES, kIm, k1);
        FloatVector c2r = FloatVector.fromArray(SPECIES, kRe, k2), c2i = FloatVector.fromArray(SPECIES, kIm, k2);
        FloatVector y1r = x1r.mul(c1r).sub(x1i.mul(c1i)), y1i = x1r.mul(c1i).add(x1i.mul(c1r));
        FloatVector y2r = x2r.mul(c2r).sub(x2i.mul(c2i)), y2i = x2r.mul(c2i).add(x2i.mul(c2r));
        // Un-split with W^{-k}: E' = Y1 + conj(Y2), D = Y1 - conj(Y2), U = D W^{-k}; Z1 = conj(E' + i U), Z2 its mirror.
        FloatVector er = y1r.add(y2r), ei = y1i.sub(y2i), dr = y1r.sub(y2r), di = y1i.add(y2i);
        FloatVector ur = dr.fma(FloatVector.broadcast(SPECIES, wr), di.mul(wi)), ui = di.fma(FloatVector.broadcast(SPECIES, wr), dr.mul(-wi));
        er.add(ui).intoArray(s, b);
        ei.sub(ur).intoArray(s, b + hw);
        er.sub(ui).intoArray(s, a);
        y2i.sub(y1i).sub(ur).intoArray(s, a + hw);
    }

    /**
     * Bins 0 and n/2, both from Z[0], multiplied and un-split into position 0 (their imaginary parts ignored, as in
     * inverse); the kernel's bins 0 and n/2 carry the inverse's 1/n ({@link #convolutionSpectrum}).
     */
    private void multiplyPair0(float[] s, int a, int hw, float[] kRe, float[] kIm) {
        FloatVector ar = FloatVector.fromArray(SPECIES, s, a), ai = FloatVector.fromArray(SPECIES, s, a + hw);
        int h = halfSlot * W;
        FloatVector x0 = ar.add(ai), xh = ar.sub(ai);
        FloatVector y0 = x0.mul(FloatVector.fromArray(SPECIES, kRe, 0));
        FloatVector yh = xh.mul(FloatVector.fromArray(SPECIES, kRe, h));
        y0.add(yh).intoArray(s, a);
        yh.sub(y0).intoArray(s, a + hw);
    }

    /**
     * Packs reals t < nonzero of x (zeros after) as z_j = x_2j + i x_2j+1 and transforms them. Returns
     * where Z's real parts start in s (imaginary parts {@link #imOff} floats later), bin k1 + m1 k2 at
     * position k1 rp + k2.
     */
    private int forwardTransform(float[] x, int xOff, int nonzero, float[] s) {
        int hw = imOff;
        if (rows == null) {
            for (int j = 0; j < half; j++) pack(x, xOff, nonzero, j, s, j * W, hw);
            return cols.run(s, 0, 2 * hw);
        }
        forwardColumns(x, xOff, nonzero, s);
        for (int k1 = 0; k1 < m1; k1++) transformRow(s, k1);
        return 0;
    }

    /**
     * The forward engine on the conjugated, un-split spectrum at s[z..] (transposed order), then the
     * conjugate back into reals t < outCount of y.
     */
    private void inverseTransform(float[] s, int z, float[] y, int yOff, int outCount) {
        int hw = imOff;
        if (rows == null) {
            int r = cols.run(s, z, z == 0 ? 2 * hw : 0);
            for (int j = 0; 2 * j < outCount; j++) unpack(s, r + j * W, hw, y, yOff, outCount, j);
            return;
        }
        for (int k1 = 0; k1 < m1; k1++) transformRow(s, k1);
        inverseColumns(s, y, yOff, outCount);
    }

    /**
     * Columns a column pass handles together. One column's elements lie a row apart, so a pass over single columns
     * touches each cache line of x, y and the matrix in two visits (a line holds two elements of a row) and reads
     * nothing contiguous; a block of adjacent columns reads and writes several whole lines of each row at once. Each
     * column of the block has its own transform buffers: the scratch grows by {@code 4 * COLUMN_BLOCK * cols.pitch()}
     * floats (17 KB at W = 8, m1 = 16). Blocks of 2, 4, 8 and 16 were timed at n = 2048, 16384 and 131072 (W = 8,
     * AVX2): 8 was the fastest or within the noise at each, 2 the slowest by 5-25%.
     */
    static final int COLUMN_BLOCK = 8;

    /**
     * The four-step's column pass forward: blocks of columns gathered straight from x (z_j for j = j2 + m2 j1 at row
     * j1, zeros past nonzero), transformed, and twiddled into the matrix.
     */
    private void forwardColumns(float[] x, int xOff, int nonzero, float[] s) {
        int hw = imOff, sub = 2 * hw, cp = cols.pitch(), cs = 4 * cp;
        boolean direct = cols.firstIsRadix4();
        int limit = xOff + nonzero * W; // reals t < nonzero only: the rest, in a causal convolution half of it, read as zeros
        for (int j2 = 0; j2 < m2; j2 += COLUMN_BLOCK) {
            int nb = Math.min(COLUMN_BLOCK, m2 - j2), r = 0;
            if (direct) {
                // Element j1 of column j2 + b is z_j, j = j2 + b + m2 j1: x_2j and x_2j+1, 2 m2 W floats from row to row.
                cols.firstStage(x, xOff + 2 * j2 * W, W, 2 * W, 2 * m2 * W, limit, null, null, 0, 0, nb, s, sub, cs);
                if (fusedEnds) {
                    for (int b = 0; b < nb; b++) r = cols.run(s, sub + b * cs, sub + b * cs + 2 * cp, 1, cols.stages() - 1) - b * cs;
                    cols.lastStageTwiddledOut(s, r, cs, nb, s, j2 * W, hw, W, rp * W, stepRe, stepIm, j2, m2);
                    continue;
                }
                for (int b = 0; b < nb; b++) r = cols.run(s, sub + b * cs, sub + b * cs + 2 * cp, 1, cols.stages()) - b * cs; // the same for every b
            } else {
                for (int j1 = 0; j1 < m1; j1++) {
                    for (int b = 0; b < nb; b++) pack(x, xOff, nonzero, j2 + b + m2 * j1, s, sub + b * cs + j1 * W, cp);
                }
                for (int b = 0; b < nb; b++) r = cols.run(s, sub + b * cs, sub + b * cs + 2 * cp) - b * cs;
            }
            for (int k1 = 0; k1 < m1; k1++) {
                for (int b = 0; b < nb; b++) {
                    int c = r + b * cs + k1 * W;
                    twiddle(s, c, c + cp, k1 * m2 + j2 + b, s, (k1 * rp + j2 + b) * W, hw);
                }
            }
        }
    }

    /** Row k1 of the four-step matrix through the forward engine, where it lies. */
    private void transformRow(float[] s, int k1) {
        int p = k1 * rp * W;
        rows.run(s, p, imOff + p, p, imOff + p, 2 * imOff);
    }

    /**
     * The four-step's column pass inverse: blocks of columns gathered with their twiddles, transformed, and unpacked
     * straight into y (only the z_j with 2j &lt; outCount are wanted back).
     */
    private void inverseColumns(float[] s, float[] y, int yOff, int outCount) {
        int hw = imOff, sub = 2 * hw, cp = cols.pitch(), cs = 4 * cp;
        int pairs = (outCount + 1) / 2;
        for (int j2 = 0; j2 < m2 && j2 < pairs; j2 += COLUMN_BLOCK) {
            int nb = Math.min(COLUMN_BLOCK, m2 - j2), r = 0;
            if (cols.firstIsRadix4()) {
                cols.firstStage(s, j2 * W, hw, W, rp * W, Integer.MAX_VALUE, stepRe, stepIm, j2, m2, nb, s, sub, cs);
                if (fusedEnds) {
                    for (int b = 0; b < nb; b++) r = cols.run(s, sub + b * cs, sub + b * cs + 2 * cp, 1, cols.stages() - 1) - b * cs;
                    cols.lastStageUnpacked(s, r, cs, nb, y, yOff, outCount, j2, m2);
                    continue;
                }
                for (int b = 0; b < nb; b++) r = cols.run(s, sub + b * cs, sub + b * cs + 2 * cp, 1, cols.stages()) - b * cs;
            } else {
                for (int k1 = 0; k1 < m1; k1++) {
                    for (int b = 0; b < nb; b++) {
                        int p = (k1 * rp + j2 + b) * W;
                        twiddle(s, p, hw + p, k1 * m2 + j2 + b, s, sub + b * cs + k1 * W, cp);
                    }
                }
                for (int b = 0; b < nb; b++) r = cols.run(s, sub + b * cs, sub + b * cs + 2 * cp) - b * cs;
            }
            for (int j1 = 0, j = j2; j1 < m1 && j < pairs; j1++, j += m2) {
                for (int b = 0; b < nb && j + b < pairs; b++) unpack(s, r + b * cs + j1 * W, cp, y, yOff, outCount, j + b);
            }
        }
    }

    /** z_j (zero past nonzero) into s[re] and s[re + imOff]. */
    private static void pack(float[] x, int xOff, int nonzero, int j, float[] s, int re, int imOff) {
        int t = 2 * j;
        FloatVector zero = FloatVector.zero(SPECIES);
        (t < nonzero ? FloatVector.fromArray(SPECIES, x, xOff + t * W) : zero).intoArray(s, re);
        (t + 1 < nonzero ? FloatVector.fromArray(SPECIES, x, xOff + (t + 1) * W) : zero).intoArray(s, re + imOff);
    }

    /** Reals 2j and 2j+1 (those below outCount) from the conjugated z_j at s[re], s[re + imOff]. */
    private static void unpack(float[] s, int re, int imOff, float[] y, int yOff, int outCount, int j) {
        int t = 2 * j;
        FloatVector.fromArray(SPECIES, s, re).intoArray(y, yOff + t * W);
        if (t + 1 < outCount) FloatVector.fromArray(SPECIES, s, re + imOff).neg().intoArray(y, yOff + (t + 1) * W);
    }

    /** (s[re], s[im]) times the four-step twiddle at index tw, into out[o] and out[o + hw]. */
    private void twiddle(float[] s, int re, int im, int tw, float[] out, int o, int hw) {
        FloatVector ar = FloatVector.fromArray(SPECIES, s, re), ai = FloatVector.fromArray(SPECIES, s, im);
        float wr = stepRe[tw], wi = stepIm[tw];
        ar.fma(FloatVector.broadcast(SPECIES, wr), ai.mul(-wi)).intoArray(out, o);
        ar.fma(FloatVector.broadcast(SPECIES, wi), ai.mul(wr)).intoArray(out, o + hw);
    }
}
