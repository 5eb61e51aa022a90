package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.ops.Backend;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;

/**
 * Gated Toeplitz unit, tnn-pytorch's {@code Gtu} and ski-tnn's ({@code laxtnn/modules/gtu.py}), on x [B, L, embed_dim]:
 * <pre>
 *   u = act_fun(u_proj x),  v = act_fun(v_proj x)            Linear(embed_dim, d1), d1 = ⌊⌊expand_ratio·E⌋ / H⌋·H
 *   y = o( norm( u ⊙ toep(v) ) )                              norm only when use_norm; o = Linear(d1, embed_dim)
 * </pre>
 * where toep is the operator ski-tnn's {@code tno_type} names, with h = num_heads and dim = d1 / num_heads
 * over v [B, L, d1] (channel h·dim + c, upstream's 'b n (h d) -> b h n d'): {@link Tno} ("tno", tnn-pytorch's only
 * one), {@link FdTno} ("tno_fd"), {@link FdTnoNoRpe} ("tno_fd_norpe", num_freqs 128), {@link SkiTnoRpe}
 * ("skitno") or {@link SkiTnoInvTime} ("skitno_inv_time"), given the same arguments as upstream's Gtu gives
 * them (rpe_dim = rpe_embedding, act = rpe_act, layers = rpe_layers, r = rank, ...). The projections are backend
 * GEMMs in x's dtype over [B·L, ·]; v stays in that [B, L, d1] layout for the Toeplitz products (no
 * transposes). In float32 the elementwise steps and the norm run on float lanes over all rows at once; in float64
 * (and for gradients) they run row by row in double.
 *
 * <p>Hyperparameters for {@link #load} (Gtu's constructor argument names): embed_dim, num_heads
 * (required), bias (true), act_fun ("silu"), causal (false), expand_ratio (3), resi_param (false; true is
 * rejected, since upstream's forward then reads an undefined variable), use_norm (false), norm_type
 * ("simplermsnorm"), use_decay (false), use_multi_decay (false), rpe_layers (3), rpe_embedding (512),
 * rpe_act ("relu"), normalize (false), par_type (1), residual (false), gamma (0.99), act_type ("none"), and
 * ski-tnn's tno_type ("tno"), rank and nk (required for the SKI types; ski-tnn passes them in its {@code args}),
 * fft_size ("upstream" or "fast", for tno_fd and tno_fd_norpe). With tno_type set, activation names follow ski-tnn's
 * table (its "exp" is refused, see {@link TnoHyperparameters}). Upstream's TnoFD and TnoFDNoRPE ignore
 * normalize; so does this layer. With the SKI types normalize is refused, as upstream fails on it.
 *
 * <p>state_dict: v_proj.*, u_proj.*, o.*, toep.* (the operator's names), norm.* (with use_norm, when the norm
 * has parameters). Gradients come in x's dtype.
 */
public final class Gtu implements Layer {
    public static final String NAME = "gtu";

    /** ski-tnn's {@code tno_type}: which operator fills the Toeplitz slot. */
    public enum TnoType {
        TNO("tno"), TNO_FD("tno_fd"), TNO_FD_NORPE("tno_fd_norpe"), SKITNO("skitno"), SKITNO_INV_TIME("skitno_inv_time");

        private final String key;

        TnoType(String key) {
            this.key = key;
        }

        public String key() {
            return key;
        }

        public boolean ski() {
            return this == SKITNO || this == SKITNO_INV_TIME;
        }

        public static TnoType parse(String name) {
            for (TnoType t : values()) if (t.key.equals(name.trim())) return t;
            throw new LongConvException(NAME, "tno_type", "one of [tno, tno_fd, tno_fd_norpe, skitno, skitno_inv_time]", "'" + name + "'");
        }
    }

    /** Hyperparameters; see the class comment. rank and nk matter only for the SKI types. */
    public record Config(int embedDim, int numHeads, boolean bias, Activation actFun, boolean causal, double expandRatio,
                         boolean useNorm, NormType normType, boolean useDecay, boolean useMultiDecay, int rpeLayers, int rpeEmbedding,
                         Activation rpeAct, boolean normalize, int parType, boolean residual, double gamma, Activation actType,
                         TnoType tnoType, int rank, int nk, FrequencyGrid grid) {
        /** tnn-pytorch's Gtu (tno_type "tno"). */
        public Config(int embedDim, int numHeads, boolean bias, Activation actFun, boolean causal, double expandRatio,
                      boolean useNorm, NormType normType, boolean useDecay, boolean useMultiDecay, int rpeLayers, int rpeEmbedding,
                      Activation rpeAct, boolean normalize, int parType, boolean residual, double gamma, Activation actType) {
            this(embedDim, numHeads, bias, actFun, causal, expandRatio, useNorm, normType, useDecay, useMultiDecay, rpeLayers, rpeEmbedding,
                    rpeAct, normalize, parType, residual, gamma, actType, TnoType.TNO, 0, 0, FrequencyGrid.UPSTREAM);
        }

        public Config {
            if (tnoType == null || grid == null) throw new LongConvException(NAME, "tno_type", "a TNO type and a frequency grid", tnoType + ", " + grid);
            if (tnoType.ski() && normalize) {
                throw new LongConvException(NAME, "normalize", "false with tno_type " + tnoType.key() + " (upstream's normalize fails there)", "true");
            }
            if (embedDim < 1 || numHeads < 1) {
                throw new LongConvException(NAME, "config", "embed_dim, num_heads >= 1", "embed_dim=" + embedDim + " num_heads=" + numHeads);
            }
            int d1 = expandedDim(embedDim, numHeads, expandRatio);
            if (d1 < numHeads) {
                throw new LongConvException(NAME, "expand_ratio", "expand_ratio * embed_dim >= num_heads=" + numHeads,
                        expandRatio + " * " + embedDim);
            }
        }

        /** Upstream's defaults for everything but the sizes. */
        public static Config defaults(int embedDim, int numHeads) {
            return new Config(embedDim, numHeads, true, Activation.SILU, false, 3, false, NormType.SIMPLE_RMS, false, false, 3, 512,
                    Activation.RELU, false, 1, false, 0.99, Activation.NONE);
        }

        private static int expandedDim(int e, int h, double ratio) {
            int d1 = (int) (ratio * e); // Python's int() truncates toward zero
            return d1 / h * h;
        }

        /** d1: the width of u and v. */
        public int innerDim() {
            return expandedDim(embedDim, numHeads, expandRatio);
        }

        public int headDim() {
            return innerDim() / numHeads;
        }

        Tno.Config tno() {
            return new Tno.Config(numHeads, headDim(), rpeEmbedding, causal, useDecay, useMultiDecay, residual, rpeAct, parType, gamma,
                    bias, actType, rpeLayers, normType, normalize);
        }

        FdTno.Config fdTno() {
            return new FdTno.Config(numHeads, headDim(), rpeEmbedding, causal, residual, rpeAct, bias, rpeLayers, normType, grid);
        }

        FdTnoNoRpe.Config fdTnoNoRpe() {
            return new FdTnoNoRpe.Config(numHeads, headDim(), causal, 128, grid);
        }

        SkiTnoRpe.Config skiTno() {
            return new SkiTnoRpe.Config(numHeads, headDim(), rank, nk, causal, rpeEmbedding, residual, rpeAct, bias, rpeLayers, normType, actType, gamma);
        }

        SkiTnoInvTime.Config skiTnoInvTime() {
            return new SkiTnoInvTime.Config(numHeads, headDim(), rank, nk, causal, gamma);
        }

        /** The learned parameters of the Toeplitz operator under "toep.". */
        Map<String, long[]> operatorShapes() {
            return switch (tnoType) {
                case TNO -> Tno.shapes(tno(), "toep.");
                case TNO_FD -> FdTno.shapes(fdTno(), "toep.");
                case TNO_FD_NORPE -> FdTnoNoRpe.shapes(fdTnoNoRpe(), "toep.");
                case SKITNO -> SkiTnoRpe.learned(skiTno(), "toep.");
                case SKITNO_INV_TIME -> SkiTnoInvTime.learned(skiTnoInvTime(), "toep.");
            };
        }

        static Config parse(TnoHyperparameters p) {
            if (p.flag("resi_param", false)) {
                throw new LongConvException(NAME, "resi_param", "false (upstream's forward fails with it: it reads an undefined 'shortcut')", "true");
            }
            TnoType type = TnoType.parse(p.string("tno_type", "tno"));
            boolean skiTnn = p.has("tno_type");
            java.util.function.BiFunction<String, String, Activation> act = skiTnn ? p::skiTnnActivation : p::activation;
            return new Config(p.integer("embed_dim"), p.integer("num_heads"), p.flag("bias", true), act.apply("act_fun", "silu"),
                    p.flag("causal", false), p.real("expand_ratio", 3), p.flag("use_norm", false), p.norm("norm_type", "simplermsnorm"),
                    p.flag("use_decay", false), p.flag("use_multi_decay", false), p.integer("rpe_layers", 3),
                    p.integer("rpe_embedding", 512), act.apply("rpe_act", "relu"), p.flag("normalize", false),
                    p.integer("par_type", 1), p.flag("residual", false), p.real("gamma", 0.99), act.apply("act_type", "none"),
                    type, type.ski() ? p.integer("rank") : 0, type.ski() ? p.integer("nk") : 0,
                    FrequencyGrid.parse(p.string("fft_size", "upstream"), NAME));
        }
    }

    private final Config config;
    private final Map<String, Tensor> params;
    private final TokenMixer toep;
    private final Norm norm;

    /** A GTU from its config and its state_dict (tensors kept, not copied). */
    public Gtu(Config config, Map<String, Tensor> stateDict) {
        this.config = config;
        Map<String, Tensor> p = new LinkedHashMap<>();
        shapes(config).forEach((n, s) -> p.put(n, TnoTensors.require(NAME, stateDict, n, s)));
        Map<String, Tensor> withBuffers = new LinkedHashMap<>(p);
        for (String b : new String[] {"toep.gamma", "toep.inducing"}) if (config.tnoType.ski() && stateDict.containsKey(b)) withBuffers.put(b, stateDict.get(b));
        this.toep = switch (config.tnoType) {
            case TNO -> new Tno(config.tno(), "toep.", p);
            case TNO_FD -> new FdTno(config.fdTno(), "toep.", p);
            case TNO_FD_NORPE -> new FdTnoNoRpe(config.fdTnoNoRpe(), "toep.", p);
            case SKITNO -> new SkiTnoRpe(config.skiTno(), "toep.", withBuffers);
            case SKITNO_INV_TIME -> new SkiTnoInvTime(config.skiTnoInvTime(), "toep.", withBuffers);
        };
        this.norm = config.useNorm
                ? new Norm(config.normType, config.innerDim(), config.normType.parameterNames().stream().map(n -> p.get("norm." + n)).toList())
                : null;
        this.params = Collections.unmodifiableMap(p);
    }

    /** A GTU from weights; hyperparameters from the metadata, overridden by {@code overrides}. */
    public static Gtu load(Weights w, Map<String, String> overrides) {
        Config c = Config.parse(new TnoHyperparameters(NAME, w.metadata(), overrides));
        Map<String, Tensor> m = new LinkedHashMap<>();
        shapes(c).forEach((n, s) -> m.put(n, w.get(NAME, n, s)));
        if (c.tnoType().ski()) for (String b : new String[] {"toep.gamma", "toep.inducing"}) if (w.has(b)) m.put(b, w.tensor(b));
        return new Gtu(c, m);
    }

    /** state_dict names and shapes, in upstream's registration order. */
    public static Map<String, long[]> shapes(Config c) {
        Map<String, long[]> s = new LinkedHashMap<>();
        int e = c.embedDim, d1 = c.innerDim();
        for (String proj : List.of("v_proj", "u_proj")) {
            s.put(proj + ".weight", new long[] {d1, e});
            if (c.bias) s.put(proj + ".bias", new long[] {d1});
        }
        s.put("o.weight", new long[] {e, d1});
        if (c.bias) s.put("o.bias", new long[] {e});
        s.putAll(c.operatorShapes());
        if (c.useNorm) for (String n : c.normType.parameterNames()) s.put("norm." + n, c.normType.parameterShape(n, d1));
        return s;
    }

    public Config config() {
        return config;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Map<String, Tensor> parameters() {
        return params;
    }

    /** The intermediate values of one forward pass, row-major over the B·L tokens. */
    private record Pass(int rows, double[] u0, double[] v0, double[] u, double[] t, double[] p, double[] n, double[] y) {}

    /**
     * y for x [B, L, E]. In float32 the whole pass runs on float lanes as the prepared form does ({@link #runFloat32}),
     * with the projections' weights gathered for this call (the state_dict tensors are kept, not copied, so a later
     * call sees their current values); in float64 it runs through {@link #run}.
     */
    @Override
    public Tensor forward(Backend backend, Tensor x) {
        int[] s = checkInput(x, "x");
        if (x.dtype() == DType.FLOAT32) {
            if (toep instanceof Tno tno && tno.writesFloat32Into()) {
                return forwardFloat32(backend, null, x, s, new TokenMixer.PreparedMix() {
                    @Override
                    public Tensor mix(Tensor v) {
                        return tno.mix(backend, v);
                    }

                    @Override
                    public void mixInto(Tensor v, Tensor out) {
                        tno.mixInto(backend, v, out);
                    }

                    @Override
                    public boolean writesInto() {
                        return true;
                    }
                });
            }
            return forwardFloat32(backend, null, x, s, v -> toep.mix(backend, v));
        }
        Pass f = run(backend, x, s, v -> toep.mix(backend, v));
        return TnoTensors.write(f.y, x.dtype(), x.shape());
    }

    /**
     * {@link #runFloat32} into a new y, through intermediates made for this call: over {@code held} (a session's
     * projections), or, where it is null, projections gathered for this call in the call's arena.
     */
    private Tensor forwardFloat32(Backend backend, Projections held, Tensor x, int[] s, TokenMixer.PreparedMix mixer) {
        Tensor y = Tensor.zeros(DType.FLOAT32, x.shape());
        try (Workspace ws = Workspace.of(s[0], s[1], config.innerDim(), config.embedDim, norm == null ? null : Norm.floatScratch(), false, mixer.writesInto());
             Projections call = held == null ? Projections.of(this, DType.FLOAT32, ws.arena()) : null) {
            runFloat32(backend, held != null ? held : call, norm == null ? null : norm.bind(), mixer, x, y, ws);
            return y;
        } catch (RuntimeException | Error e) {
            y.close();
            throw e;
        }
    }

    /**
     * The float32 pass from x [B, L, E] into y (x's shape, any strides when ws has an output buffer, contiguous
     * otherwise): the stacked v/u GEMM, bias and activation of v on float lanes ({@link FloatRows}), the operator
     * (into ws.t when ws has one, else as a new tensor closed here), bias, activation and gate of u in one pass, the
     * norm in blocks of rows, and the output GEMM written straight into a contiguous y.
     */
    private void runFloat32(Backend backend, Projections w, Norm.Bound norm, TokenMixer.PreparedMix mixer, Tensor x, Tensor y, Workspace ws) {
        int rows = Math.toIntExact(x.dim(0) * x.dim(1)), e = config.embedDim, d1 = config.innerDim();
        Activation act = config.actFun;
        try (Tensor xc = x.contiguous(); Tensor x2 = xc.reshape(rows, e)) {
            backend.gemmInto(x2, w.vu(), false, true, ws.vu());
        }
        MemorySegment vus = ws.vu().segment(), vs = ws.v().segment(), ns = ws.n().segment();
        FloatRows.biasActivation(backend, act, rows, d1, vus, 0, 2L * d1, w.vBias(), null, 0, 0, vs, 0, d1);
        Tensor t = ws.t(), made = null;
        try {
            if (t != null) {
                mixer.mixInto(ws.v(), t);
            } else {
                made = mixer.mix(ws.v());
                if (!made.isContiguous()) {
                    Tensor c = made.contiguous();
                    made.close();
                    made = c;
                }
                t = made;
            }
            FloatRows.biasActivation(backend, act, rows, d1, vus, d1, 2L * d1, w.uBias(), t.segment(), 0, d1, ns, 0, d1);
        } finally {
            if (made != null) made.close();
        }
        if (norm != null) norm.forwardFloat(ns, 0, ns, 0, rows, ws.normScratch());
        Tensor view = y.isContiguous() ? y.reshape(rows, e) : null, out = view != null ? view : ws.out();
        try {
            FloatRows.linearInto(backend, ws.n(), w.o(), w.oBias(), out);
            if (view == null) {
                try (Tensor shaped = out.reshape(x.shape())) {
                    ServingChecks.copyInto(NAME, shaped, y);
                }
            }
        } finally {
            if (view != null) view.close();
        }
    }

    /**
     * The Toeplitz operator prepared for {@code length} ({@link TokenMixer#prepareMix}). In float32 the projections'
     * weights are held in float32 once ({@link Projections}) and the elementwise steps run on float lanes straight from
     * the GEMM outputs ({@link PreparedFloat32}); in float64 the rest runs as forward.
     */
    @Override
    public PreparedLayer prepare(Backend backend, DType dtype, int length) {
        ServingChecks.checkDtype(NAME, dtype);
        ServingChecks.checkLength(NAME, length);
        TokenMixer.PreparedMix mixer = toep.prepareMix(backend, dtype, length);
        if (dtype == DType.FLOAT32) {
            try {
                return new PreparedFloat32(backend, length, mixer, Projections.of(this, dtype, null));
            } catch (RuntimeException | Error e) {
                mixer.close();
                throw e;
            }
        }
        return new PreparedBase(this, dtype, length) {
            @Override
            void checkInput(Tensor x) {
                checkPrepared(x, dtype, length);
            }

            @Override
            Tensor compute(Tensor x) {
                return TnoTensors.write(run(backend, x, Gtu.this.checkInput(x, "x"), mixer::mix).y, dtype, x.shape());
            }

            @Override
            public void close() {
                mixer.close();
            }
        };
    }

    /** x must be [B, L=length, E] in the prepared dtype; returns [B, L]. */
    private int[] checkPrepared(Tensor x, DType dtype, int length) {
        int[] s = checkInput(x, "x");
        if (x.dtype() != dtype || s[1] != length) {
            throw new LongConvException(NAME, "x", "[B, L=" + length + ", E] " + dtype + " (as prepared)", x.dtype() + Arrays.toString(x.shape()));
        }
        return s;
    }

    /**
     * The projections' weights in one dtype: v_proj's and u_proj's stacked as one [2·d1, E] matrix (one GEMM for both, x
     * packed once), o's [E, d1], and the biases in float32 (v's and u's zeros without bias, o's null). With {@code
     * call} null they are the form's own copies, for forms that outlive a call (prepared layers, sessions); with one
     * call's arena, vu lives in that arena and o is a view of the parameter where it already has the dtype.
     */
    private record Projections(Tensor vu, Tensor o, float[] vBias, float[] uBias, float[] oBias) implements AutoCloseable {
        static Projections of(Gtu g, DType dt, Arena call) {
            boolean bias = g.config.bias, own = call == null;
            int d1 = g.config.innerDim(), e = g.config.embedDim;
            Tensor vu = own ? Tensor.zeros(dt, 2L * d1, e) : ScratchArena.unfilled(call, dt, 2L * d1, e), o = null; // both weights copied in
            try {
                for (String name : new String[] {"v_proj.weight", "u_proj.weight"}) {
                    try (Tensor wc = TnoTensors.inDtype(g.params.get(name), dt)) {
                        long at = name.startsWith("v") ? 0 : (long) d1 * e * dt.byteSize();
                        MemorySegment.copy(wc.segment(), 0, vu.segment(), at, wc.segment().byteSize());
                    }
                }
                o = own ? g.params.get("o.weight").to(dt) : TnoTensors.inDtype(g.params.get("o.weight"), dt);
                return new Projections(vu, o, bias ? g.params.get("v_proj.bias").toFloatArray() : new float[d1],
                        bias ? g.params.get("u_proj.bias").toFloatArray() : new float[d1], bias ? g.params.get("o.bias").toFloatArray() : null);
            } catch (RuntimeException | Error ex) {
                vu.close();
                if (o != null) o.close();
                throw ex;
            }
        }

        @Override
        public void close() {
            vu.close();
            o.close();
        }
    }

    /**
     * A float32 GTU prepared for one length: the float32 pass ({@link #runFloat32}) over weights held once. The
     * intermediates of a call live in a {@link Workspace} that the next call of the same batch size reuses (no
     * allocation, no page faults); a call that finds it taken by another thread makes its own, so the form stays safe
     * from several threads.
     */
    private final class PreparedFloat32 extends PreparedBase {
        private final Backend backend;
        private final TokenMixer.PreparedMix mixer;
        private final Projections w;
        private final Norm.Bound norm;
        private final AtomicReference<Workspace> idle = new AtomicReference<>();
        private volatile boolean closed;

        PreparedFloat32(Backend backend, int length, TokenMixer.PreparedMix mixer, Projections w) {
            super(Gtu.this, DType.FLOAT32, length);
            this.backend = backend;
            this.mixer = mixer;
            this.w = w;
            this.norm = Gtu.this.norm == null ? null : Gtu.this.norm.bind();
        }

        @Override
        public void forwardInto(Tensor x, Tensor y) {
            int b = checkPrepared(x, DType.FLOAT32, length)[0];
            ServingChecks.checkOutput(NAME, y, x.shape(), DType.FLOAT32);
            if (closed) throw new IllegalStateException(NAME + ": the prepared layer is closed");
            Workspace ws = idle.getAndSet(null);
            if (ws != null && ws.batch() != b) {
                ws.close();
                ws = null;
            }
            if (ws == null) ws = Workspace.of(b, length, config.innerDim(), config.embedDim, norm == null ? null : Norm.floatScratch(), true, true);
            try {
                runFloat32(backend, w, norm, mixer, x, y, ws);
            } finally {
                if (!idle.compareAndSet(null, ws)) ws.close();
                if (closed) releaseIdle();
            }
        }

        private void releaseIdle() {
            Workspace ws = idle.getAndSet(null);
            if (ws != null) ws.close();
        }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            releaseIdle();
            mixer.close();
            w.close();
        }
    }

    /**
     * The intermediates of a float32 call for one batch size, in their own arena: vu [B·L, 2 d1] (the stacked GEMM's
     * output), v [B, L, d1] (the operator's input), n [B·L, d1] (the gated rows) and, in a workspace kept for a prepared
     * form ({@code kept}), out [B·L, E] (the output projection, for a y that is not contiguous), and with {@code
     * mixesInto} t (the operator's output, for a mixer that writes into it). A one-call workspace has no out (y is
     * contiguous), and no t where the operator makes its own output. One-call buffers are the calling thread's scratch,
     * unfilled: each step writes its buffer in full.
     */
    private record Workspace(Arena arena, int batch, Tensor vu, Tensor v, Tensor t, Tensor n, Tensor out, float[] normScratch) implements AutoCloseable {
        static Workspace of(int batch, int length, int d1, int embed, float[] normScratch, boolean kept, boolean mixesInto) {
            Arena arena = kept ? Arena.ofShared() : ScratchArena.open();
            try {
                long rows = (long) batch * length;
                return new Workspace(arena, batch, ScratchArena.unfilled(arena, DType.FLOAT32, rows, 2L * d1), ScratchArena.unfilled(arena, DType.FLOAT32, batch, length, d1),
                        mixesInto ? ScratchArena.unfilled(arena, DType.FLOAT32, batch, length, d1) : null, ScratchArena.unfilled(arena, DType.FLOAT32, rows, d1),
                        kept ? ScratchArena.unfilled(arena, DType.FLOAT32, rows, embed) : null, normScratch);
            } catch (RuntimeException | Error e) {
                arena.close();
                throw e;
            }
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    /**
     * A causal GTU step by step over blocks [B, C, E] (steps [B, E]): per-token projections and a session of the operator.
     * A float32 session holds the projections' weights in float32 for its life and runs each block as the float32 forward.
     */
    @Override
    public LayerSession session(Backend backend, DType dtype, int batch, int maxLength) {
        ServingChecks.checkDtype(NAME, dtype);
        if (!config.causal) throw new LongConvException(NAME, "session", "a causal GTU (a bidirectional one reads future steps)", "causal=false");
        return GtuSession.open(this, backend, toep.mixSession(backend, dtype, batch, maxLength), dtype, batch, maxLength);
    }

    private static final class GtuSession extends BlockSession {
        private final Gtu gtu;
        private final Backend backend;
        private final TokenMixer.MixSession mixer;
        private final Projections w;
        private final DType dtype;
        private final int batch;

        private GtuSession(Gtu gtu, Backend backend, TokenMixer.MixSession mixer, Projections w, DType dtype, int batch, int maxLength) {
            super(gtu, maxLength, 1);
            this.gtu = gtu;
            this.backend = backend;
            this.mixer = mixer;
            this.w = w;
            this.dtype = dtype;
            this.batch = batch;
        }

        /** A session over {@code mixer}, which it owns from here on (closed if the weights cannot be gathered). */
        static GtuSession open(Gtu gtu, Backend backend, TokenMixer.MixSession mixer, DType dtype, int batch, int maxLength) {
            try {
                Projections w = dtype == DType.FLOAT32 ? Projections.of(gtu, dtype, null) : null;
                return new GtuSession(gtu, backend, mixer, w, dtype, batch, maxLength);
            } catch (RuntimeException | Error e) {
                mixer.close();
                throw e;
            }
        }

        @Override
        Tensor pushBlock(Tensor x) {
            int[] s = gtu.checkInput(x, "x");
            if (s[0] != batch || x.dtype() != dtype) {
                throw new LongConvException(NAME, "x", "a block [B=" + batch + ", C, E=" + gtu.config.embedDim + "] " + dtype, x.dtype() + Arrays.toString(x.shape()));
            }
            if (w != null) return gtu.forwardFloat32(backend, w, x, s, mixer::push);
            Pass f = gtu.run(backend, x, s, mixer::push);
            return TnoTensors.write(f.y, dtype, x.shape());
        }

        @Override
        public void reset() {
            mixer.reset();
            position = 0;
        }

        @Override
        public LayerSession copy() {
            GtuSession c = open(gtu, backend, mixer.copy(), dtype, batch, maxLength);
            c.position = position;
            return c;
        }

        @Override
        public void close() {
            mixer.close();
            if (w != null) w.close();
        }
    }

    private Pass run(Backend be, Tensor x, int[] s, UnaryOperator<Tensor> mix) {
        int b = s[0], len = s[1], e = config.embedDim, d1 = config.innerDim(), rows = b * len;
        DType dt = x.dtype();
        double[] xs = TnoTensors.read(x);
        double[] v0 = project(be, xs, rows, e, "v_proj", d1, dt), u0 = project(be, xs, rows, e, "u_proj", d1, dt);
        double[] u = new double[u0.length], v = new double[v0.length];
        config.actFun.applyAll(u0, u);
        config.actFun.applyAll(v0, v);
        double[] t;
        try (Tensor vt = TnoTensors.write(v, dt, b, len, d1); Tensor tt = mix.apply(vt)) {
            t = TnoTensors.read(tt);
        }
        double[] p = new double[t.length];
        for (int i = 0; i < p.length; i++) p[i] = u[i] * t[i];
        double[] n = p;
        if (norm != null) {
            Norm.Bound nb = norm.bind();
            n = new double[p.length];
            for (int r = 0; r < rows; r++) nb.forward(p, r * d1, n, r * d1);
        }
        double[] y = project(be, n, rows, d1, "o", e, dt);
        return new Pass(rows, u0, v0, u, t, p, n, y);
    }

    /** in [rows, k] times {@code name}.weight^T (+ bias) in dtype {@code dt}, through the backend GEMM. */
    private double[] project(Backend be, double[] in, int rows, int k, String name, int out, DType dt) {
        double[] y = gemm(be, in, rows, k, false, params.get(name + ".weight"), dt, true);
        if (config.bias) {
            double[] bias = TnoTensors.read(params.get(name + ".bias"));
            for (int r = 0; r < rows; r++) for (int j = 0; j < out; j++) y[r * out + j] += bias[j];
        }
        return y;
    }

    /** op(A) op(W) with A a [ra, ca] array and W a parameter, both in dtype dt. */
    private static double[] gemm(Backend be, double[] a, int ra, int ca, boolean transA, Tensor w, DType dt, boolean transW) {
        Tensor wc = w.dtype() == dt ? null : w.to(dt);
        try (Tensor at = TnoTensors.write(a, dt, ra, ca); Tensor c = be.gemm(at, wc == null ? w : wc, transA, transW)) {
            return TnoTensors.read(c);
        } finally {
            if (wc != null) wc.close();
        }
    }

    /** op(A) op(B) for two row-major arrays in dtype dt. */
    private static double[] gemm(Backend be, double[] a, int ra, int ca, boolean transA, double[] bm, int rb, int cb, boolean transB, DType dt) {
        try (Tensor at = TnoTensors.write(a, dt, ra, ca); Tensor bt = TnoTensors.write(bm, dt, rb, cb); Tensor c = be.gemm(at, bt, transA, transB)) {
            return TnoTensors.read(c);
        }
    }

    @Override
    public LayerGrads backward(Backend backend, Tensor x, Tensor gy) {
        int[] s = checkInput(x, "x");
        if (!Arrays.equals(gy.shape(), x.shape()) || gy.dtype() != x.dtype()) {
            throw new LongConvException(NAME, "gy", x.dtype() + Arrays.toString(x.shape()) + " (as x)", gy.dtype() + Arrays.toString(gy.shape()));
        }
        int b = s[0], len = s[1], e = config.embedDim, d1 = config.innerDim(), rows = b * len;
        DType dt = x.dtype();
        Pass f = run(backend, x, s, v -> toep.mix(backend, v));
        double[] xs = TnoTensors.read(x), g = TnoTensors.read(gy);
        Map<String, double[]> grads = new LinkedHashMap<>();
        // y = n o^T + ob
        grads.put("o.weight", gemm(backend, g, rows, e, true, f.n, rows, d1, false, dt));
        if (config.bias) grads.put("o.bias", TnoTensors.columnSums(g, rows, e));
        double[] gn = gemm(backend, g, rows, e, false, params.get("o.weight"), dt, false);
        double[] gp = gn;
        if (norm != null) {
            Norm.Bound nb = norm.bind();
            double[][] gparams = nb.newGradients();
            gp = new double[gn.length];
            for (int r = 0; r < rows; r++) nb.backward(f.p, r * d1, gn, r * d1, gp, r * d1, gparams);
            List<String> names = config.normType.parameterNames();
            for (int i = 0; i < names.size(); i++) grads.put("norm." + names.get(i), gparams[i]);
        }
        // p = u ⊙ t
        double[] gu0 = new double[gp.length], gt = new double[gp.length];
        for (int i = 0; i < gp.length; i++) {
            gu0[i] = gp[i] * f.t[i] * config.actFun.derivative(f.u0[i]);
            gt[i] = gp[i] * f.u[i];
        }
        double[] v = new double[f.v0.length];
        config.actFun.applyAll(f.v0, v);
        double[] gv0;
        try (Tensor vt = TnoTensors.write(v, dt, b, len, d1); Tensor gtt = TnoTensors.write(gt, dt, b, len, d1)) {
            TokenMixer.MixGrads mg = toep.mixBackward(backend, vt, gtt);
            try (Tensor dv = mg.dv()) {
                gv0 = TnoTensors.read(dv);
            }
            grads.putAll(mg.params());
        }
        for (int i = 0; i < gv0.length; i++) gv0[i] *= config.actFun.derivative(f.v0[i]);
        grads.put("v_proj.weight", gemm(backend, gv0, rows, d1, true, xs, rows, e, false, dt));
        if (config.bias) grads.put("v_proj.bias", TnoTensors.columnSums(gv0, rows, d1));
        grads.put("u_proj.weight", gemm(backend, gu0, rows, d1, true, xs, rows, e, false, dt));
        if (config.bias) grads.put("u_proj.bias", TnoTensors.columnSums(gu0, rows, d1));
        double[] dx = gemm(backend, gv0, rows, d1, false, params.get("v_proj.weight"), dt, false);
        double[] dxu = gemm(backend, gu0, rows, d1, false, params.get("u_proj.weight"), dt, false);
        for (int i = 0; i < dx.length; i++) dx[i] += dxu[i];

        Map<String, Tensor> out = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Tensor> p : params.entrySet()) {
                out.put(p.getKey(), TnoTensors.write(grads.get(p.getKey()), dt, p.getValue().shape()));
            }
            return new LayerGrads(TnoTensors.write(dx, dt, x.shape()), out);
        } catch (RuntimeException | Error ex) {
            out.values().forEach(Tensor::close);
            throw ex;
        }
    }

    private int[] checkInput(Tensor x, String arg) {
        if (x == null || x.rank() != 3 || x.dim(2) != config.embedDim || x.dim(0) < 1 || x.dim(1) < 1
                || (x.dtype() != DType.FLOAT32 && x.dtype() != DType.FLOAT64)) {
            throw new LongConvException(NAME, arg, "[B, L>=1, embed_dim=" + config.embedDim + "] float32 or float64",
                    x == null ? "null" : x.dtype() + Arrays.toString(x.shape()));
        }
        return new int[] {Math.toIntExact(x.dim(0)), Math.toIntExact(x.dim(1))};
    }
}
