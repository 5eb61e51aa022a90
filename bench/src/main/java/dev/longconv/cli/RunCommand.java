package dev.longconv.cli;

import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.ShortConvMode;
import dev.longconv.Tensor;
import dev.longconv.io.Npy;
import dev.longconv.ops.Backend;
import dev.longconv.ops.Backends;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code longconv run OP}: one op on .npy inputs, result written as .npy. */
@Command(name = "run", description = "Run one op on .npy inputs and write the result as .npy.",
        subcommands = {RunCommand.CausalConv.class, RunCommand.ToeplitzConv.class, RunCommand.ShortConv.class, RunCommand.Ski.class,
                RunCommand.CausalSpectrum.class, RunCommand.Rfft.class, RunCommand.Irfft.class, RunCommand.Gemm.class,
                LayerCommands.StuFiltersCommand.class, LayerCommands.StuCommand.class, LayerCommands.SkiTnoCommand.class,
                LayerCommands.TnoCommand.class, LayerCommands.GtuCommand.class, LayerCommands.FdTnoCommand.class,
                LayerCommands.FdTnoNoRpeCommand.class, LayerCommands.SkiTnoRpeCommand.class, LayerCommands.SkiTnoInvTimeCommand.class,
                LayerCommands.GluCommand.class, LayerCommands.TnnLayerCommand.class, LayerCommands.StuLayerCommand.class})
final class RunCommand {

    /** Options every op takes. */
    static final class Common {
        @Option(names = "--out", required = true, paramLabel = "Y.npy", description = "Where to write the result.")
        Path out;

        @Option(names = "--backend", paramLabel = "B", description = "scalar, vector or cuda (default: the best available).")
        String backend;

        @Option(names = "--layout", paramLabel = "bdl|bld", defaultValue = "bdl",
                description = "Layout of sequence tensors and per-channel kernels (default: ${DEFAULT-VALUE}).")
        String layout;

        Backend backend() {
            return backend == null ? Backends.selected() : Backends.get(backend);
        }

        Layout layout() {
            return Layout.parse(layout);
        }

        Integer write(Tensor y) throws IOException {
            try (y) {
                Npy.save(y, out);
            }
            return 0;
        }
    }

    /** Reads one input; file problems become one line naming the op and the argument. */
    static Tensor load(String op, String arg, Path file) {
        try {
            return Npy.load(file);
        } catch (IOException e) {
            throw new LongConvException(op, arg, e.getMessage() == null ? file + ": " + e : e.getMessage());
        }
    }

    @Command(name = "causal-conv", description = "y[b,d,t] = sum_{s<=min(t,Lk-1)} k[d,s] x[b,d,t-s]")
    static final class CausalConv implements Callable<Integer> {
        @Mixin Common c;
        @Option(names = "--x", required = true, paramLabel = "X.npy", description = "[B,D,L] (bdl) or [B,L,D] (bld)") Path x;
        @Option(names = "--k", required = true, paramLabel = "K.npy", description = "[D,Lk] (bdl) or [Lk,D] (bld)") Path k;

        @Override
        public Integer call() throws IOException {
            try (Tensor xt = load("causal-conv", "x", x); Tensor kt = load("causal-conv", "k", k)) {
                return c.write(c.backend().causalConv(xt, kt, c.layout()));
            }
        }
    }

    @Command(name = "toeplitz-conv", description = "y[b,d,t] = sum_s k[d,t-s+L-1] x[b,d,s], k holding lags -(L-1)..(L-1)")
    static final class ToeplitzConv implements Callable<Integer> {
        @Mixin Common c;
        @Option(names = "--x", required = true, paramLabel = "X.npy") Path x;
        @Option(names = "--k", required = true, paramLabel = "K.npy", description = "[D,2L-1] (bdl) or [2L-1,D] (bld)") Path k;

        @Override
        public Integer call() throws IOException {
            try (Tensor xt = load("toeplitz-conv", "x", x); Tensor kt = load("toeplitz-conv", "k", k)) {
                return c.write(c.backend().toeplitzConv(xt, kt, c.layout()));
            }
        }
    }

    @Command(name = "short-conv", description = "Depthwise conv1d (PyTorch semantics), causal or same, optional bias.")
    static final class ShortConv implements Callable<Integer> {
        @Mixin Common c;
        @Option(names = "--x", required = true, paramLabel = "X.npy") Path x;
        @Option(names = "--w", required = true, paramLabel = "W.npy", description = "[D,W] (bdl) or [W,D] (bld)") Path w;
        @Option(names = "--bias", paramLabel = "BIAS.npy", description = "[D]") Path bias;
        @Option(names = "--mode", defaultValue = "causal", paramLabel = "causal|same") String mode;

        @Override
        public Integer call() throws IOException {
            ShortConvMode m = ShortConvMode.parse(mode);
            try (Tensor xt = load("short-conv", "x", x); Tensor wt = load("short-conv", "w", w);
                 Tensor bt = bias == null ? null : load("short-conv", "bias", bias)) {
                return c.write(c.backend().shortConv(xt, wt, bt, m, c.layout()));
            }
        }
    }

    @Command(name = "ski", description = "y = W T W^T x: low-rank Toeplitz by interpolation onto r inducing points.")
    static final class Ski implements Callable<Integer> {
        @Mixin Common c;
        @Option(names = "--x", required = true, paramLabel = "X.npy") Path x;
        @Option(names = "--kr", required = true, paramLabel = "KR.npy", description = "[D,2r-1] (bdl) or [2r-1,D] (bld)") Path kr;

        @Override
        public Integer call() throws IOException {
            try (Tensor xt = load("ski", "x", x); Tensor kt = load("ski", "kr", kr)) {
                return c.write(c.backend().ski(xt, kt, c.layout()));
            }
        }
    }

    @Command(name = "causal-spectrum", description = "Full spectrum [D,N/2+1,2] of the causal sequence whose DFT has real part re.")
    static final class CausalSpectrum implements Callable<Integer> {
        @Mixin Common c;
        @Option(names = "--re", required = true, paramLabel = "RE.npy", description = "[D,N/2+1]") Path re;
        @Option(names = "--n", required = true, paramLabel = "N", description = "Even DFT size.") int n;

        @Override
        public Integer call() throws IOException {
            try (Tensor rt = load("causal-spectrum", "re", re)) {
                return c.write(c.backend().causalSpectrum(rt, n));
            }
        }
    }

    @Command(name = "rfft", description = "numpy.fft.rfft along the last axis; complex as a trailing axis of 2.")
    static final class Rfft implements Callable<Integer> {
        @Mixin Common c;
        @Option(names = "--x", required = true, paramLabel = "X.npy") Path x;
        @Option(names = "--n", paramLabel = "N", description = "FFT size (default: the last dimension; crops or zero-pads).") Integer n;

        @Override
        public Integer call() throws IOException {
            try (Tensor xt = load("rfft", "x", x)) {
                int size = n != null ? n : (int) Math.min(Integer.MAX_VALUE, xt.rank() == 0 ? 0 : xt.dim(-1));
                return c.write(c.backend().rfft(xt, size));
            }
        }
    }

    @Command(name = "irfft", description = "numpy.fft.irfft(x, n) along the last complex axis of [..., bins, 2].")
    static final class Irfft implements Callable<Integer> {
        @Mixin Common c;
        @Option(names = "--x", required = true, paramLabel = "X.npy") Path x;
        @Option(names = "--n", required = true, paramLabel = "N", description = "Output length.") int n;

        @Override
        public Integer call() throws IOException {
            try (Tensor xt = load("irfft", "x", x)) {
                return c.write(c.backend().irfft(xt, n));
            }
        }
    }

    @Command(name = "gemm", description = "C = op(A) op(B), row-major.")
    static final class Gemm implements Callable<Integer> {
        @Mixin Common c;
        @Option(names = "--a", required = true, paramLabel = "A.npy") Path a;
        @Option(names = "--b", required = true, paramLabel = "B.npy") Path b;
        @Option(names = "--trans-a", description = "Use A transposed (A is [K,M]).") boolean transA;
        @Option(names = "--trans-b", description = "Use B transposed (B is [N,K]).") boolean transB;

        @Override
        public Integer call() throws IOException {
            try (Tensor at = load("gemm", "a", a); Tensor bt = load("gemm", "b", b)) {
                return c.write(c.backend().gemm(at, bt, transA, transB));
            }
        }
    }
}
