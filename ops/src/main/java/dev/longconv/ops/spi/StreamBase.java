package dev.longconv.ops.spi;

import dev.longconv.DType;
import dev.longconv.Device;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;

import java.util.Arrays;

/**
 * What every backend's causal stream shares: argument checks (messages built only on failure), the gates
 * ({@code y = post * conv(pre * x) + skip * x}) around the engine, the split of a push into steps or one bulk
 * pass, the position, reset. A backend extends it with its engine (the hooks below) and implements
 * {@code dev.longconv.ops.CausalStream}, whose methods this class provides.
 *
 * <p>Steps exchange values with the engine as float64 rows {@code xs[b * D + d]}: one step is small, and the
 * engine converts to its own precision. Steps reuse this object's rows, so a warm step allocates nothing.
 */
public abstract class StreamBase {
    /** The op name in messages. */
    public static final String OP = "causal-stream";

    private final int batch, channels, taps;
    private final Layout layout;
    private final DType dtype;
    /** Steps taken since the start or the last reset. */
    private long position;
    /** One step's inputs, outputs and x itself (for skip), [B * D]. */
    private final double[] xs, ys, xo;

    protected StreamBase(int batch, int channels, int taps, Layout layout, DType dtype) {
        if (batch < 1) throw new LongConvException(OP, "batch", "B >= 1", "B=" + batch);
        this.batch = batch;
        this.channels = channels;
        this.taps = taps;
        this.layout = layout;
        this.dtype = dtype;
        int rows = Math.multiplyExact(batch, channels);
        this.xs = new double[rows];
        this.ys = new double[rows];
        this.xo = new double[rows];
    }

    /** A copy of {@code other}'s bookkeeping (the engine copies its own state). */
    protected StreamBase(StreamBase other) {
        this(other.batch, other.channels, other.taps, other.layout, other.dtype);
        this.position = other.position;
    }

    // ---------------------------------------------------------------- the engine's hooks

    /** One step for every (b, d): inputs xs[b * D + d] (already gated) into ys; the engine advances its own state. */
    protected abstract void stepRows(double[] xs, double[] ys);

    /** From this many steps on, a push runs as one bulk pass instead of steps. */
    protected abstract int bulkThreshold();

    /** C steps at once: inputs from {@code in} (already gated), outputs into {@code out}, both [B, D, C] views. */
    protected abstract void bulk(Seq in, Seq out);

    /** Forgets every input (back to position 0). */
    protected abstract void clearState();

    // ---------------------------------------------------------------- the stream's methods

    public int batch() {
        return batch;
    }

    public int channels() {
        return channels;
    }

    public int taps() {
        return taps;
    }

    public Layout layout() {
        return layout;
    }

    public DType dtype() {
        return dtype;
    }

    public long position() {
        return position;
    }

    public void requireStart(String what) {
        if (position != 0) throw new LongConvException(OP, what, "a stream at position 0 (use push to continue a sequence)", "position " + position);
    }

    public void reset() {
        clearState();
        position = 0;
    }

    public void stepGatedInto(Tensor x, Tensor pre, Tensor post, Tensor skip, Tensor y) {
        checkStep("x", x);
        if (pre != null) checkStep("pregate", pre);
        if (post != null) checkStep("postgate", post);
        if (skip != null) checkSkip(skip);
        checkStep("y", y);
        if (y.storageSegment().isReadOnly()) throw new LongConvException(OP, "y", "a writable tensor", "a read-only mapping");
        Aliasing.check(OP, y, "x", x);
        Aliasing.check(OP, y, "pregate", pre);
        Aliasing.check(OP, y, "postgate", post);
        int d = channels;
        for (int b = 0; b < batch; b++) {
            for (int c = 0; c < d; c++) {
                double v = at2(x, b, c);
                xo[b * d + c] = v;
                xs[b * d + c] = pre == null ? v : v * at2(pre, b, c);
            }
        }
        stepRows(xs, ys);
        position++;
        for (int b = 0; b < batch; b++) {
            for (int c = 0; c < d; c++) {
                double v = ys[b * d + c];
                if (post != null) v *= at2(post, b, c);
                if (skip != null) v += skip.getAt(skip.offset() + c * skip.stride(0)) * xo[b * d + c];
                y.setAt(y.offset() + b * y.stride(0) + c * y.stride(1), v);
            }
        }
    }

    public void pushGatedInto(Tensor x, Tensor pre, Tensor post, Tensor skip, Tensor y) {
        int count = checkBlock("x", x, -1);
        if (pre != null) checkBlock("pregate", pre, count);
        if (post != null) checkBlock("postgate", post, count);
        if (skip != null) checkSkip(skip);
        checkBlock("y", y, count);
        if (y.storageSegment().isReadOnly()) throw new LongConvException(OP, "y", "a writable tensor", "a read-only mapping");
        Aliasing.check(OP, y, "x", x);
        Aliasing.check(OP, y, "pregate", pre);
        Aliasing.check(OP, y, "postgate", post);
        if (count == 0) return;
        if (count < bulkThreshold()) {
            pushBySteps(x, pre, post, skip, y, count);
            return;
        }
        // y may be x or post: keep what the epilogue reads before the convolution writes y
        try (Tensor xin = pre == null ? null : Elementwise.product(x, pre);
             Tensor keepX = skip != null && Aliasing.same(x, y) ? x.copy() : null;
             Tensor keepPost = post != null && Aliasing.same(post, y) ? post.copy() : null) {
            bulk(Seq.of(xin == null ? x : xin, layout), Seq.of(y, layout));
            position += count;
            Elementwise.gateAndSkip(y, keepPost == null ? post : keepPost, skip, keepX == null ? x : keepX, layout);
        }
    }

    private void pushBySteps(Tensor x, Tensor pre, Tensor post, Tensor skip, Tensor y, int count) {
        Seq xv = Seq.of(x, layout), yv = Seq.of(y, layout);
        Seq pv = pre == null ? null : Seq.of(pre, layout), qv = post == null ? null : Seq.of(post, layout);
        int d = channels;
        for (int t = 0; t < count; t++) {
            for (int b = 0; b < batch; b++) {
                for (int c = 0; c < d; c++) {
                    double v = at3(xv, b, c, t);
                    xo[b * d + c] = v;
                    xs[b * d + c] = pv == null ? v : v * at3(pv, b, c, t);
                }
            }
            stepRows(xs, ys);
            position++;
            for (int b = 0; b < batch; b++) {
                for (int c = 0; c < d; c++) {
                    double v = ys[b * d + c];
                    if (qv != null) v *= at3(qv, b, c, t);
                    if (skip != null) v += skip.getAt(skip.offset() + c * skip.stride(0)) * xo[b * d + c];
                    yv.tensor().setAt(yv.tensor().offset() + b * yv.strideB() + c * yv.strideD() + t * yv.strideL(), v);
                }
            }
        }
    }

    private static double at2(Tensor t, int b, int c) {
        return t.getAt(t.offset() + b * t.stride(0) + c * t.stride(1));
    }

    private static double at3(Seq s, int b, int c, int t) {
        return s.tensor().getAt(s.tensor().offset() + b * s.strideB() + c * s.strideD() + t * s.strideL());
    }

    // ---------------------------------------------------------------- checks

    private void common(String arg, Tensor t) {
        if (t == null) throw new LongConvException(OP, arg, "a tensor", "null");
        if (!t.isAlive()) throw new LongConvException(OP, arg, "a live tensor", "a closed one");
        if (!t.device().equals(Device.CPU)) throw new LongConvException(OP, arg, "a host tensor", t.device().toString());
        if (t.dtype() != dtype) throw new LongConvException(OP, arg, "dtype " + dtype + " (the stream's)", t.dtype().toString());
    }

    private void checkStep(String arg, Tensor t) {
        common(arg, t);
        if (t.rank() != 2 || t.dim(0) != batch || t.dim(1) != channels) {
            throw new LongConvException(OP, arg, "one step [B=" + batch + ", D=" + channels + "]", t.dtype() + Arrays.toString(t.shape()));
        }
    }

    private void checkSkip(Tensor skip) {
        common("skip", skip);
        if (skip.rank() != 1 || skip.dim(0) != channels) {
            throw new LongConvException(OP, "skip", "shape [D=" + channels + "]", skip.dtype() + Arrays.toString(skip.shape()));
        }
    }

    /** A block of steps in the stream's layout; returns C. {@code count >= 0} requires that C. */
    private int checkBlock(String arg, Tensor t, int count) {
        common(arg, t);
        int dAxis = layout == Layout.BDL ? 1 : 2, lAxis = 3 - dAxis;
        if (t.rank() != 3 || t.dim(0) != batch || t.dim(dAxis) != channels || t.dim(lAxis) > Integer.MAX_VALUE
                || (count >= 0 && t.dim(lAxis) != count)) {
            String names = layout == Layout.BDL ? "[B=" + batch + ", D=" + channels + ", C" : "[B=" + batch + ", C";
            names += count >= 0 ? "=" + count : "";
            names += layout == Layout.BDL ? "]" : ", D=" + channels + "]";
            throw new LongConvException(OP, arg, "a block of steps " + names + " (" + layout + ")", t.dtype() + Arrays.toString(t.shape()));
        }
        return (int) t.dim(lAxis);
    }

    /**
     * The kernel of a stream: k [D, Lk] (BDL) or [Lk, D] (BLD), a live host tensor; returns its sizes. For the
     * backends' factories.
     */
    public static Check.KernelDims checkKernel(Tensor k, int batch, Layout layout) {
        Check.KernelDims kd = Check.kernel(OP, "k", k, layout, "Lk>=1", -1);
        if (batch < 1) throw new LongConvException(OP, "batch", "B >= 1", "B=" + batch);
        return kd;
    }
}
