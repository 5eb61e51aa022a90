package dev.longconv.cli;

import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.io.Npy;
import dev.longconv.layers.FdTno;
import dev.longconv.layers.FdTnoNoRpe;
import dev.longconv.layers.Glu;
import dev.longconv.layers.Gtu;
import dev.longconv.layers.HankelVariant;
import dev.longconv.layers.Layer;
import dev.longconv.layers.LayerGrads;
import dev.longconv.layers.PreparedLayer;
import dev.longconv.layers.SafetensorsWeights;
import dev.longconv.layers.SkiTno;
import dev.longconv.layers.SkiTnoInvTime;
import dev.longconv.layers.SkiTnoRpe;
import dev.longconv.layers.Stu;
import dev.longconv.layers.StuFilters;
import dev.longconv.layers.StuLayer;
import dev.longconv.layers.TnnLayer;
import dev.longconv.layers.Tno;
import dev.longconv.layers.Weights;
import dev.longconv.ops.Backend;
import dev.longconv.ops.Backends;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.BiFunction;

/** {@code longconv run LAYER}: one layer's forward pass on x.npy with weights from a safetensors file. */
final class LayerCommands {
    private LayerCommands() {}

    /** Options every layer takes. Hyperparameters come from the file's __metadata__; --set overrides them. */
    static final class LayerOptions {
        @Option(names = "--x", required = true, paramLabel = "X.npy", description = "Input, float32 or float64.") Path x;
        @Option(names = "--weights", required = true, paramLabel = "W.safetensors",
                description = "The PyTorch module's state_dict saved with safetensors (hyperparameters in __metadata__).") Path weights;
        @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a hyperparameter of the file's metadata (repeatable).")
        Map<String, String> set = new LinkedHashMap<>();
        @Option(names = "--out", required = true, paramLabel = "Y.npy", description = "Where to write y.") Path out;
        @Option(names = "--backend", paramLabel = "B", description = "scalar, vector or cuda (default: the best available).") String backend;
        @Option(names = "--gy", paramLabel = "GY.npy", description = "Also run the backward pass for this output gradient (needs --grads).") Path gy;
        @Option(names = "--grads", paramLabel = "DIR",
                description = "Where the backward pass writes dx.npy and one NAME.npy per parameter (state_dict names).") Path grads;
        @Option(names = "--lenient", description = "Map unknown act/norm names as upstream does (identity / LayerNorm), logged once, instead of refusing them.")
        boolean lenient;
        @Option(names = "--prepared", description = "Run the forward through a prepared layer (Layer.prepare for x's length), as a service would.")
        boolean prepared;

        /** y through l prepared for x's length (the axis before the channels: [B, L, D] and [B, H, L, dim] alike). */
        private Tensor preparedForward(Layer l, Tensor xt) {
            if (xt.rank() < 2) throw new LongConvException(l.name(), "x", "a tensor of rank >= 2 with L before the channels", xt.toString());
            long len = xt.dim(xt.rank() - 2);
            if (len > Integer.MAX_VALUE) throw new LongConvException(l.name(), "x", "L <= " + Integer.MAX_VALUE, "L=" + len);
            try (PreparedLayer p = l.prepare(backend(), xt.dtype(), (int) len)) {
                return p.forward(xt);
            }
        }

        Backend backend() {
            return backend == null ? Backends.selected() : Backends.get(backend);
        }

        Integer run(String layer, Map<String, String> extra, BiFunction<Weights, Map<String, String>, Layer> factory) throws IOException {
            Map<String, String> overrides = new LinkedHashMap<>(set);
            overrides.putAll(extra);
            if (lenient) overrides.put("lenient", "true");
            if ((gy == null) != (grads == null)) {
                throw new LongConvException(layer, gy == null ? "--gy" : "--grads", "--gy and --grads together", "only one of them");
            }
            try (SafetensorsWeights w = SafetensorsWeights.open(weights); Tensor xt = RunCommand.load(layer, "x", x)) {
                Layer l = factory.apply(w, overrides);
                try (Tensor y = prepared ? preparedForward(l, xt) : l.forward(backend(), xt)) {
                    Npy.save(y, out);
                }
                if (gy != null) {
                    java.nio.file.Files.createDirectories(grads);
                    try (Tensor g = RunCommand.load(layer, "gy", gy); LayerGrads lg = l.backward(backend(), xt, g)) {
                        Npy.save(lg.dx(), grads.resolve("dx.npy"));
                        for (Map.Entry<String, Tensor> e : lg.dweights().entrySet()) Npy.save(e.getValue(), grads.resolve(e.getKey() + ".npy"));
                    }
                }
            }
            return 0;
        }
    }

    @Command(name = "stu-filters", description = "STU spectral filters [L, K] (float64): the top-K Hankel eigenvectors times sigma^(1/4).")
    static final class StuFiltersCommand implements Callable<Integer> {
        @Option(names = "--L", required = true, paramLabel = "L", description = "Sequence length (the Hankel matrix is L x L).") int length;
        @Option(names = "--K", required = true, paramLabel = "K", description = "Number of filters.") int count;
        @Option(names = "--variant", defaultValue = "hankel", paramLabel = "hankel|hankel-l", description = "Default: ${DEFAULT-VALUE}.") String variant;
        @Option(names = "--out", required = true, paramLabel = "PHI.npy") Path out;
        @Option(names = "--plot", paramLabel = "FILTERS.png", description = "Also draw the K filters against t (PNG).") Path plot;

        @Override
        public Integer call() throws IOException {
            try (Tensor phi = StuFilters.compute(length, count, HankelVariant.parse(variant))) {
                Npy.save(phi, out);
                if (plot != null) Charts.filters(phi, plot, "STU filters (" + variant + "), L = " + length + ", K = " + count);
            }
            return 0;
        }
    }

    @Command(name = "stu", description = "Spectral Transform Unit (flash-stu semantics) on x [B, L, D].")
    static final class StuCommand implements Callable<Integer> {
        @Mixin LayerOptions o;
        @Option(names = "--mode", paramLabel = "approx|exact", description = "Override the mode the weights imply.") String mode;

        @Override
        public Integer call() throws IOException {
            return o.run(Stu.NAME, mode == null ? Map.of() : Map.of("mode", mode), Stu::load);
        }
    }

    @Command(name = "ski-tno", description = "SKI-TNO: short-conv (same) plus ski with a warped inducing-lag kernel, on x [B, L, D].")
    static final class SkiTnoCommand implements Callable<Integer> {
        @Mixin LayerOptions o;

        @Override
        public Integer call() throws IOException {
            return o.run(SkiTno.NAME, Map.of(), SkiTno::load);
        }
    }

    /** --causal overrides the weights' "causal" hyperparameter when given. */
    static Map<String, String> causal(boolean causal) {
        return causal ? Map.of("causal", "true") : Map.of();
    }

    @Command(name = "tno", description = "Toeplitz neural operator (tnn-pytorch Tno) on x [B, H, L, dim].")
    static final class TnoCommand implements Callable<Integer> {
        @Mixin LayerOptions o;
        @Option(names = "--causal", description = "Causal (overrides the metadata).") boolean causal;

        @Override
        public Integer call() throws IOException {
            return o.run(Tno.NAME, causal(causal), Tno::load);
        }
    }

    @Command(name = "gtu", description = "Gated Toeplitz unit (tnn-pytorch Gtu) on x [B, L, E].")
    static final class GtuCommand implements Callable<Integer> {
        @Mixin LayerOptions o;
        @Option(names = "--causal", description = "Causal (overrides the metadata).") boolean causal;

        @Override
        public Integer call() throws IOException {
            return o.run(Gtu.NAME, causal(causal), Gtu::load);
        }
    }

    @Command(name = "fd-tno", description = "Frequency-domain TNO: the RPE MLP gives the spectrum; y = irfft(spectrum * rfft(x, N), N)[:L].")
    static final class FdTnoCommand implements Callable<Integer> {
        @Mixin LayerOptions o;
        @Option(names = "--causal", description = "Causal (overrides the metadata).") boolean causal;

        @Override
        public Integer call() throws IOException {
            return o.run(FdTno.NAME, causal(causal), FdTno::load);
        }
    }

    @Command(name = "fd-tno-norpe", description = "Frequency-domain TNO with learned frequency coefficients (ski-tnn TnoFDNoRPE) on x [B, H, L, dim].")
    static final class FdTnoNoRpeCommand implements Callable<Integer> {
        @Mixin LayerOptions o;
        @Option(names = "--causal", description = "Causal (overrides the metadata).") boolean causal;

        @Override
        public Integer call() throws IOException {
            return o.run(FdTnoNoRpe.NAME, causal(causal), FdTnoNoRpe::load);
        }
    }

    @Command(name = "ski-tno-rpe", description = "SKI-TNO with an RPE at the inducing points (ski-tnn SKITno) on x [B, L, H*dim].")
    static final class SkiTnoRpeCommand implements Callable<Integer> {
        @Mixin LayerOptions o;
        @Option(names = "--causal", description = "Causal (overrides the metadata).") boolean causal;

        @Override
        public Integer call() throws IOException {
            return o.run(SkiTnoRpe.NAME, causal(causal), SkiTnoRpe::load);
        }
    }

    @Command(name = "ski-tno-inv-time", description = "SKI-TNO on an inverse-time-warped grid (ski-tnn SKITnoInvTime) on x [B, L, H*dim].")
    static final class SkiTnoInvTimeCommand implements Callable<Integer> {
        @Mixin LayerOptions o;
        @Option(names = "--causal", description = "Causal (overrides the metadata).") boolean causal;

        @Override
        public Integer call() throws IOException {
            return o.run(SkiTnoInvTime.NAME, causal(causal), SkiTnoInvTime::load);
        }
    }

    @Command(name = "glu", description = "tnn-pytorch GLU feature mixer on x [..., d1]: l3(act(l1 x) * l2 x).")
    static final class GluCommand implements Callable<Integer> {
        @Mixin LayerOptions o;

        @Override
        public Integer call() throws IOException {
            return o.run(Glu.NAME, Map.of(), Glu::load);
        }
    }

    @Command(name = "tnn-layer", description = "tnn-pytorch TnnLayer block (Gtu and GLU with their norms) on x [B, L, dim].")
    static final class TnnLayerCommand implements Callable<Integer> {
        @Mixin LayerOptions o;
        @Option(names = "--causal", description = "Causal (overrides the metadata).") boolean causal;

        @Override
        public Integer call() throws IOException {
            return o.run(TnnLayer.NAME, causal(causal), TnnLayer::load);
        }
    }

    @Command(name = "stu-layer", description = "flash-stu STULayer block (RMSNorm, STU, RMSNorm, gelu_tanh MLP) on x [B, L, n_embd].")
    static final class StuLayerCommand implements Callable<Integer> {
        @Mixin LayerOptions o;
        @Option(names = "--mode", paramLabel = "approx|exact", description = "Override the mode the weights imply.") String mode;

        @Override
        public Integer call() throws IOException {
            return o.run(StuLayer.NAME, mode == null ? Map.of() : Map.of("mode", mode), StuLayer::load);
        }
    }
}
