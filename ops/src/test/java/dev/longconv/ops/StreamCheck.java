package dev.longconv.ops;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.Tensor;
import dev.longconv.testing.Compare;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Drives a {@link CausalStream} through a split of one input sequence (prefill, pushes, steps) and compares the
 * concatenated outputs with the float64 one-shot reference of the whole sequence.
 */
public final class StreamCheck {
    private StreamCheck() {}

    /** One call of a split: how many steps, and whether it is a single step ([B, D]) rather than a block. */
    public record Piece(String kind, int count) {
        public static Piece prefill(int c) {
            return new Piece("prefill", c);
        }

        public static Piece push(int c) {
            return new Piece("push", c);
        }

        public static Piece step() {
            return new Piece("step", 1);
        }
    }

    /** A random split of {@code total} steps: an optional prefill of {@code prefill} steps, then blocks and single steps. */
    public static List<Piece> randomSplit(SplittableRandom rng, int total, int prefill, int maxBlock) {
        List<Piece> out = new ArrayList<>();
        int done = 0;
        if (prefill >= 0) {
            out.add(Piece.prefill(prefill));
            done = prefill;
        }
        while (done < total) {
            int c;
            if (rng.nextInt(3) == 0) {
                out.add(Piece.step());
                c = 1;
            } else {
                c = Math.min(total - done, 1 + rng.nextInt(maxBlock));
                out.add(Piece.push(c));
            }
            done += c;
        }
        return out;
    }

    /** The stream's outputs over {@code pieces} of x (and the gates), as one tensor of x's shape. */
    public static Tensor run(CausalStream s, List<Piece> pieces, Tensor x, Tensor pre, Tensor post, Tensor skip, Layout layout) {
        int lAxis = layout == Layout.BDL ? 2 : 1;
        Tensor y = Tensor.zeros(x.dtype(), x.shape());
        long t = 0;
        for (Piece p : pieces) {
            int c = p.count();
            if (p.kind().equals("step")) {
                try (Tensor xs = stepOf(x, t, layout); Tensor ps = pre == null ? null : stepOf(pre, t, layout);
                     Tensor qs = post == null ? null : stepOf(post, t, layout); Tensor ys = Tensor.zeros(x.dtype(), xs.shape())) {
                    if (pre == null && post == null && skip == null && (t & 1) == 0) s.stepInto(xs, ys);
                    else s.stepGatedInto(xs, ps, qs, skip, ys);
                    for (int b = 0; b < xs.dim(0); b++) {
                        for (int d = 0; d < xs.dim(1); d++) {
                            if (layout == Layout.BDL) y.set(ys.get(b, d), b, d, t);
                            else y.set(ys.get(b, d), b, t, d);
                        }
                    }
                }
            } else {
                Tensor xb = x.slice(lAxis, t, t + c), pb = pre == null ? null : pre.slice(lAxis, t, t + c);
                Tensor qb = post == null ? null : post.slice(lAxis, t, t + c), yb = y.slice(lAxis, t, t + c);
                if (p.kind().equals("prefill")) {
                    if (pre == null && post == null && skip == null) {
                        try (Tensor r = s.prefill(xb)) {
                            copy(r, yb);
                        }
                    } else {
                        s.requireStart("prefill");
                        s.pushGatedInto(xb, pb, qb, skip, yb);
                    }
                } else if (pre == null && post == null && skip == null) {
                    s.pushInto(xb, yb);
                } else {
                    s.pushGatedInto(xb, pb, qb, skip, yb);
                }
            }
            t += c;
        }
        return y;
    }

    private static void copy(Tensor from, Tensor to) {
        for (long i = 0, n = from.numel(); i < n; i++) to.setFlat(i, from.getFlat(i));
    }

    /** Step t of a sequence tensor as a new [B, D] tensor. */
    public static Tensor stepOf(Tensor x, long t, Layout layout) {
        int bs = (int) x.dim(0), ds = (int) x.dim(layout == Layout.BDL ? 1 : 2);
        Tensor r = Tensor.zeros(x.dtype(), bs, ds);
        for (int b = 0; b < bs; b++) {
            for (int d = 0; d < ds; d++) r.set(layout == Layout.BDL ? x.get(b, d, t) : x.get(b, t, d), b, d);
        }
        return r;
    }

    /** Relative L2 of the stream's outputs against Reference.gatedCausalConv of the whole sequence. */
    public static double error(CausalStream s, List<Piece> pieces, Tensor x, Tensor k, Tensor pre, Tensor post, Tensor skip, Layout layout) {
        try (Tensor y = run(s, pieces, x, pre, post, skip, layout);
             Tensor ref = Reference.gatedCausalConv(x, k, pre, post, skip, layout)) {
            return Compare.relL2(y, ref);
        }
    }

    public static DType[] dtypes() {
        return DType.values();
    }
}
