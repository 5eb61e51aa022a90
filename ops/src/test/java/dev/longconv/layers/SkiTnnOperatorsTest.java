package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.backend.scalar.ScalarBackend;
import dev.longconv.ops.Backend;
import dev.longconv.testing.Compare;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ski-tnn's operators that have no tnn-pytorch counterpart (FdTnoNoRpe, SkiTnoRpe, SkiTnoInvTime) against the dense
 * float64 references of {@link SkiTnnReference} at seeded random shapes (odd and prime L, L = 1 where the operator
 * allows it, several heads), their gradients against finite differences, and their loading and errors. Parity with
 * upstream's own modules is LayerCommandTest's (fixtures from bench/anchors/upstream_anchor.py).
 */
class SkiTnnOperatorsTest {
    static final int[] LENGTHS = {1, 2, 3, 7, 13, 29};

    enum Kind { NORPE, RPE, INV_TIME }

    record Case(Backend backend, Kind kind, long seed, DType dtype, int batch, int len, boolean causal, int h, int dim, int r, int nk) {
        @Override
        public String toString() {
            return backend.name() + " " + kind + " seed=" + seed + " " + dtype + " B=" + batch + " L=" + len + (causal ? " causal" : " bidirectional")
                    + " h=" + h + " dim=" + dim + " r/F=" + r + " nk=" + nk;
        }
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Backend be : LayerChecks.forwardBackends()) {
            SplittableRandom rng = new SplittableRandom(TnnTestSupport.SEED + 31);
            int index = 0;
            for (Kind kind : Kind.values()) {
                for (int len : LENGTHS) {
                    for (DType dt : DType.values()) {
                        for (int rep = 0; rep < 2; rep++, index++) {
                            boolean causal = rep == 1 || (len < 2 && kind != Kind.NORPE);
                            int r = kind == Kind.NORPE ? 1 + rng.nextInt(9) : 2 + rng.nextInt(6);
                            Case c = new Case(be, kind, rng.nextLong(), dt, 1 + rng.nextInt(2), len, causal, 1 + rng.nextInt(3), 1 + rng.nextInt(3), r,
                                    1 + rng.nextInt(6));
                            LayerChecks.addIf(out, be, dt, Arguments.of(c));
                        }
                    }
                }
            }
        }
        return out.stream();
    }

    /** Learned tensors uniform in [-1, 1); the buffers as upstream makes them (inducing = linspace(0, 1, r)), γ in [0.8, 0.999). */
    static Map<String, Tensor> stateDict(Map<String, long[]> learned, String prefix, Kind kind, int r, DType dt, long seed) {
        Map<String, Tensor> sd = new LinkedHashMap<>(TnnTestSupport.randomStateDict(learned, dt, seed));
        if (kind != Kind.NORPE) {
            Tensor g = Tensor.zeros(dt, 1);
            g.setFlat(0, (float) new SplittableRandom(seed + 1).nextDouble(0.8, 0.999));
            sd.put(prefix + "gamma", g);
        }
        if (kind == Kind.RPE) sd.put(prefix + "inducing", TnoTensors.write(TorchFloat32.linspace(0, 1, r), dt, r));
        return sd;
    }

    /** rpe_dim >= 3: a one-wide encoder under scalenorm is x / sqrt(x² + 1e-5), too steep near 0 for finite differences. */
    static SkiTnoRpe.Config rpeConfig(Case k) {
        int index = (int) Math.floorMod(k.seed, 97);
        return new SkiTnoRpe.Config(k.h, k.dim, k.r, k.nk, k.causal, 3 + index % 3, index % 2 == 0, GtuTest.smooth(Activation.values()[index % 7]),
                index % 3 != 0, index % 3, NormType.values()[index % NormType.values().length], GtuTest.smooth(Activation.values()[(index / 7) % 7]), 0.999);
    }

    static Layer build(Case k, Map<String, Tensor>[] sdOut) {
        @SuppressWarnings("unchecked") Map<String, Tensor>[] box = sdOut;
        return switch (k.kind) {
            case NORPE -> {
                FdTnoNoRpe.Config c = new FdTnoNoRpe.Config(k.h, k.dim, k.causal, k.r, k.seed % 2 == 0 ? FrequencyGrid.FAST : FrequencyGrid.UPSTREAM);
                box[0] = stateDict(FdTnoNoRpe.shapes(c, ""), "", k.kind, k.r, k.dtype, k.seed);
                yield new FdTnoNoRpe(c, box[0]);
            }
            case RPE -> {
                SkiTnoRpe.Config c = rpeConfig(k);
                box[0] = stateDict(SkiTnoRpe.learned(c, ""), "", k.kind, k.r, k.dtype, k.seed);
                yield new SkiTnoRpe(c, box[0]);
            }
            case INV_TIME -> {
                SkiTnoInvTime.Config c = new SkiTnoInvTime.Config(k.h, k.dim, k.r, k.nk, k.causal, 0.999);
                box[0] = stateDict(SkiTnoInvTime.learned(c, ""), "", k.kind, k.r, k.dtype, k.seed);
                yield new SkiTnoInvTime(c, box[0]);
            }
        };
    }

    static double[][][] reference(Case k, Layer layer, Map<String, Tensor> sd) {
        return switch (k.kind) {
            case NORPE -> SkiTnnReference.fdTnoNoRpe(sd, "", ((FdTnoNoRpe) layer).config(), k.len);
            case RPE -> SkiTnnReference.skiTnoRpe(sd, "", ((SkiTnoRpe) layer).config(), k.len, k.dtype);
            case INV_TIME -> SkiTnnReference.skiTnoInvTime(sd, "", ((SkiTnoInvTime) layer).config(), k.len, k.dtype);
        };
    }

    /** x in the layer's layout: [B, H, L, dim] for FdTnoNoRpe, [B, L, H·dim] for the SKI operators. */
    static Tensor input(Case k, long seed) {
        return k.kind == Kind.NORPE ? Tensor.random(k.dtype, seed, k.batch, k.h, k.len, k.dim) : Tensor.random(k.dtype, seed, k.batch, k.len, k.h * k.dim);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void forwardMatchesReference(Case k) {
        @SuppressWarnings("unchecked") Map<String, Tensor>[] sd = new Map[1];
        Layer layer = build(k, sd);
        try (Tensor x = input(k, k.seed ^ 7); Tensor y = layer.forward(k.backend, x)) {
            double[][][] m = reference(k, layer, sd[0]);
            if (k.kind == Kind.NORPE) {
                try (Tensor tokens = toTokens(x); Tensor e = SkiTnnReference.apply(m, tokens); Tensor eh = toHeads(e, k.h)) {
                    Compare.assertClose(y, eh, k.dtype, k.toString());
                }
            } else {
                try (Tensor e = SkiTnnReference.apply(m, x)) {
                    Compare.assertClose(y, e, k.dtype, k.toString());
                }
            }
        } finally {
            TnnTestSupport.closeAll(sd[0]);
        }
    }

    static Tensor toTokens(Tensor x) {
        int b = (int) x.dim(0), h = (int) x.dim(1), len = (int) x.dim(2), d = (int) x.dim(3);
        return TnoTensors.write(TnoTensors.headsToTokens(x.toDoubleArray(), b, h, len, d), DType.FLOAT64, b, len, (long) h * d);
    }

    static Tensor toHeads(Tensor y, int h) {
        int b = (int) y.dim(0), len = (int) y.dim(1), d = (int) y.dim(2) / h;
        return TnoTensors.write(TnoTensors.tokensToHeads(y.toDoubleArray(), b, h, len, d), DType.FLOAT64, b, h, len, d);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        SplittableRandom rng = new SplittableRandom(TnnTestSupport.SEED + 37);
        int[] lengths = {1, 3, 4, 6};
        for (Backend be : TnnTestSupport.backends()) {
            for (Kind kind : Kind.values()) {
                for (int index = 0; index < 4; index++) {
                    int len = lengths[index], r = kind == Kind.NORPE ? 1 + rng.nextInt(5) : 2 + rng.nextInt(3);
                    boolean causal = index % 2 == 1 || len < 2;
                    Case k = new Case(be, kind, rng.nextLong(), DType.FLOAT64, 2, len, causal, 2, 2, r, 1 + rng.nextInt(5));
                    @SuppressWarnings("unchecked") Map<String, Tensor>[] sd = new Map[1];
                    Layer layer = build(k, sd);
                    try (Tensor x = input(k, k.seed ^ 3)) {
                        TnnTestSupport.checkGradients(layer, be, x, k.seed, k.toString());
                    } finally {
                        TnnTestSupport.closeAll(sd[0]);
                    }
                }
            }
        }
    }

    @Test
    void loadsUpstreamNamesBuffersAndOddWidth() {
        SkiTnoRpe.Config c = new SkiTnoRpe.Config(2, 3, 4, 4, false, 5, false, Activation.RELU, true, 1, NormType.SIMPLE_RMS, Activation.NONE, 0.9);
        assertEquals(5, c.nk()); // upstream: an even nk becomes nk + 1
        Map<String, Tensor> sd = stateDict(SkiTnoRpe.learned(c, ""), "", Kind.RPE, 4, DType.FLOAT32, 3);
        try {
            assertEquals(List.of("conv_kernel", "rpe.pos_proj.weight", "rpe.pos_proj.bias", "rpe.layers.0.2.weight", "rpe.layers.0.2.bias",
                    "rpe.out.2.weight", "rpe.out.2.bias", "gamma", "inducing"), List.copyOf(sd.keySet()));
            assertArrayEquals(new long[] {6, 5}, sd.get("conv_kernel").shape());
            Map<String, String> meta = Map.of("h", "2", "dim", "3", "r", "4", "nk", "4", "rpe_dim", "5", "layers", "1", "gamma", "0.9");
            SkiTnoRpe loaded = SkiTnoRpe.load(Weights.of("in-memory", sd, meta), Map.of());
            assertEquals(c, loaded.config());
            assertEquals(List.of("conv_kernel", "rpe.pos_proj.weight", "rpe.pos_proj.bias", "rpe.layers.0.2.weight", "rpe.layers.0.2.bias",
                    "rpe.out.2.weight", "rpe.out.2.bias"), List.copyOf(loaded.parameters().keySet()), "buffers are not parameters");
            LongConvException e = assertThrows(LongConvException.class, () -> SkiTnoRpe.load(Weights.of("in-memory", sd, meta), Map.of("normalize", "true")));
            assertTrue(e.getMessage().startsWith(SkiTnoRpe.NAME) && e.getMessage().contains("normalize"), e.getMessage());
            e = assertThrows(LongConvException.class, () -> SkiTnoRpe.load(Weights.of("in-memory", sd, meta), Map.of("act_type", "exp")));
            assertTrue(e.getMessage().contains("act_type") && e.getMessage().contains("exp"), e.getMessage());
            try (Tensor x = Tensor.random(DType.FLOAT32, 1, 1, 1, 6)) {
                e = assertThrows(LongConvException.class, () -> loaded.forward(new ScalarBackend(), x));
                assertTrue(e.getMessage().contains("L >= 2") && e.getMessage().contains("L=1"), e.getMessage());
            }
        } finally {
            TnnTestSupport.closeAll(sd);
        }
        SkiTnoInvTime.Config ic = new SkiTnoInvTime.Config(1, 2, 3, 3, true, 0.99);
        assertEquals(List.of("conv_kernel", "alphas"), List.copyOf(SkiTnoInvTime.learned(ic, "").keySet()));
        assertArrayEquals(new long[] {2, 2}, SkiTnoInvTime.learned(ic, "").get("conv_kernel"));
        assertArrayEquals(new long[] {1, 2, 1, 3}, SkiTnoInvTime.learned(ic, "").get("alphas"));
    }

    @Test
    void aGammaBufferMissingFromTheWeightsFallsBackToTheHyperparameterInFloat32() {
        SkiTnoInvTime.Config c = new SkiTnoInvTime.Config(1, 1, 3, 1, true, 0.97);
        Map<String, Tensor> with = stateDict(SkiTnoInvTime.learned(c, ""), "", Kind.INV_TIME, 3, DType.FLOAT64, 9);
        with.get("gamma").setFlat(0, (float) 0.97);
        Map<String, Tensor> without = new LinkedHashMap<>(with);
        without.remove("gamma");
        try (Tensor x = Tensor.random(DType.FLOAT64, 2, 1, 9, 1); Tensor a = new SkiTnoInvTime(c, with).forward(new ScalarBackend(), x);
             Tensor b = new SkiTnoInvTime(c, without).forward(new ScalarBackend(), x)) {
            assertArrayEquals(a.toDoubleArray(), b.toDoubleArray(), 0.0);
        } finally {
            TnnTestSupport.closeAll(with);
        }
    }

    @Test
    void numFreqsWhoseBinsUpstreamMiscountsAreRefused() {
        // torch's interpolate gives floor(F * (N / 2F)) bins; find an F where that is not N/2 at some N.
        int found = 0;
        for (int f = 1; f <= 400 && found == 0; f++) {
            for (int n = 2; n <= 1 << 14; n *= 2) {
                double sf = (double) n / (2.0 * f);
                if ((long) (f * sf) != n / 2) {
                    FdTnoNoRpe.Config c = new FdTnoNoRpe.Config(1, 1, false, f, FrequencyGrid.UPSTREAM);
                    Map<String, Tensor> sd = TnnTestSupport.randomStateDict(FdTnoNoRpe.shapes(c, ""), DType.FLOAT64, 1);
                    int len = n / 2;
                    try (Tensor x = Tensor.random(DType.FLOAT64, 1, 1, 1, len, 1)) {
                        LongConvException e = assertThrows(LongConvException.class, () -> new FdTnoNoRpe(c, sd).forward(new ScalarBackend(), x));
                        assertTrue(e.getMessage().contains("num_freqs"), e.getMessage());
                    } finally {
                        TnnTestSupport.closeAll(sd);
                    }
                    found++;
                    break;
                }
            }
        }
        assertEquals(1, found, "no num_freqs up to 400 hits torch's miscount; the check is untested");
    }
}
