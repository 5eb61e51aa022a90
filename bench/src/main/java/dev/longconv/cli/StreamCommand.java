package dev.longconv.cli;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.io.Npy;
import dev.longconv.layers.FdTno;
import dev.longconv.layers.FdTnoNoRpe;
import dev.longconv.layers.Gtu;
import dev.longconv.layers.Layer;
import dev.longconv.layers.LayerSession;
import dev.longconv.layers.SafetensorsWeights;
import dev.longconv.layers.Stu;
import dev.longconv.layers.Tno;
import dev.longconv.layers.Weights;
import dev.longconv.ops.Backend;
import dev.longconv.ops.Backends;
import dev.longconv.ops.CausalStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code longconv stream OP}: run a sequence through a stream as a decoder would, a prefill and then chunks (one
 * step each by default), write every output, and report tokens per second and the mean and worst step latency;
 * {@code --check} also runs the one-shot op and prints the relative difference.
 */
@Command(name = "stream", description = "Feed a sequence to a stream (prefill, then chunks or single steps) and time it.",
        subcommands = {StreamCommand.CausalConv.class, StreamCommand.StuStream.class, StreamCommand.TnoStream.class, StreamCommand.GtuStream.class,
                StreamCommand.FdTnoStream.class, StreamCommand.FdTnoNoRpeStream.class})
final class StreamCommand {

    /** Options every stream takes. */
    static final class Common {
        @Option(names = "--prefill", paramLabel = "T0", defaultValue = "0", description = "Steps given at once first (default: ${DEFAULT-VALUE}).")
        int prefill;

        @Option(names = "--chunk", paramLabel = "C", defaultValue = "1", description = "Steps per later call; 1 feeds single steps (default: ${DEFAULT-VALUE}).")
        int chunk;

        @Option(names = "--check", description = "Also run the one-shot op and print the relative L2 difference; exit 1 above the dtype's tolerance.")
        boolean check;
    }

    @Command(name = "causal-conv", description = "A causal-conv stream of kernel k over x.")
    static final class CausalConv implements Callable<Integer> {
        @Mixin RunCommand.Common c;
        @Mixin Common s;
        @Spec CommandSpec spec;
        @Option(names = "--x", required = true, paramLabel = "X.npy", description = "[B,D,L] (bdl) or [B,L,D] (bld): the whole sequence") Path x;
        @Option(names = "--k", required = true, paramLabel = "K.npy", description = "[D,Lk] (bdl) or [Lk,D] (bld)") Path k;

        @Override
        public Integer call() throws IOException {
            String op = "stream causal-conv";
            Layout layout = c.layout();
            try (Tensor xt = RunCommand.load(op, "x", x); Tensor kt = RunCommand.load(op, "k", k)) {
                if (xt.rank() != 3) throw new LongConvException(op, "x", "rank 3 " + (layout == Layout.BDL ? "[B, D, L]" : "[B, L, D]"), xt.toString());
                Backend be = c.backend();
                int lAxis = layout == Layout.BDL ? 2 : 1;
                long total = xt.dim(lAxis);
                if (s.prefill < 0 || s.prefill > total) throw new LongConvException(op, "--prefill", "0 <= T0 <= L=" + total, String.valueOf(s.prefill));
                if (s.chunk < 1) throw new LongConvException(op, "--chunk", "C >= 1", String.valueOf(s.chunk));
                Tensor y = Tensor.zeros(xt.dtype(), xt.shape());
                try (CausalStream stream = be.causalStream(kt, (int) xt.dim(0), layout)) {
                    Timing timing = feed(stream, xt, y, lAxis, layout);
                    PrintWriter out = spec.commandLine().getOut();
                    out.println(stream.describe());
                    out.println(timing.summary(total - s.prefill));
                    int code = 0;
                    if (s.check) {
                        try (Tensor ref = be.causalConv(xt, kt, layout)) {
                            double err = relL2(y, ref), tol = xt.dtype() == DType.FLOAT32 ? 1e-5 : 1e-10;
                            out.printf(Locale.ROOT, "check: relative L2 against the one-shot causal-conv %.3g (tolerance %.0e)%n", err, tol);
                            if (!(err <= tol)) code = 1;
                        }
                    }
                    out.flush();
                    c.write(y);
                    return code;
                }
            }
        }

        private Timing feed(CausalStream stream, Tensor x, Tensor y, int lAxis, Layout layout) {
            long total = x.dim(lAxis), t = s.prefill;
            Timing timing = new Timing();
            if (s.prefill > 0) {
                long t0 = System.nanoTime();
                stream.pushInto(x.slice(lAxis, 0, s.prefill), y.slice(lAxis, 0, s.prefill));
                timing.prefillNanos = System.nanoTime() - t0;
            }
            int b = (int) x.dim(0), d = (int) x.dim(layout == Layout.BDL ? 1 : 2);
            try (Tensor xs = Tensor.zeros(x.dtype(), b, d); Tensor ys = Tensor.zeros(x.dtype(), b, d)) {
                while (t < total) {
                    int c = (int) Math.min(s.chunk, total - t);
                    long t0;
                    if (c == 1) {
                        for (int i = 0; i < b; i++) for (int j = 0; j < d; j++) xs.set(at(x, layout, i, j, t), i, j);
                        t0 = System.nanoTime();
                        stream.stepInto(xs, ys);
                        timing.add(System.nanoTime() - t0);
                        for (int i = 0; i < b; i++) for (int j = 0; j < d; j++) set(y, layout, i, j, t, ys.get(i, j));
                    } else {
                        t0 = System.nanoTime();
                        stream.pushInto(x.slice(lAxis, t, t + c), y.slice(lAxis, t, t + c));
                        timing.add(System.nanoTime() - t0);
                    }
                    t += c;
                }
            }
            return timing;
        }
    }

    private static double at(Tensor x, Layout layout, int b, int d, long t) {
        return layout == Layout.BDL ? x.get(b, d, t) : x.get(b, t, d);
    }

    private static void set(Tensor y, Layout layout, int b, int d, long t, double v) {
        if (layout == Layout.BDL) y.set(v, b, d, t);
        else y.set(v, b, t, d);
    }

    static double relL2(Tensor a, Tensor e) {
        double num = 0, den = 0;
        for (long i = 0, n = e.numel(); i < n; i++) {
            double d = a.getFlat(i) - e.getFlat(i);
            num += d * d;
            den += e.getFlat(i) * e.getFlat(i);
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    /** Call latencies after the prefill. */
    static final class Timing {
        long prefillNanos, calls, sumNanos, worstNanos;

        void add(long nanos) {
            calls++;
            sumNanos += nanos;
            worstNanos = Math.max(worstNanos, nanos);
        }

        String summary(long steps) {
            double secs = sumNanos / 1e9;
            return String.format(Locale.ROOT, "prefill %.3f ms; %d steps in %d calls: %.0f tokens/s, mean %.1f us per call, worst %.1f us",
                    prefillNanos / 1e6, steps, calls, secs > 0 ? steps / secs : 0, calls > 0 ? sumNanos / 1e3 / calls : 0, worstNanos / 1e3);
        }
    }

    /** Options of a layer's stream: its weights (hyperparameters in the metadata, --set overrides them). */
    static final class LayerStreamOptions {
        @Option(names = "--x", required = true, paramLabel = "X.npy", description = "The whole input sequence, float32 or float64.") Path x;
        @Option(names = "--weights", required = true, paramLabel = "W.safetensors", description = "The module's state_dict (hyperparameters in __metadata__).")
        Path weights;
        @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a hyperparameter of the file's metadata (repeatable).")
        Map<String, String> set = new LinkedHashMap<>();
        @Option(names = "--out", required = true, paramLabel = "Y.npy", description = "Where to write every output.") Path out;
        @Option(names = "--backend", paramLabel = "B", description = "scalar, vector or cuda (default: the best available).") String backend;
    }

    /**
     * A causal layer's session over the sequence in x: prefill, then chunks or single steps along the layer's length
     * axis ({@code axis}: 1 for [B, L, D], 2 for [B, H, L, dim]).
     */
    abstract static class LayerStream implements Callable<Integer> {
        @Mixin LayerStreamOptions o;
        @Mixin Common s;
        @Spec CommandSpec spec;

        abstract String name();

        abstract int axis();

        abstract Layer load(Weights w, Map<String, String> overrides);

        @Override
        public Integer call() throws IOException {
            String op = "stream " + name();
            Backend be = o.backend == null ? Backends.selected() : Backends.get(o.backend);
            try (SafetensorsWeights w = SafetensorsWeights.open(o.weights); Tensor xt = RunCommand.load(op, "x", o.x)) {
                Layer layer = load(w, o.set);
                if (xt.rank() != axis() + 2) throw new LongConvException(op, "x", "rank " + (axis() + 2) + " (the layer's input)", xt.toString());
                long total = xt.dim(axis());
                if (s.prefill < 0 || s.prefill > total) throw new LongConvException(op, "--prefill", "0 <= T0 <= L=" + total, String.valueOf(s.prefill));
                if (s.chunk < 1) throw new LongConvException(op, "--chunk", "C >= 1", String.valueOf(s.chunk));
                Timing timing = new Timing();
                try (LayerSession session = layer.session(be, xt.dtype(), (int) xt.dim(0), (int) total);
                     Tensor y = Tensor.zeros(xt.dtype(), layer.outputShape(xt.shape()))) {
                    long t0 = System.nanoTime();
                    try (Tensor r = session.prefill(xt.slice(axis(), 0, s.prefill))) {
                        copy(r, y.slice(axis(), 0, s.prefill));
                    }
                    timing.prefillNanos = System.nanoTime() - t0;
                    for (long t = s.prefill; t < total; ) {
                        int c = (int) Math.min(s.chunk, total - t);
                        try (Tensor block = xt.slice(axis(), t, t + c).contiguous()) {
                            long start;
                            Tensor r;
                            if (c == 1) {
                                try (Tensor step = block.reshape(dropAxis(block.shape(), axis()))) {
                                    start = System.nanoTime();
                                    r = session.step(step);
                                }
                            } else {
                                start = System.nanoTime();
                                r = session.push(block);
                            }
                            timing.add(System.nanoTime() - start);
                            try (r) {
                                copy(r, y.slice(axis(), t, t + c));
                            }
                        }
                        t += c;
                    }
                    PrintWriter out = spec.commandLine().getOut();
                    out.println(name() + " session on " + be.name() + ", " + xt.dtype());
                    out.println(timing.summary(total - s.prefill));
                    int code = 0;
                    if (s.check) {
                        try (Tensor ref = layer.forward(be, xt)) {
                            double err = relL2(y, ref), tol = xt.dtype() == DType.FLOAT32 ? 1e-5 : 1e-10;
                            out.printf(Locale.ROOT, "check: relative L2 against the forward %.3g (tolerance %.0e)%n", err, tol);
                            if (!(err <= tol)) code = 1;
                        }
                    }
                    out.flush();
                    Npy.save(y, o.out);
                    return code;
                }
            }
        }
    }

    private static long[] dropAxis(long[] shape, int axis) {
        long[] o = new long[shape.length - 1];
        for (int i = 0, j = 0; i < shape.length; i++) if (i != axis) o[j++] = shape[i];
        return o;
    }

    /** Copies r into the view dst (same number of elements, C order of both). */
    private static void copy(Tensor r, Tensor dst) {
        for (long i = 0, n = r.numel(); i < n; i++) dst.setFlat(i, r.getFlat(i));
    }

    @Command(name = "stu", description = "An STU session over x [B, L, D_in].")
    static final class StuStream extends LayerStream {
        String name() {
            return Stu.NAME;
        }

        int axis() {
            return 1;
        }

        Layer load(Weights w, Map<String, String> overrides) {
            return Stu.load(w, overrides);
        }
    }

    @Command(name = "tno", description = "A causal TNO session over x [B, H, L, dim].")
    static final class TnoStream extends LayerStream {
        String name() {
            return Tno.NAME;
        }

        int axis() {
            return 2;
        }

        Layer load(Weights w, Map<String, String> overrides) {
            return Tno.load(w, overrides);
        }
    }

    @Command(name = "gtu", description = "A causal GTU session over x [B, L, E].")
    static final class GtuStream extends LayerStream {
        String name() {
            return Gtu.NAME;
        }

        int axis() {
            return 1;
        }

        Layer load(Weights w, Map<String, String> overrides) {
            return Gtu.load(w, overrides);
        }
    }

    @Command(name = "fd-tno", description = "A causal FD-TNO session over x [B, H, L, dim].")
    static final class FdTnoStream extends LayerStream {
        String name() {
            return FdTno.NAME;
        }

        int axis() {
            return 2;
        }

        Layer load(Weights w, Map<String, String> overrides) {
            return FdTno.load(w, overrides);
        }
    }

    @Command(name = "fd-tno-norpe", description = "A causal FD-TNO (no RPE) session over x [B, H, L, dim].")
    static final class FdTnoNoRpeStream extends LayerStream {
        String name() {
            return FdTnoNoRpe.NAME;
        }

        int axis() {
            return 2;
        }

        Layer load(Weights w, Map<String, String> overrides) {
            return FdTnoNoRpe.load(w, overrides);
        }
    }
}
