package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;
import dev.longconv.ops.CausalStream;

import java.util.Arrays;

/**
 * Token-by-token decoding of an {@link Stu}. Approx mode: x~_t = x_t M_inputs, then a causal stream over the folded
 * kernel (1 + sgn) phi M_filters. Exact mode contracts first: for every eigenvector k and branch, z = x_t M_branch[k]
 * (one gemm over all of them, [D_in, 2K D_out]), then one stream whose channel (k, branch, o) has kernel phi_k (times
 * sgn for the minus branch), and y_t sums those channels over k and branch; by linearity this equals convolving first.
 * The AR terms keep rings of the last k_u inputs and k_y outputs (M_y feeds outputs back). Kernels are those of
 * {@code maxLength}. Exact mode's stream holds 2K D_out channels of history: its memory grows with K and D_out.
 */
final class StuSession implements LayerSession {
    private final Stu stu;
    private final Backend backend;
    private final DType dtype;
    private final int batch, maxLength, branches;
    /** approx: M_inputs [D_in, D]; exact: [D_in, 2K D_out], column j D_out + o for plan j = k * branches + branch. */
    private final Tensor projection;
    private final CausalStream stream;
    /** AR rings: the last k_u inputs [k_u][B D_in] and k_y outputs [k_y][B D_out], newest at (position - 1) mod size. */
    private final double[][] pastX, pastY;
    private final double[] mu, my;
    private long position;

    StuSession(Stu stu, Backend backend, DType dtype, int batch, int maxLength) {
        this.stu = stu;
        this.backend = backend;
        this.dtype = ServingChecks.checkDtype(Stu.NAME, dtype);
        this.maxLength = ServingChecks.checkLength(Stu.NAME, maxLength);
        if (batch < 1) throw new LongConvException(Stu.NAME, "batch", "B >= 1", "B=" + batch);
        this.batch = batch;
        this.branches = stu.branches().length;
        int taps = stu.taps(maxLength);
        if (stu.config().mode() == Stu.Mode.APPROX) {
            this.projection = LayerMath.cast(stu.parameters().get("M_inputs"), dtype).copy();
            try (Tensor k = stu.approxKernel(backend, dtype, taps)) {
                this.stream = backend.causalStream(k, batch, Layout.BLD);
            }
        } else {
            int k = stu.numEigh(), dIn = stu.dIn(), dOut = stu.dOut(), cols = k * branches * dOut;
            double[] m = new double[dIn * cols], kern = new double[taps * cols];
            for (int e = 0; e < k; e++) {
                for (int br = 0; br < branches; br++) {
                    int j = e * branches + br;
                    double[] mb = stu.parameters().get(stu.branches()[br]).toDoubleArray(); // [K, D_in, D_out]
                    for (int i = 0; i < dIn; i++) for (int o = 0; o < dOut; o++) m[i * cols + j * dOut + o] = mb[(e * dIn + i) * dOut + o];
                    for (int s = 0; s < taps; s++) {
                        double f = stu.phi().get(s, e) * (br == 1 && s % 2 == 1 ? -1 : 1);
                        Arrays.fill(kern, s * cols + j * dOut, s * cols + (j + 1) * dOut, f);
                    }
                }
            }
            this.projection = LayerMath.of(dtype, m, dIn, cols);
            try (Tensor kt = LayerMath.of(dtype, kern, taps, cols)) {
                this.stream = backend.causalStream(kt, batch, Layout.BLD);
            }
        }
        this.pastX = new double[stu.kU()][batch * stu.dIn()];
        this.pastY = new double[stu.kY()][batch * stu.dOut()];
        this.mu = stu.kU() > 0 ? stu.parameters().get("M_u").toDoubleArray() : null;
        this.my = stu.kY() > 0 ? stu.parameters().get("M_y").toDoubleArray() : null;
    }

    private StuSession(StuSession o) {
        this.stu = o.stu;
        this.backend = o.backend;
        this.dtype = o.dtype;
        this.batch = o.batch;
        this.maxLength = o.maxLength;
        this.branches = o.branches;
        this.projection = o.projection.copy();
        this.stream = o.stream.copy();
        this.pastX = new double[o.pastX.length][];
        for (int i = 0; i < pastX.length; i++) pastX[i] = o.pastX[i].clone();
        this.pastY = new double[o.pastY.length][];
        for (int i = 0; i < pastY.length; i++) pastY[i] = o.pastY[i].clone();
        this.mu = o.mu;
        this.my = o.my;
        this.position = o.position;
    }

    @Override
    public long position() {
        return position;
    }

    @Override
    public int maxLength() {
        return maxLength;
    }

    @Override
    public Tensor prefill(Tensor x) {
        if (position != 0) throw new LongConvException(Stu.NAME, "prefill", "a session at position 0 (use push to continue)", "position " + position);
        return push(x);
    }

    @Override
    public Tensor push(Tensor x) {
        if (x == null || x.rank() != 3 || x.dim(0) != batch || x.dim(2) != stu.dIn() || x.dtype() != dtype) {
            throw new LongConvException(Stu.NAME, "x", "a block [B=" + batch + ", C, D_in=" + stu.dIn() + "] " + dtype,
                    x == null ? "null" : x.dtype() + Arrays.toString(x.shape()));
        }
        int c = Math.toIntExact(x.dim(1));
        room(c);
        Tensor y = Tensor.zeros(dtype, batch, c, stu.dOut());
        try (Tensor xc = x.contiguous(); Tensor z = Tensor.zeros(dtype, batch, c, projection.dim(1))) {
            if (c == 0) return y;
            backend.gemmInto(xc.reshape((long) batch * c, stu.dIn()), projection, false, false, z.reshape((long) batch * c, projection.dim(1)));
            try (Tensor u = stream.push(z)) {
                finish(xc, u, y, c);
            }
            return y;
        } catch (RuntimeException | Error e) {
            y.close();
            throw e;
        }
    }

    @Override
    public Tensor step(Tensor x) {
        if (x == null || x.rank() != 2 || x.dim(0) != batch || x.dim(1) != stu.dIn() || x.dtype() != dtype) {
            throw new LongConvException(Stu.NAME, "x", "one step [B=" + batch + ", D_in=" + stu.dIn() + "] " + dtype,
                    x == null ? "null" : x.dtype() + Arrays.toString(x.shape()));
        }
        room(1);
        try (Tensor x3 = x.contiguous(); Tensor y3 = push(x3.reshape(batch, 1, stu.dIn()))) {
            return y3.reshape(batch, stu.dOut()).copy();
        }
    }

    private void room(int c) {
        if (position + c > maxLength) {
            throw new LongConvException(Stu.NAME, "x", "at most maxLength=" + maxLength + " steps in all (the session's kernels end there)",
                    (position + c) + " steps");
        }
    }

    /** y for the block: the stream's channels summed over eigenvectors and branches (exact), then the AR terms step by step. */
    private void finish(Tensor x, Tensor u, Tensor y, int c) {
        int dIn = stu.dIn(), dOut = stu.dOut(), groups = Math.toIntExact(u.dim(2)) / dOut;
        double[] uv = u.toDoubleArray(), xv = x.toDoubleArray(), yv = new double[batch * c * dOut];
        for (int r = 0; r < batch * c; r++) {
            for (int g = 0; g < groups; g++) for (int o = 0; o < dOut; o++) yv[r * dOut + o] += uv[(r * groups + g) * dOut + o];
        }
        if (mu != null || my != null) {
            for (int t = 0; t < c; t++) {
                long abs = position + t;
                for (int b = 0; b < batch; b++) {
                    int yo = (b * c + t) * dOut;
                    if (mu != null) System.arraycopy(xv, (b * c + t) * dIn, pastX[(int) (abs % pastX.length)], b * dIn, dIn);
                    for (int i = 0; i < stu.kU() && i <= abs; i++) {
                        double[] xs = pastX[(int) ((abs - i) % pastX.length)];
                        for (int o = 0; o < dOut; o++) {
                            double acc = 0;
                            for (int p = 0, mo = (i * dOut + o) * dIn; p < dIn; p++) acc += mu[mo + p] * xs[b * dIn + p];
                            yv[yo + o] += acc;
                        }
                    }
                    for (int j = 1; j <= stu.kY() && j <= abs; j++) {
                        double[] ys = pastY[(int) ((abs - j) % pastY.length)];
                        for (int o = 0; o < dOut; o++) {
                            double acc = 0;
                            for (int p = 0, mo = ((j - 1) * dOut + o) * dOut; p < dOut; p++) acc += my[mo + p] * ys[b * dOut + p];
                            yv[yo + o] += acc;
                        }
                    }
                    if (my != null) System.arraycopy(yv, yo, pastY[(int) (abs % pastY.length)], b * dOut, dOut);
                }
            }
        }
        LayerMath.write(y, yv);
        position += c;
    }

    @Override
    public void reset() {
        stream.reset();
        for (double[] r : pastX) Arrays.fill(r, 0);
        for (double[] r : pastY) Arrays.fill(r, 0);
        position = 0;
    }

    @Override
    public LayerSession copy() {
        return new StuSession(this);
    }

    @Override
    public void close() {
        stream.close();
        projection.close();
    }
}
