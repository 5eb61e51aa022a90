package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;
import dev.longconv.ops.ConvPlan;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An {@link Stu} prepared for one length: approx mode holds one causal-conv plan of the folded kernel
 * (1 + sgn) phi M_filters and M_inputs in the dtype; exact mode holds 2K plans of the filters (one per eigenvector and
 * branch, each shared by all D_in channels, so a plan keeps one spectrum) and the K D_in x D_out slices of M_phi_plus
 * and M_phi_minus, contracting each convolution with one gemm into the output. The AR terms, when present, run after
 * the spectral part as in {@link Stu#forward}.
 */
final class PreparedStu extends PreparedBase {
    private final Stu stu;
    private final Backend backend;
    /** approx: M_inputs [D_in, D]; exact: M_branch[k] [D_in, D_out] per plan. */
    private final List<Tensor> projections = new ArrayList<>();
    private final List<ConvPlan> plans = new ArrayList<>();
    /** The kernels the plans were made from (a plan of a backend without a prepared form keeps a reference). */
    private final List<Tensor> kernels = new ArrayList<>();

    PreparedStu(Stu stu, Backend backend, DType dtype, int length) {
        super(stu, dtype, length);
        this.stu = stu;
        this.backend = backend;
        int taps = stu.taps(length);
        try {
            if (stu.config().mode() == Stu.Mode.APPROX) {
                projections.add(LayerMath.cast(stu.parameters().get("M_inputs"), dtype).copy());
                Tensor k = stu.approxKernel(backend, dtype, taps);
                kernels.add(k);
                plans.add(backend.causalConvPlan(k, length, Layout.BLD));
            } else {
                for (int k = 0; k < stu.numEigh(); k++) {
                    for (String m : stu.branches()) {
                        Tensor kern = stu.channelKernel(dtype, k, taps, m.equals("M_phi_minus"));
                        kernels.add(kern);
                        plans.add(backend.causalConvPlan(kern, length, Layout.BLD));
                        try (Tensor slice = stu.parameters().get(m).slice(0, k, k + 1).contiguous()) {
                            projections.add(LayerMath.cast(slice.reshape(stu.dIn(), stu.dOut()), dtype).copy());
                        }
                    }
                }
            }
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    @Override
    public void forwardInto(Tensor x, Tensor y) {
        if (x == null || x.dtype() != dtype || x.rank() != 3 || x.dim(1) != length || x.dim(2) != stu.dIn() || x.dim(0) < 1) {
            throw new LongConvException(Stu.NAME, "x", "[B, L=" + length + ", D_in=" + stu.dIn() + "] " + dtype + " (as prepared)",
                    x == null ? "null" : x.dtype() + Arrays.toString(x.shape()));
        }
        long b = x.dim(0), rows = b * length;
        ServingChecks.checkOutput(Stu.NAME, y, new long[] {b, length, stu.dOut()}, dtype);
        try (Tensor xc = x.contiguous(); Tensor yc = y.isContiguous() ? y.contiguous() : Tensor.zeros(dtype, b, length, stu.dOut())) {
            Tensor x2 = xc.reshape(rows, stu.dIn()), y2 = yc.reshape(rows, stu.dOut());
            if (stu.config().mode() == Stu.Mode.APPROX) {
                try (Tensor xt = Tensor.zeros(dtype, b, length, stu.dOut())) {
                    backend.gemmInto(x2, projections.get(0), false, false, xt.reshape(rows, stu.dOut()));
                    plans.get(0).applyInto(xt, yc);
                }
            } else {
                try (Tensor u = Tensor.zeros(dtype, b, length, stu.dIn()); Tensor part = Tensor.zeros(dtype, rows, stu.dOut())) {
                    for (int i = 0; i < plans.size(); i++) {
                        plans.get(i).applyInto(xc, u);
                        backend.gemmInto(u.reshape(rows, stu.dIn()), projections.get(i), false, false, i == 0 ? y2 : part);
                        if (i > 0) LayerMath.addInto(y2, part, 1);
                    }
                }
            }
            if (stu.kU() > 0 || stu.kY() > 0) {
                double[] yv = yc.toDoubleArray();
                stu.autoregress(xc, yv);
                LayerMath.write(yc, yv);
            }
            if (!y.isContiguous()) ServingChecks.copyInto(Stu.NAME, yc, y);
        }
    }

    @Override
    public void close() {
        for (ConvPlan p : plans) p.close();
        plans.clear();
        kernels.forEach(Tensor::close);
        kernels.clear();
        projections.forEach(Tensor::close);
        projections.clear();
    }
}
