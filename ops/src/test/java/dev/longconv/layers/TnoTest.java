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
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tno against the dense float64 reference of {@link TnnReference} at seeded random shapes and
 * configurations (every norm, activation and coefficient activation, both decays, causal and
 * bidirectional, normalize, par_type 1-3, L = 1 and primes), its causality, its gradients against
 * finite differences, and loading from weights with metadata.
 */
class TnoTest {
    static final int[] LENGTHS = {1, 2, 3, 5, 7, 13, 31};
    /** Coefficient activations that keep T·1 away from zero, for normalize. */
    static final Activation[] POSITIVE = {Activation.EXP, Activation.SIGMOID, Activation.ONE_PLUS_ELU, Activation.TWO_PLUS_ELU};

    record Case(Backend backend, long seed, DType dtype, int batch, int len, Tno.Config config) {
        @Override
        public String toString() {
            return backend.name() + " seed=" + seed + " " + dtype + " B=" + batch + " L=" + len + " " + config;
        }
    }

    /** A random config; the index cycles norms, activations and decay modes so every one is covered. */
    static Tno.Config randomConfig(SplittableRandom rng, int index, int h, int dim) {
        boolean causal = index % 2 == 0;
        int decay = index % 3; // none, fixed, learned
        boolean normalize = (index / 2) % 2 == 1;
        Activation actType = normalize ? POSITIVE[rng.nextInt(POSITIVE.length)] : Activation.values()[index % Activation.values().length];
        int parType = causal ? 1 + rng.nextInt(3) : 1 + rng.nextInt(2);
        return new Tno.Config(h, dim, 1 + rng.nextInt(6), causal, decay == 1, decay == 2, rng.nextBoolean(),
                Activation.values()[(index * 7 + 3) % Activation.values().length], parType, rng.nextDouble(0.5, 0.99),
                rng.nextBoolean(), actType, rng.nextInt(3), NormType.values()[index % NormType.values().length], normalize);
    }

    static Map<String, Tensor> stateDict(Tno.Config c, String prefix, DType dt, long seed) {
        Map<String, Tensor> sd = TnnTestSupport.randomStateDict(Tno.shapes(c, prefix), dt, seed);
        if (c.useDecay()) TnnTestSupport.fixedDecay(sd.get(prefix + "gamma"), seed + 1);
        return sd;
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Backend be : LayerChecks.forwardBackends()) {
            SplittableRandom rng = new SplittableRandom(TnnTestSupport.SEED);
            int index = 0;
            for (int len : LENGTHS) {
                for (DType dt : DType.values()) {
                    for (int rep = 0; rep < 3; rep++, index++) {
                        Tno.Config c = randomConfig(rng, index, 1 + rng.nextInt(3), 1 + rng.nextInt(4));
                        LayerChecks.addIf(out, be, dt, Arguments.of(new Case(be, rng.nextLong(), dt, 1 + rng.nextInt(3), len, c)));
                    }
                }
            }
        }
        return out.stream();
    }

    static Tensor reference(Map<String, Tensor> sd, String prefix, Tno.Config c, Tensor x) {
        int len = (int) x.dim(2);
        double[][] a = TnnReference.tnoCoefficients(sd, prefix, c, c.act().upstreamName(), c.actType().upstreamName(),
                c.normType().upstreamName(), len);
        return TnnReference.fromArray4(TnnReference.tno(TnnReference.toArray4(x), a, c));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void forwardMatchesDenseReference(Case k) {
        Tno.Config c = k.config;
        Map<String, Tensor> sd = stateDict(c, "", k.dtype, k.seed);
        try (Tensor x = Tensor.random(k.dtype, k.seed ^ 77, k.batch, c.h(), k.len, c.dim());
             Tensor y = new Tno(c, sd).forward(k.backend, x); Tensor expected = reference(sd, "", c, x)) {
            Compare.assertClose(y, expected, k.dtype, "tno " + k);
        } finally {
            TnnTestSupport.closeAll(sd);
        }
    }

    /** Weights and input over heap arrays give the reference's result too (see GtuTest's counterpart): defaults and random configurations. */
    @Test
    void weightsAndInputOverHeapMemoryMatchTheReference() {
        SplittableRandom rng = new SplittableRandom(TnnTestSupport.SEED + 12);
        for (Backend be : LayerChecks.forwardBackends()) {
            for (DType dt : DType.values()) {
                for (int index = 0; index < 4; index++) {
                    Tno.Config c = index == 0 ? Tno.Config.defaults(2, 16, 32) : randomConfig(rng, index, 1 + rng.nextInt(3), 1 + rng.nextInt(20));
                    long seed = rng.nextLong();
                    if (be.name().equals("cuda") && dt == DType.FLOAT64) continue;
                    Map<String, Tensor> sd = stateDict(c, "", dt, seed);
                    try (Tensor x = Tensor.random(dt, seed ^ 77, 2, c.h(), 37, c.dim()); Tensor expected = reference(sd, "", c, x);
                         Tensor y = new Tno(c, dev.longconv.testing.HeapTensors.onHeap(sd)).forward(be, dev.longconv.testing.HeapTensors.onHeap(x))) {
                        Compare.assertClose(y, expected, dt, "tno over heap memory " + be.name() + " seed=" + seed + " " + dt + " " + c);
                    } finally {
                        TnnTestSupport.closeAll(sd);
                    }
                }
            }
        }
    }

    @Test
    void causalOutputsIgnoreLaterInputs() {
        SplittableRandom rng = new SplittableRandom(TnnTestSupport.SEED + 5);
        for (Backend be : TnnTestSupport.backends()) {
            for (int index = 0; index < 8; index += 2) { // even indices are causal
                Tno.Config c = randomConfig(rng, index, 2, 3);
                long seed = rng.nextLong();
                int len = 17, t0 = 1 + rng.nextInt(len - 1);
                Map<String, Tensor> sd = stateDict(c, "", DType.FLOAT64, seed);
                Tno tno = new Tno(c, sd);
                try (Tensor x = Tensor.random(DType.FLOAT64, seed, 2, 2, len, 3); Tensor x2 = x.copy()) {
                    for (int b = 0; b < 2; b++) for (int h = 0; h < 2; h++) for (int d = 0; d < 3; d++) x2.set(x2.get(b, h, t0, d) + 1.5, b, h, t0, d);
                    try (Tensor y = tno.forward(be, x); Tensor y2 = tno.forward(be, x2)) {
                        double before = 0, after = 0, scale = 0;
                        for (int b = 0; b < 2; b++) for (int h = 0; h < 2; h++) for (int t = 0; t < len; t++) for (int d = 0; d < 3; d++) {
                            double diff = Math.abs(y.get(b, h, t, d) - y2.get(b, h, t, d));
                            scale = Math.max(scale, Math.abs(y.get(b, h, t, d)));
                            if (t < t0) before = Math.max(before, diff);
                            else after = Math.max(after, diff);
                        }
                        String what = be.name() + " seed=" + seed + " t0=" + t0 + " " + c;
                        double b0 = before, s0 = scale;
                        assertTrue(b0 <= 1e-12 * s0, () -> what + ": outputs before t0 changed by " + b0);
                        assertTrue(after > 0, () -> what + ": outputs from t0 on did not change at all");
                    }
                } finally {
                    TnnTestSupport.closeAll(sd);
                }
            }
        }
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        SplittableRandom rng = new SplittableRandom(TnnTestSupport.SEED + 9);
        int[] lengths = {1, 4, 5};
        for (Backend be : TnnTestSupport.backends()) {
            for (int index = 0; index < 12; index++) {
                Tno.Config r = randomConfig(rng, index, 2, 2);
                // Kinks (relu at an exact 0) would make finite differences meaningless: smooth activations. At L = 1
                // normalize gives y = x, so every parameter gradient is zero and a relative error is noise over noise.
                Activation act = r.act() == Activation.RELU || r.act() == Activation.LEAK ? Activation.SILU : r.act();
                Activation actType = r.actType() == Activation.RELU || r.actType() == Activation.LEAK ? Activation.GELU : r.actType();
                Tno.Config c = new Tno.Config(2, 2, 3, r.causal(), r.useDecay(), r.useMultiDecay(), r.residual(), act, r.parType(),
                        r.gamma(), r.bias(), actType, 1 + index % 2, r.normType(), r.normalize() && lengths[index % lengths.length] > 1);
                long seed = rng.nextLong();
                int len = lengths[index % lengths.length];
                Map<String, Tensor> sd = stateDict(c, "", DType.FLOAT64, seed);
                try (Tensor x = Tensor.random(DType.FLOAT64, seed ^ 3, 2, 2, len, 2)) {
                    TnnTestSupport.checkGradients(new Tno(c, sd), be, x, seed, "tno " + be.name() + " L=" + len + " " + c);
                } finally {
                    TnnTestSupport.closeAll(sd);
                }
            }
        }
    }

    @Test
    void loadsHyperparametersFromMetadataAndOverrides() {
        Tno.Config c = new Tno.Config(2, 3, 4, true, false, true, true, Activation.GELU, 1, 0.9, false, Activation.SIGMOID, 2,
                NormType.LAYER, true);
        Map<String, Tensor> sd = stateDict(c, "", DType.FLOAT32, 11);
        Map<String, String> meta = Map.ofEntries(Map.entry("h", "2"), Map.entry("dim", "3"), Map.entry("rpe_dim", "4"),
                Map.entry("causal", "True"), Map.entry("use_multi_decay", "true"), Map.entry("residual", "1"), Map.entry("act", "gelu"),
                Map.entry("gamma", "0.9"), Map.entry("bias", "False"), Map.entry("act_type", "sigmoid"), Map.entry("layers", "2"),
                Map.entry("norm_type", "layernorm"));
        Weights w = Weights.of("in-memory", sd, meta);
        Tno loaded = Tno.load(w, Map.of("normalize", "true"));
        assertEquals(c, loaded.config());
        Backend be = new ScalarBackend();
        try (Tensor x = Tensor.random(DType.FLOAT32, 5, 1, 2, 9, 3); Tensor y = loaded.forward(be, x); Tensor e = reference(sd, "", c, x)) {
            Compare.assertClose(y, e, DType.FLOAT32, "tno loaded");
        } finally {
            TnnTestSupport.closeAll(sd);
        }
    }

    @Test
    void badInputsNameTheArgument() {
        Tno.Config c = Tno.Config.defaults(2, 3, 4);
        Map<String, Tensor> sd = stateDict(c, "", DType.FLOAT64, 3);
        try {
            Weights w = Weights.of("in-memory", sd, Map.of("dim", "3", "rpe_dim", "4"));
            LongConvException e = assertThrows(LongConvException.class, () -> Tno.load(w, Map.of()));
            assertTrue(e.getMessage().contains("h") && e.getMessage().startsWith("tno"), e.getMessage());
            e = assertThrows(LongConvException.class, () -> Tno.load(w, Map.of("h", "2", "act", "swish")));
            assertTrue(e.getMessage().contains("act") && e.getMessage().contains("swish"), e.getMessage());
            e = assertThrows(LongConvException.class, () -> Tno.load(w, Map.of("h", "3")));
            assertTrue(e.getMessage().contains("rpe.out.2.weight"), e.getMessage());
            Tno tno = new Tno(c, sd);
            try (Tensor x = Tensor.zeros(DType.FLOAT64, 1, 3, 5, 3)) {
                e = assertThrows(LongConvException.class, () -> tno.forward(new ScalarBackend(), x));
                assertTrue(e.getMessage().contains("H=2") && e.getMessage().contains("[1, 3, 5, 3]"), e.getMessage());
            }
            e = assertThrows(LongConvException.class, () -> new Tno.Config(1, 1, 1, false, false, false, false, Activation.RELU, 3, 0.9,
                    true, Activation.NONE, 1, NormType.SIMPLE_RMS, false));
            assertTrue(e.getMessage().contains("par_type"), e.getMessage());
        } finally {
            TnnTestSupport.closeAll(sd);
        }
    }
}
