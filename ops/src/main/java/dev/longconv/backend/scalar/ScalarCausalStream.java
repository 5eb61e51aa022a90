package dev.longconv.backend.scalar;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.Tensor;
import dev.longconv.ops.CausalStream;
import dev.longconv.ops.spi.ChannelKernel;
import dev.longconv.ops.spi.Seq;
import dev.longconv.ops.spi.StreamBase;
import dev.longconv.ops.spi.StreamSchedule;
import dev.longconv.simd.FftSizes;
import dev.longconv.simd.RealFft;

import java.util.Arrays;

/**
 * The scalar backend's causal stream: float64 arithmetic per (batch row, channel) on the {@link StreamSchedule}
 * (direct head, FFT segments by {@link RealFft}), and a bulk pass that flushes the pending contributions and
 * convolves a whole block by one FFT.
 */
final class ScalarCausalStream extends StreamBase implements CausalStream {
    /**
     * Lags summed directly every step. With float64 arithmetic on one thread the FFT segments pay off from a few dozen
     * lags on; the schedule's cost is O(head) per step plus O(log) per segment, so the exact value matters little.
     */
    static final int HEAD = 32;
    /** A push of this many steps or more runs as one bulk pass. */
    static final int BULK_MIN = 16;

    /** The kernel, prepared once and shared by copies. */
    private static final class Kernel {
        final StreamSchedule schedule;
        /** [D][head]: lags 0..head-1. */
        final double[][] headTaps;
        /** [D][Lk]: every tap, for blocks holding a non-finite input (an FFT would spread it to every output). */
        final double[][] rows;
        /** [j]: the FFT of size 2 S_j; [j][D]: segment j's taps at that size, transformed. */
        final RealFft[] segFft;
        final double[][][] segSpectra;
        /** Bulk blocks of at most this many steps, convolved at FFT size bulkN. */
        final int bulkMax, bulkN;
        final RealFft bulkFft;
        /** [D][...]: the whole kernel at bulkN, transformed. */
        final double[][] bulkSpectra;

        Kernel(Tensor k, Layout layout, StreamSchedule s) {
            this.schedule = s;
            ChannelKernel ck = ChannelKernel.of(k, layout);
            int d = ck.channels(), lk = ck.taps();
            double[][] rows = ck.readAll();
            this.rows = rows;
            this.headTaps = new double[d][];
            for (int c = 0; c < d; c++) headTaps[c] = Arrays.copyOf(rows[c], s.head());
            int segs = s.segmentCount();
            this.segFft = new RealFft[segs];
            this.segSpectra = new double[segs][d][];
            for (int j = 0; j < segs; j++) {
                int size = s.segmentSize(j), n = 2 * size;
                segFft[j] = RealFft.of(n);
                double[] buf = new double[n];
                for (int c = 0; c < d; c++) {
                    Arrays.fill(buf, 0);
                    System.arraycopy(rows[c], size, buf, 0, s.segmentTaps(j));
                    segSpectra[j][c] = new double[n + 2];
                    segFft[j].forward(buf, 0, segSpectra[j][c], 0);
                }
            }
            this.bulkMax = Math.max(lk, 256);
            this.bulkN = FftSizes.nextFast(bulkMax + lk - 1);
            this.bulkFft = RealFft.of(bulkN);
            this.bulkSpectra = new double[d][];
            double[] buf = new double[bulkN];
            for (int c = 0; c < d; c++) {
                Arrays.fill(buf, 0);
                System.arraycopy(rows[c], 0, buf, 0, lk);
                bulkSpectra[c] = new double[bulkN + 2];
                bulkFft.forward(buf, 0, bulkSpectra[c], 0);
            }
        }
    }

    private final Kernel kernel;
    private final StreamSchedule s;
    /** Per (b, d) row: the last inputs (ring of historySize) and the pending contributions to future outputs (ring of pendingSize). */
    private final double[] history, pending;
    /** Where the schedule's blocks start: the position of the last flush. */
    private long origin;
    /** FFT buffers: a padded row and its spectrum, at the largest size used. */
    private final double[] buf, spec;

    ScalarCausalStream(Tensor k, int batch, Layout layout, DType dtype, StreamSchedule schedule) {
        super(batch, ChannelKernel.of(k, layout).channels(), ChannelKernel.of(k, layout).taps(), layout, dtype);
        this.kernel = new Kernel(k, layout, schedule);
        this.s = schedule;
        int rows = Math.multiplyExact(batch, channels());
        this.history = new double[Math.multiplyExact(rows, s.historySize())];
        this.pending = new double[Math.multiplyExact(rows, s.pendingSize())];
        int n = Math.max(kernel.bulkN, s.isDirect() ? 0 : 2 * s.segmentSize(s.segmentCount() - 1));
        this.buf = new double[n];
        this.spec = new double[n + 2];
    }

    private ScalarCausalStream(ScalarCausalStream other) {
        super(other);
        this.kernel = other.kernel;
        this.s = other.s;
        this.history = other.history.clone();
        this.pending = other.pending.clone();
        this.origin = other.origin;
        this.buf = new double[other.buf.length];
        this.spec = new double[other.spec.length];
    }

    @Override
    public String describe() {
        return "scalar float64 " + s;
    }

    @Override
    public CausalStream copy() {
        return new ScalarCausalStream(this);
    }

    @Override
    protected int bulkThreshold() {
        return BULK_MIN;
    }

    @Override
    protected void clearState() {
        Arrays.fill(history, 0);
        Arrays.fill(pending, 0);
        origin = 0;
    }

    @Override
    protected void stepRows(double[] xs, double[] ys) {
        long p = position(), since = p - origin;
        int hm = s.historySize() - 1, am = s.pendingSize() - 1, hs = s.historySize(), as = s.pendingSize();
        int reach = (int) Math.min(s.head() - 1, since);
        int d = channels();
        for (int r = 0; r < xs.length; r++) {
            int hb = r * hs, ab = r * as;
            history[hb + (int) (p & hm)] = xs[r];
            double[] k = kernel.headTaps[r % d];
            double acc = pending[ab + (int) (p & am)];
            pending[ab + (int) (p & am)] = 0;
            for (int j = 0; j <= reach; j++) acc += k[j] * history[hb + (int) ((p - j) & hm)];
            ys[r] = acc;
        }
        long next = p + 1;
        int firing = s.firing(next - origin);
        for (int j = 0; j < firing; j++) {
            for (int r = 0; r < xs.length; r++) applySegment(r, j, next - s.segmentSize(j), s.segmentSize(j));
        }
    }

    /** Segment j over inputs [from, from + count) of row r: their contributions through lags [S_j, 2 S_j) into pending. */
    private void applySegment(int r, int j, long from, int count) {
        int size = s.segmentSize(j), n = 2 * size, hm = s.historySize() - 1, am = s.pendingSize() - 1;
        int hb = r * s.historySize(), ab = r * s.pendingSize();
        Arrays.fill(buf, 0, n, 0);
        for (int i = 0; i < count; i++) buf[i] = history[hb + (int) ((from + i) & hm)];
        long first = from + size; // input from + i meets lag size + e at output from + size + i + e
        int outputs = count + s.segmentTaps(j) - 1;
        if (!finite(buf, count)) {
            directInto(buf, count, kernel.rows[r % channels()], size, s.segmentTaps(j), pending, ab, first, am);
            return;
        }
        RealFft fft = kernel.segFft[j];
        fft.forward(buf, 0, spec, 0);
        multiply(spec, kernel.segSpectra[j][r % channels()], n / 2 + 1);
        fft.inverse(spec, 0, buf, 0);
        for (int i = 0; i < outputs; i++) pending[ab + (int) ((first + i) & am)] += buf[i];
    }

    private static boolean finite(double[] x, int count) {
        for (int i = 0; i < count; i++) if (!Double.isFinite(x[i])) return false;
        return true;
    }

    /** pend[(at + i + e) mod A] += x[i] k[from + e] for i < count, e < taps: the direct sum, as the definition has it. */
    private static void directInto(double[] x, int count, double[] k, int from, int taps, double[] pend, int base, long at, int am) {
        for (int i = 0; i < count; i++) {
            for (int e = 0; e < taps; e++) pend[base + (int) ((at + i + e) & am)] += x[i] * k[from + e];
        }
    }

    private static void multiply(double[] x, double[] k, int bins) {
        for (int f = 0; f < 2 * bins; f += 2) {
            double xr = x[f], xi = x[f + 1], kr = k[f], ki = k[f + 1];
            x[f] = xr * kr - xi * ki;
            x[f + 1] = xr * ki + xi * kr;
        }
    }

    /** Adds every contribution the schedule still owes (incomplete segment blocks, recent inputs' head lags) to pending. */
    private void flush() {
        long p = position(), since = p - origin;
        if (since == 0) return;
        int hm = s.historySize() - 1, am = s.pendingSize() - 1;
        int d = channels();
        for (int r = 0; r < batch() * d; r++) {
            int hb = r * s.historySize(), ab = r * s.pendingSize();
            double[] k = kernel.headTaps[r % d];
            for (long in = Math.max(origin, p - s.head() + 1); in < p; in++) {
                double v = history[hb + (int) (in & hm)];
                for (int lag = (int) (p - in); lag < s.head(); lag++) pending[ab + (int) ((in + lag) & am)] += k[lag] * v;
            }
            for (int j = 0; j < s.segmentCount(); j++) {
                int owed = s.pendingInputs(j, since);
                if (owed > 0) applySegment(r, j, p - owed, owed);
            }
        }
        origin = p;
    }

    @Override
    protected void bulk(Seq in, Seq out) {
        flush();
        int total = in.length(), d = channels();
        double[] row = new double[total], res = new double[total];
        int am = s.pendingSize() - 1, n = kernel.bulkN;
        for (int b = 0; b < batch(); b++) {
            for (int c = 0; c < d; c++) {
                int r = b * d + c, ab = r * s.pendingSize();
                in.read(b, c, row);
                for (int t0 = 0; t0 < total; t0 += kernel.bulkMax) {
                    int count = Math.min(kernel.bulkMax, total - t0);
                    long p = position() + t0;
                    Arrays.fill(buf, 0, n, 0);
                    System.arraycopy(row, t0, buf, 0, count);
                    if (finite(buf, count)) {
                        kernel.bulkFft.forward(buf, 0, spec, 0);
                        multiply(spec, kernel.bulkSpectra[c], n / 2 + 1);
                        kernel.bulkFft.inverse(spec, 0, buf, 0);
                    } else {
                        double[] x = Arrays.copyOf(buf, count);
                        Arrays.fill(buf, 0, count + taps() - 1, 0);
                        for (int i = 0; i < count; i++) for (int e = 0; e < taps(); e++) buf[i + e] += x[i] * kernel.rows[c][e];
                    }
                    for (int i = 0; i < count; i++) {
                        int slot = ab + (int) ((p + i) & am);
                        res[t0 + i] = pending[slot] + buf[i];
                        pending[slot] = 0;
                    }
                    for (int i = count; i < count + taps() - 1; i++) pending[ab + (int) ((p + i) & am)] += buf[i];
                }
                out.write(b, c, res);
            }
        }
        origin = position() + total;
    }
}
