package dev.longconv.backend.vector;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.Tensor;
import dev.longconv.ops.CausalStream;
import dev.longconv.ops.spi.ChannelKernel;
import dev.longconv.ops.spi.Seq;
import dev.longconv.ops.spi.StreamBase;
import dev.longconv.ops.spi.StreamSchedule;
import dev.longconv.simd.LaneFft;
import dev.longconv.simd.Lanes;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * The vector backend's float32 causal stream: W channels per vector lane, one task per (batch row, channel block)
 * on the shared pool, on the {@link StreamSchedule}: a direct head summed with FMAs over the ring of recent inputs,
 * FFT segments by {@link LaneFft} with their kernel spectra prepared once, and a bulk pass (flush, then one FFT per
 * block of steps) for prefill and long pushes.
 */
final class LaneCausalStream extends StreamBase implements CausalStream {
    private static final VectorSpecies<Float> SPECIES = Lanes.FLOAT;
    private static final int W = Lanes.W;

    /**
     * Lags summed directly every step once the kernel is split into segments: segments below the head would cost more
     * in FFT setup than their direct sums (StreamBench, D = 256, compares the schemes).
     */
    static final int HEAD = 64;
    /**
     * Kernels up to this many taps stream as a plain ring buffer. StreamBench (D = 256, vector backend, scheme direct
     * against partitioned) puts the crossover of the mean step time between 128 and 256 taps; the ring buffer also
     * has the flatter tail (no segment ever fires), so it keeps the taps up to 128.
     */
    static final int DIRECT_MAX = 128;
    /** A push of this many steps or more runs as one bulk pass. */
    static final int BULK_MIN = 16;

    /** The kernel, prepared once and shared by copies. */
    private static final class Kernel {
        final StreamSchedule schedule;
        final int blocks;
        /** [block][lag * W + lane]: lags 0..head-1. */
        final float[][] headTaps;
        /** [j][block]: segment j's taps (lags [S_j, 2 S_j)) at FFT size 2 S_j. */
        final GuardedSpectrum[][] segments;
        final int bulkMax;
        /** [block]: the whole kernel at the bulk FFT size. */
        final GuardedSpectrum[] bulk;
        /** Floats a thread's buffers need: the largest FFT's data and scratch. */
        final int bufFloats, scratchFloats;

        Kernel(Tensor k, Layout layout, StreamSchedule s) {
            this.schedule = s;
            ChannelKernel ck = ChannelKernel.of(k, layout);
            int d = ck.channels(), lk = ck.taps();
            this.blocks = (d + W - 1) / W;
            this.headTaps = new float[blocks][];
            float[][] taps = new float[blocks][];
            for (int bl = 0; bl < blocks; bl++) {
                headTaps[bl] = new float[s.head() * W];
                LaneIO.gatherKernel(ck, bl * W, Math.min(s.head(), lk), headTaps[bl], s.head());
                taps[bl] = new float[lk * W];
                LaneIO.gatherKernel(ck, bl * W, lk, taps[bl], lk);
            }
            int segs = s.segmentCount();
            this.segments = new GuardedSpectrum[segs][blocks];
            int maxN = 0, maxScratch = 0;
            for (int j = 0; j < segs; j++) {
                int size = s.segmentSize(j), n = 2 * size;
                LaneFft fft = LaneFft.of(n);
                float[] padded = new float[n * W], scratch = new float[fft.scratchFloats()];
                for (int bl = 0; bl < blocks; bl++) segments[j][bl] = new GuardedSpectrum(fft, taps[bl], size, s.segmentTaps(j), padded, scratch);
                maxN = Math.max(maxN, n);
                maxScratch = Math.max(maxScratch, fft.scratchFloats());
            }
            this.bulkMax = Math.max(lk, 256);
            LaneIO.requireSteps(StreamBase.OP, "k", 2L * bulkMax + lk);
            LaneFft bulkFft = LaneFft.of(LaneFft.sizeFor(bulkMax + lk - 1));
            int n = bulkFft.size();
            this.bulk = new GuardedSpectrum[blocks];
            float[] padded = new float[n * W], scratch = new float[bulkFft.scratchFloats()];
            for (int bl = 0; bl < blocks; bl++) bulk[bl] = new GuardedSpectrum(bulkFft, taps[bl], 0, lk, padded, scratch);
            this.bufFloats = Math.max(maxN, n) * W;
            this.scratchFloats = Math.max(maxScratch, bulkFft.scratchFloats());
        }
    }

    private final Kernel kernel;
    private final StreamSchedule s;
    /** Per task (b * blocks + block): the last inputs, [slot * W + lane], and the pending contributions to future outputs. */
    private final float[][] history, pending;
    private long origin;
    /** Per thread: an FFT data buffer and scratch, at the largest size this stream uses. */
    private final ThreadLocal<float[][]> buffers;
    /** The pool's helpers for steps where a large segment fires, made once, and that step's arguments for them. */
    private final Parallel.Team team = new Parallel.Team();
    private long firingP;
    private int firingCount;
    private double[] firingXs, firingYs;
    private final IntConsumer firingTask = this::firingTask;

    LaneCausalStream(Tensor k, int batch, Layout layout, StreamSchedule schedule) {
        super(batch, ChannelKernel.of(k, layout).channels(), ChannelKernel.of(k, layout).taps(), layout, DType.FLOAT32);
        this.kernel = new Kernel(k, layout, schedule);
        this.s = schedule;
        int tasks = Math.multiplyExact(batch, kernel.blocks);
        this.history = new float[tasks][Math.multiplyExact(s.historySize(), W)];
        this.pending = new float[tasks][Math.multiplyExact(s.pendingSize(), W)];
        this.buffers = buffers(kernel);
    }

    private LaneCausalStream(LaneCausalStream other) {
        super(other);
        this.kernel = other.kernel;
        this.s = other.s;
        this.history = new float[other.history.length][];
        this.pending = new float[other.pending.length][];
        for (int i = 0; i < history.length; i++) {
            history[i] = other.history[i].clone();
            pending[i] = other.pending[i].clone();
        }
        this.origin = other.origin;
        this.buffers = buffers(kernel);
    }

    /** Per thread: [0] FFT data, [1] FFT scratch, [2] a direct sum's output, [3..5] W floats for the range check. */
    private static ThreadLocal<float[][]> buffers(Kernel k) {
        return ThreadLocal.withInitial(() -> new float[][] {new float[k.bufFloats], new float[k.scratchFloats], new float[k.bufFloats],
                new float[W], new float[W], new float[W]});
    }

    @Override
    public String describe() {
        return "vector float32 " + s;
    }

    @Override
    public CausalStream copy() {
        return new LaneCausalStream(this);
    }

    @Override
    protected int bulkThreshold() {
        return BULK_MIN;
    }

    @Override
    protected void clearState() {
        for (float[] h : history) Arrays.fill(h, 0f);
        for (float[] p : pending) Arrays.fill(p, 0f);
        origin = 0;
    }

    /**
     * A step runs on the pool only when a segment of at least this size fires; other steps (all but one in every
     * PARALLEL_SEGMENT_MIN) run on the caller's thread, where a head sum over a few dozen lags per block costs less
     * than handing tasks to a worker. Neither allocates: the pool's steps go through a {@link Parallel.Team} made with
     * the stream.
     */
    static final int PARALLEL_SEGMENT_MIN = 1024;

    @Override
    protected void stepRows(double[] xs, double[] ys) {
        long p = position();
        int firing = s.firing(p + 1 - origin);
        int blocks = kernel.blocks, tasks = batch() * blocks;
        if (firing > 0 && s.segmentSize(firing - 1) >= PARALLEL_SEGMENT_MIN) {
            firingP = p;
            firingCount = firing;
            firingXs = xs;
            firingYs = ys;
            try {
                team.forEach(tasks, firingTask);
            } finally {
                firingXs = null;
                firingYs = null;
            }
        } else {
            for (int task = 0; task < tasks; task++) stepTask(task / blocks, task % blocks, p, firing, xs, ys);
        }
    }

    /** One task of a step where a large segment fires, with that step's arguments from the fields. */
    private void firingTask(int task) {
        stepTask(task / kernel.blocks, task % kernel.blocks, firingP, firingCount, firingXs, firingYs);
    }

    private void stepTask(int b, int block, long p, int firing, double[] xs, double[] ys) {
        int task = b * kernel.blocks + block, d0 = block * W, lanes = Math.min(W, channels() - d0), row = b * channels() + d0;
        float[] hist = history[task], pend = pending[task];
        int hm = s.historySize() - 1, am = s.pendingSize() - 1;
        int slot = (int) (p & hm) * W;
        for (int l = 0; l < lanes; l++) hist[slot + l] = (float) xs[row + l];
        int ps = (int) (p & am) * W;
        FloatVector acc = FloatVector.fromArray(SPECIES, pend, ps);
        FloatVector.zero(SPECIES).intoArray(pend, ps);
        float[] k = kernel.headTaps[block];
        int reach = (int) Math.min(s.head() - 1, p - origin);
        for (int j = 0; j <= reach; j++) {
            acc = FloatVector.fromArray(SPECIES, k, j * W).fma(FloatVector.fromArray(SPECIES, hist, (int) ((p - j) & hm) * W), acc);
        }
        for (int l = 0; l < lanes; l++) ys[row + l] = acc.lane(l);
        for (int j = 0; j < firing; j++) applySegment(task, block, j, p + 1 - s.segmentSize(j), s.segmentSize(j));
    }

    /** Segment j over inputs [from, from + count) of one task: their contributions through lags [S_j, 2 S_j) into pending. */
    private void applySegment(int task, int block, int j, long from, int count) {
        float[][] bufs = buffers.get();
        float[] buf = bufs[0], hist = history[task], pend = pending[task];
        int size = s.segmentSize(j), hm = s.historySize() - 1, am = s.pendingSize() - 1;
        // the block's inputs in order out of the ring: at most two runs
        int start = (int) (from & hm), first = Math.min(count, s.historySize() - start);
        System.arraycopy(hist, start * W, buf, 0, first * W);
        if (first < count) System.arraycopy(hist, 0, buf, first * W, (count - first) * W);
        int outputs = count + s.segmentTaps(j) - 1;
        float[] res = kernel.segments[j][block].convolve(buf, count, outputs, bufs[1], bufs[2], bufs[3], bufs[4], bufs[5], false);
        addPending(pend, res, from + size, outputs, am, 0);
    }

    /** Adds what the schedule still owes (incomplete segment blocks, recent inputs' head lags) to pending, per task. */
    private void flushTask(int task, int block) {
        long p = position(), since = p - origin;
        if (since == 0) return;
        float[] hist = history[task], pend = pending[task], k = kernel.headTaps[block];
        int hm = s.historySize() - 1, am = s.pendingSize() - 1;
        for (long in = Math.max(origin, p - s.head() + 1); in < p; in++) {
            FloatVector v = FloatVector.fromArray(SPECIES, hist, (int) (in & hm) * W);
            for (int lag = (int) (p - in); lag < s.head(); lag++) {
                int o = (int) ((in + lag) & am) * W;
                FloatVector.fromArray(SPECIES, k, lag * W).fma(v, FloatVector.fromArray(SPECIES, pend, o)).intoArray(pend, o);
            }
        }
        for (int j = 0; j < s.segmentCount(); j++) {
            int owed = s.pendingInputs(j, since);
            if (owed > 0) applySegment(task, block, j, p - owed, owed);
        }
    }

    @Override
    protected void bulk(Seq in, Seq out) {
        int total = in.length(), blocks = kernel.blocks;
        long p0 = position();
        Parallel.forEach(batch() * blocks, 1e9, Parallel.anyThread(in.tensor(), out.tensor(), null, null, null), task -> {
            int b = task / blocks, block = task % blocks;
            flushTask(task, block);
            bulkTask(in, out, b, block, task, p0, total);
        });
        origin = p0 + total;
    }

    private void bulkTask(Seq in, Seq out, int b, int block, int task, long p0, int total) {
        float[][] bufs = buffers.get();
        float[] buf = bufs[0], pend = pending[task];
        int am = s.pendingSize() - 1, lk = taps();
        // one sub-view per block of steps: gather and scatter take a whole row's length
        for (int t0 = 0; t0 < total; t0 += kernel.bulkMax) {
            int count = Math.min(kernel.bulkMax, total - t0);
            Seq src = window(in, t0, count), dst = window(out, t0, count);
            LaneIO.gather(src, b, block * W, buf, count);
            float[] res = kernel.bulk[block].convolve(buf, count, count + lk - 1, bufs[1], bufs[2], bufs[3], bufs[4], bufs[5], false);
            long p = p0 + t0;
            for (int i = 0; i < count; i++) {
                int o = (int) ((p + i) & am) * W;
                FloatVector.fromArray(SPECIES, res, i * W).add(FloatVector.fromArray(SPECIES, pend, o)).intoArray(res, i * W);
                FloatVector.zero(SPECIES).intoArray(pend, o);
            }
            addPending(pend, res, p + count, lk - 1, am, count);
            LaneIO.scatter(res, 0, dst, b, block * W);
        }
    }

    /** pend[(at + i) mod A] += buf[from + i] for i < count, lane-wise. */
    private static void addPending(float[] pend, float[] buf, long at, int count, int am, int from) {
        for (int i = 0; i < count; i++) {
            int o = (int) ((at + i) & am) * W;
            FloatVector.fromArray(SPECIES, pend, o).add(FloatVector.fromArray(SPECIES, buf, (from + i) * W)).intoArray(pend, o);
        }
    }

    /** Steps [t0, t0 + count) of a block of steps. */
    private Seq window(Seq s, int t0, int count) {
        if (t0 == 0 && count == s.length()) return s;
        return Seq.of(s.tensor().slice(layout() == Layout.BDL ? 2 : 1, t0, t0 + count), layout());
    }
}
