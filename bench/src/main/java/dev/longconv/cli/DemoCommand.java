package dev.longconv.cli;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.ShortConvMode;
import dev.longconv.Tensor;
import dev.longconv.layers.Activation;
import dev.longconv.layers.FdTno;
import dev.longconv.layers.Glu;
import dev.longconv.layers.Gtu;
import dev.longconv.layers.HankelVariant;
import dev.longconv.layers.Layer;
import dev.longconv.layers.NormType;
import dev.longconv.layers.SkiTno;
import dev.longconv.layers.SkiTnoRpe;
import dev.longconv.layers.Stu;
import dev.longconv.layers.StuFilters;
import dev.longconv.layers.StuLayer;
import dev.longconv.layers.TnnLayer;
import dev.longconv.layers.Tno;
import dev.longconv.ops.Backend;
import dev.longconv.ops.Backends;
import dev.longconv.ops.Reference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * {@code longconv demo}: every op on seeded random data at a few sizes, on every available backend,
 * timed and compared with the float64 reference. Exit code 0 only when every error is within tolerance.
 */
@Command(name = "demo", description = "Run every op on every available backend against the float64 reference; print time and error.")
final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the random inputs (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--repeats", defaultValue = "3", description = "Least timed runs per case; the fastest is shown (default: ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--warm-ms", defaultValue = "4000", description = "Untimed warm-up per backend before the table, the backends in turn (default: ${DEFAULT-VALUE}).")
    long warmMs;

    // The Vector API runs boxed until C2 compiles it, so a few cold calls would time the interpreter.
    @Option(names = "--time-ms", defaultValue = "150",
            description = "Keep repeating a case for this long per backend, the backends in turn, and on while a backend's best still improves by 5 %% (up to ten times as long); each one's fastest is shown (default: ${DEFAULT-VALUE}).")
    long timeMs;

    @Option(names = "--json", description = "Print the results and the per-backend summary as one JSON object instead of tables.")
    boolean json;

    /**
     * Channels of the op cases: 16 fills the vector backend's lanes at every width it runs (4 float lanes at 128 bits,
     * 8 at 256, 16 at 512), so the table shows what it is for; fewer channels than lanes leave lanes empty.
     */
    static final int CHANNELS = 16;

    /** A timed round whose time is below this fraction of the best so far counts as an improvement (5 %). */
    static final double IMPROVEMENT = 0.95;

    /** Rounds per case at most, however fast the case. */
    static final int MAX_ROUNDS = 20_000;

    /** One case: its inputs, how a backend runs it, how the reference runs it. */
    record Case(String op, String size, DType dtype, Function<Long, Tensor[]> inputs,
                BiFunction<Backend, Tensor[], Tensor> run, Function<Tensor[], Tensor> reference) {}

    static List<Case> cases() {
        List<Case> cs = new ArrayList<>();
        for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            int[] lengths = dt == DType.FLOAT32 ? new int[] {257, 4096} : new int[] {1009};
            for (int len : lengths) {
                for (Layout lay : Layout.values()) {
                    int dc = CHANNELS;
                    String sz = "B=2 D=" + dc + " L=" + len + " " + lay;
                    long[] xs = lay.seqShape(2, dc, len);
                    cs.add(new Case("causal-conv", sz + " Lk=L", dt,
                            s -> new Tensor[] {Tensor.random(dt, s, xs), Tensor.random(dt, s + 1, lay.kernelShape(dc, len))},
                            (b, t) -> b.causalConv(t[0], t[1], lay), t -> Reference.causalConv(t[0], t[1], lay)));
                    cs.add(new Case("toeplitz-conv", sz, dt,
                            s -> new Tensor[] {Tensor.random(dt, s, xs), Tensor.random(dt, s + 1, lay.kernelShape(dc, 2L * len - 1))},
                            (b, t) -> b.toeplitzConv(t[0], t[1], lay), t -> Reference.toeplitzConv(t[0], t[1], lay)));
                    cs.add(new Case("short-conv", sz + " W=4 causal", dt,
                            s -> new Tensor[] {Tensor.random(dt, s, xs), Tensor.random(dt, s + 1, lay.kernelShape(dc, 4)), Tensor.random(dt, s + 2, dc)},
                            (b, t) -> b.shortConv(t[0], t[1], t[2], ShortConvMode.CAUSAL, lay),
                            t -> Reference.shortConv(t[0], t[1], t[2], ShortConvMode.CAUSAL, lay)));
                    cs.add(new Case("ski", sz + " r=32", dt,
                            s -> new Tensor[] {Tensor.random(dt, s, xs), Tensor.random(dt, s + 1, lay.kernelShape(dc, 63))},
                            (b, t) -> b.ski(t[0], t[1], lay), t -> Reference.ski(t[0], t[1], lay)));
                }
                int n = Math.min(len, 2048) & ~1;
                cs.add(new Case("causal-spectrum", "D=2 N=" + n, dt, s -> new Tensor[] {Tensor.random(dt, s, 2, n / 2 + 1)},
                        (b, t) -> b.causalSpectrum(t[0], n), t -> Reference.causalSpectrum(t[0], n)));
                int m = Math.min(len, 2048);
                cs.add(new Case("rfft", "[2, " + m + "]", dt, s -> new Tensor[] {Tensor.random(dt, s, 2, m)},
                        (b, t) -> b.rfft(t[0], m), t -> Reference.rfft(t[0], m)));
                cs.add(new Case("irfft", "[2, " + (m / 2 + 1) + ", 2] N=" + m, dt, s -> new Tensor[] {Tensor.random(dt, s, 2, m / 2 + 1, 2)},
                        (b, t) -> b.irfft(t[0], m), t -> Reference.irfft(t[0], m)));
                int g = dt == DType.FLOAT32 ? 192 : 97;
                cs.add(new Case("gemm", g + "x" + g + "x" + g, dt, s -> new Tensor[] {Tensor.random(dt, s, g, g), Tensor.random(dt, s + 1, g, g)},
                        (b, t) -> b.gemm(t[0], t[1], false, false), t -> Reference.gemm(t[0], t[1], false, false)));
            }
        }
        cs.addAll(layerCases());
        return cs;
    }

    /** Random float64 parameters of the given shapes, seeded by their order. */
    static Map<String, Tensor> randomState(Map<String, long[]> shapes, long seed) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) m.put(e.getKey(), Tensor.random(DType.FLOAT64, seed++, e.getValue()));
        return m;
    }

    /**
     * The layers in float32 on each backend against the same layer (same float64 weights) run in float64 on the
     * scalar backend, which the layer tests check against dense float64 definitions. The weights live as long
     * as the process.
     */
    static List<Case> layerCases() {
        List<Case> cs = new ArrayList<>();
        int lenStu = 1024, d = 32, k = 24;
        Tensor phi = StuFilters.compute(lenStu, k, HankelVariant.HANKEL);
        Map<String, Tensor> approx = randomState(Map.of("M_inputs", new long[] {d, d}, "M_filters", new long[] {k, d}), 11);
        layerCase(cs, new Stu(new Stu.Config(Stu.Mode.APPROX, false), phi, approx), "B=1 L=1024 D=32 K=24 approx", 1, lenStu, d);
        Map<String, Tensor> exact = randomState(Map.of("M_phi_plus", new long[] {8, 8, 8}, "M_phi_minus", new long[] {8, 8, 8}), 21);
        layerCase(cs, new Stu(new Stu.Config(Stu.Mode.EXACT, false), phi.slice(1, 0, 8).contiguous(), exact), "B=1 L=256 D=8 K=8 exact", 1, 256, 8);
        layerCase(cs, new SkiTno(new SkiTno.Config(64, 0.99), Tensor.random(DType.FLOAT64, 31, 16, 5), Tensor.random(DType.FLOAT64, 32, 16, 33)),
                "B=2 L=1024 D=16 r=64 nk=5", 2, 1024, 16);
        Tno.Config tno = Tno.Config.defaults(2, 16, 32);
        layerCase(cs, new Tno(tno, randomState(Tno.shapes(tno, ""), 41)), "B=1 H=2 L=1024 dim=16 rpe_dim=32", 1, 2, 1024, 16);
        Gtu.Config gtu = Gtu.Config.defaults(32, 2);
        layerCase(cs, new Gtu(gtu, randomState(Gtu.shapes(gtu), 51)), "B=1 L=512 E=32 heads=2", 1, 512, 32);
        FdTno.Config fd = FdTno.Config.defaults(2, 8, 32);
        layerCase(cs, new FdTno(fd, randomState(FdTno.shapes(fd), 61)), "B=1 H=2 L=1024 dim=8 rpe_dim=32", 1, 2, 1024, 8);
        SkiTnoRpe.Config ski = new SkiTnoRpe.Config(2, 8, 32, 5, false, 16, false, Activation.RELU, true, 3, NormType.SIMPLE_RMS, Activation.NONE, 0.999);
        Map<String, Tensor> skiState = new LinkedHashMap<>(randomState(SkiTnoRpe.learned(ski, ""), 71));
        skiState.put("gamma", Tensor.of(new double[] {(float) 0.999}, 1));
        layerCase(cs, new SkiTnoRpe(ski, skiState), "B=1 L=1024 H*dim=16 r=32 nk=5", 1, 1024, 16);
        Glu.Config glu = new Glu.Config(32, 64, Activation.SILU, Activation.NONE, true);
        layerCase(cs, new Glu(glu, randomState(Glu.shapes(glu, ""), 81)), "B=1 L=1024 d1=32 d2=64", 1, 1024, 32);
        TnnLayer.Config tnn = TnnLayer.Config.defaults(32, 2, 32, 64);
        layerCase(cs, new TnnLayer(tnn, randomState(TnnLayer.shapes(tnn), 91)), "B=1 L=512 dim=32 heads=2", 1, 512, 32);
        Map<String, Tensor> block = randomState(Map.of("stu_norm.weight", new long[] {d}, "mlp_norm.weight", new long[] {d},
                "mlp.gate_proj.weight", new long[] {2 * d, d}, "mlp.up_proj.weight", new long[] {2 * d, d}, "mlp.down_proj.weight", new long[] {d, 2 * d}), 101);
        layerCase(cs, new StuLayer(new StuLayer.Config(d, 2 * d, false, StuLayer.GateActivation.GELU_TANH, Double.NaN),
                new Stu(new Stu.Config(Stu.Mode.APPROX, false), phi, approx), block), "B=1 L=1024 D=32 K=24 approx", 1, lenStu, d);
        return cs;
    }

    private static void layerCase(List<Case> cs, Layer layer, String size, long... xShape) {
        Backend scalar = Backends.get("scalar");
        cs.add(new Case(layer.name(), size, DType.FLOAT32, s -> new Tensor[] {Tensor.random(DType.FLOAT32, s, xShape)},
                (b, t) -> layer.forward(b, t[0]),
                t -> {
                    try (Tensor x64 = t[0].to(DType.FLOAT64)) {
                        return layer.forward(scalar, x64);
                    }
                }));
    }

    /** One timed result: a case on a backend. */
    record Row(int caseIndex, String op, String size, DType dtype, String backend, double bestMs, double error, double tolerance) {
        boolean ok() {
            return error <= tolerance;
        }
    }

    /** A backend's summary over the cases it ran: geometric-mean speedup over scalar on the same cases, worst error. */
    record Summary(String backend, int cases, double geomeanSpeedupOverScalar, double worstError, String worstCase) {}

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        List<Backend> backends = Backends.available();
        List<Case> cs = cases();
        ProgressBar bar = new ProgressBar(spec.commandLine().getErr(), cs.size() * (1 + backends.size()) + backends.size());
        List<Row> rows = new ArrayList<>();
        warmUp(backends, cs, bar);
        long caseSeed = seed;
        for (Case c : cs) {
            Tensor[] in = c.inputs.apply(caseSeed++);
            try {
                bar.step(c.op + " " + c.size + " reference");
                Tensor ref = c.reference.apply(in);
                try (ref) {
                    List<Backend> runners = backends.stream().filter(b -> runs(b, c.dtype)).toList();
                    for (Backend b : runners) bar.step(c.op + " " + c.size + " " + b.name());
                    double[] best = new double[runners.size()], err = new double[runners.size()];
                    Arrays.fill(best, Double.MAX_VALUE);
                    // Round robin over the backends, so each sees the same machine state (a busy second core, a GC).
                    // Past the budget, rounds go on while some backend's best still improves (C2 finishing a kernel
                    // late), up to ten budgets.
                    long start = System.nanoTime(), budget = timeMs * 1_000_000 * runners.size(), improved = start;
                    for (int r = 0; ; r++) {
                        long now = System.nanoTime();
                        boolean more = r < Math.max(1, repeats) || now - start < budget || (now - improved < budget / 2 && now - start < 10 * budget);
                        if (!more || r >= MAX_ROUNDS) break;
                        for (int i = 0; i < runners.size(); i++) {
                            long t0 = System.nanoTime();
                            try (Tensor y = c.run.apply(runners.get(i), in)) {
                                double ms = (System.nanoTime() - t0) / 1e6;
                                if (ms < best[i] * IMPROVEMENT) improved = System.nanoTime();
                                best[i] = Math.min(best[i], ms);
                                if (r == 0) err[i] = relL2(y, ref);
                            }
                        }
                    }
                    for (int i = 0; i < runners.size(); i++) {
                        rows.add(new Row(caseSeed - seed - 1 >= 0 ? (int) (caseSeed - seed - 1) : 0, c.op, c.size, c.dtype, runners.get(i).name(),
                                best[i], err[i], c.dtype == DType.FLOAT32 ? 1e-5 : 1e-10));
                    }
                }
            } finally {
                for (Tensor t : in) t.close();
            }
        }
        bar.done();
        boolean allOk = rows.stream().allMatch(Row::ok);
        List<Summary> summary = summarize(rows, backends);
        if (json) {
            out.println(toJson(rows, summary, allOk));
        } else {
            out.println("backends here, and what each is for:");
            for (Backend b : backends) out.printf("  %-7s %s%n", b.name(), purpose(b.name()));
            out.println();
            List<String[]> table = new ArrayList<>();
            for (Row r : rows) {
                table.add(new String[] {r.op(), r.size(), r.dtype().toString(), r.backend(), String.format("%.3f", r.bestMs()),
                        String.format("%.2e", r.error()), String.format("%.0e", r.tolerance()), r.ok() ? "ok" : "FAIL"});
            }
            printTable(out, new String[] {"op", "size", "dtype", "backend", "time ms", "rel L2 err", "tolerance", ""}, table);
            out.println();
            List<String[]> sum = new ArrayList<>();
            for (Summary s : summary) {
                sum.add(new String[] {s.backend(), Integer.toString(s.cases()),
                        Double.isNaN(s.geomeanSpeedupOverScalar()) ? "-" : String.format("%.2fx", s.geomeanSpeedupOverScalar()),
                        String.format("%.2e", s.worstError()), s.worstCase()});
            }
            printTable(out, new String[] {"backend", "cases", "speedup over scalar (geomean)", "worst rel L2 err", "worst case"}, sum);
            out.println(allOk ? "all results within tolerance" : "SOME RESULTS OUT OF TOLERANCE");
        }
        out.flush();
        return allOk ? 0 : 1;
    }

    /** One line on what a backend is for, with this machine's lane count for the vector backend. */
    static String purpose(String backend) {
        return switch (backend) {
            case "scalar" -> "portable plain Java, float64 arithmetic: runs on any JVM; the baseline the others are measured against";
            case "vector" -> {
                var s = dev.longconv.simd.Simd.status();
                int lanes = s.available() ? s.bits() / 32 : 0;
                yield "Vector API, float32, one channel per lane (" + lanes + " float lanes here): fastest on the CPU once a layer has "
                        + "at least " + lanes + " channels; float64 runs the scalar code";
            }
            case "cuda" -> "NVIDIA GPU, float32 (these times include copying host tensors to the GPU and back)";
            default -> "";
        };
    }

    /**
     * Per backend: the geometric mean over its cases of scalar's time divided by its time (cases both ran), and its worst
     * relative error with the case.
     */
    static List<Summary> summarize(List<Row> rows, List<Backend> backends) {
        Map<String, Double> scalarMs = new LinkedHashMap<>();
        for (Row r : rows) if (r.backend().equals("scalar")) scalarMs.put(key(r), r.bestMs());
        List<Summary> out = new ArrayList<>();
        for (Backend b : backends) {
            double logSum = 0, worst = 0;
            int n = 0, cases = 0;
            String worstCase = "";
            for (Row r : rows) {
                if (!r.backend().equals(b.name())) continue;
                cases++;
                if (r.error() >= worst) {
                    worst = r.error();
                    worstCase = r.op() + " " + r.size() + " " + r.dtype();
                }
                Double s = scalarMs.get(key(r));
                if (s != null && s > 0 && r.bestMs() > 0) {
                    logSum += Math.log(s / r.bestMs());
                    n++;
                }
            }
            out.add(new Summary(b.name(), cases, n == 0 ? Double.NaN : Math.exp(logSum / n), worst, worstCase));
        }
        return out;
    }

    private static String key(Row r) {
        return Integer.toString(r.caseIndex());
    }

    static String toJson(List<Row> rows, List<Summary> summary, boolean allOk) {
        StringBuilder b = new StringBuilder("{\"results\": [");
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            b.append(i == 0 ? "\n  " : ",\n  ").append(String.format(java.util.Locale.ROOT,
                    "{\"op\": %s, \"size\": %s, \"dtype\": %s, \"backend\": %s, \"time_ms\": %.6g, \"rel_l2_error\": %s, \"tolerance\": %.0e, \"ok\": %b}",
                    quote(r.op()), quote(r.size()), quote(r.dtype().toString()), quote(r.backend()), r.bestMs(), number(r.error()),
                    r.tolerance(), r.ok()));
        }
        b.append("\n], \"summary\": [");
        for (int i = 0; i < summary.size(); i++) {
            Summary s = summary.get(i);
            b.append(i == 0 ? "\n  " : ",\n  ").append(String.format(java.util.Locale.ROOT,
                    "{\"backend\": %s, \"purpose\": %s, \"cases\": %d, \"geomean_speedup_over_scalar\": %s, \"worst_rel_l2_error\": %s, \"worst_case\": %s}",
                    quote(s.backend()), quote(purpose(s.backend())), s.cases(), number(s.geomeanSpeedupOverScalar()), number(s.worstError()),
                    quote(s.worstCase())));
        }
        return b.append("\n], \"all_within_tolerance\": ").append(allOk).append("}").toString();
    }

    private static String number(double v) {
        return Double.isFinite(v) ? String.format(java.util.Locale.ROOT, "%.6g", v) : "null";
    }

    private static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }

    /** The cuda backend computes in float32 only; its times include copying host tensors to the GPU and back. */
    private static boolean runs(Backend b, DType dtype) {
        return !(b.name().equals("cuda") && dtype == DType.FLOAT64);
    }

    /**
     * Runs every case on every backend untimed until each backend has spent about {@code warmMs} in its own calls,
     * the backends in turn within each case: the vector kernels only become vector instructions once C2 has compiled
     * them, and code the backends share (tensors, checks, plans' common steps) must have seen all of them before the
     * table, or the first timed rows of one backend pay for a recompilation that the other's calls caused. A fast
     * backend goes round the cases more often than a slow one, as its own warm-up would.
     */
    private void warmUp(List<Backend> backends, List<Case> cs, ProgressBar bar) {
        for (Backend b : backends) bar.step("warming up the JIT for " + b.name());
        long budget = warmMs * 1_000_000;
        long[] spent = new long[backends.size()];
        while (Arrays.stream(spent).anyMatch(t -> t < budget)) {
            boolean[] ran = new boolean[backends.size()];
            for (Case c : cs) {
                Tensor[] in = c.inputs.apply(seed);
                try {
                    for (int i = 0; i < backends.size(); i++) {
                        Backend b = backends.get(i);
                        if (spent[i] >= budget || !runs(b, c.dtype)) continue;
                        long t0 = System.nanoTime();
                        try (Tensor y = c.run.apply(b, in)) {
                            y.numel();
                        }
                        spent[i] += System.nanoTime() - t0;
                        ran[i] = true;
                    }
                } finally {
                    for (Tensor t : in) t.close();
                }
            }
            for (int i = 0; i < ran.length; i++) if (!ran[i]) spent[i] = budget; // a backend with no case here
        }
    }

    static double relL2(Tensor a, Tensor e) {
        double num = 0, den = 0;
        for (long i = 0, n = e.numel(); i < n; i++) {
            double d = a.getFlat(i) - e.getFlat(i);
            num += d * d;
            den += e.getFlat(i) * e.getFlat(i);
        }
        double r = den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
        return Double.isNaN(r) ? Double.POSITIVE_INFINITY : r;
    }

    static void printTable(PrintWriter out, String[] header, List<String[]> rows) {
        int[] w = new int[header.length];
        for (int i = 0; i < header.length; i++) w[i] = header[i].length();
        for (String[] r : rows) for (int i = 0; i < r.length; i++) w[i] = Math.max(w[i], r[i].length());
        StringBuilder fmt = new StringBuilder();
        for (int i = 0; i < w.length; i++) fmt.append(i >= 4 && i <= 6 ? "%" + w[i] + "s  " : "%-" + w[i] + "s  ");
        String f = fmt.toString().stripTrailing() + "%n";
        out.printf(f, (Object[]) header);
        for (String[] r : rows) out.printf(f, (Object[]) r);
    }
}
