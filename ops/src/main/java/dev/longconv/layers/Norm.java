package dev.longconv.layers;

import dev.longconv.Tensor;
import dev.longconv.simd.NativeSegments;
import dev.longconv.simd.Simd;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * One normalization module over the last axis (d features), with its live parameter tensors. Rows are
 * normalized in double; {@link #bind()} reads the current parameter values once per pass, so tests that
 * perturb the tensors in place see the change on the next pass.
 */
public final class Norm {
    static final double RMS_EPS = 1e-8;
    static final double SCALE_EPS = 1e-5;
    private static final double LAYER_EPS = 1e-5;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final boolean VECTOR = Simd.status().available();

    private final NormType type;
    private final int d;
    private final List<Tensor> params;

    /** {@code params} in the order of {@link NormType#parameterNames()}, already shape-checked. */
    Norm(NormType type, int d, List<Tensor> params) {
        this.type = type;
        this.d = d;
        this.params = List.copyOf(params);
    }

    public NormType type() {
        return type;
    }

    public int features() {
        return d;
    }

    /**
     * The positive factor an RMS-type or scale norm multiplies a row of d values by, from its sum of squares, before
     * the norm's own scale and gate (RMS's per value, scale's scala): 1 / (rms + 1e-8), or 1 / sqrt(mean square + 1e-5).
     */
    static double factor(NormType type, double sumSquares, int d) {
        return switch (type) {
            case SIMPLE_RMS, RMS, GATED_RMS -> 1 / (Math.sqrt(sumSquares) / Math.sqrt(d) + RMS_EPS);
            case SCALE -> 1 / Math.sqrt(sumSquares / d + SCALE_EPS);
            default -> throw new IllegalArgumentException("no single factor for " + type);
        };
    }

    /** Scratch for {@link Bound#forwardFloat} of any norm: one array per thread that runs it at a time. */
    static float[] floatScratch() {
        return new float[VECTOR ? VectorNorms.scratchLength() : 0];
    }

    /** The norm with its parameters read as doubles, for one forward or backward pass. */
    Bound bind() {
        double[][] p = new double[params.size()][];
        for (int i = 0; i < p.length; i++) p[i] = params.get(i).toDoubleArray();
        return new Bound(p);
    }

    /** One pass's parameter values. Parameter gradients accumulate into arrays shaped like {@code p}. */
    final class Bound {
        private final double[][] p;
        /** The RMS norm's per-element scale as float32, for {@link #forwardFloat} on lanes; null for the other types. */
        private final float[] scale32;

        private Bound(double[][] p) {
            this.p = p;
            if (type == NormType.RMS) {
                scale32 = new float[d];
                for (int i = 0; i < d; i++) scale32[i] = (float) p[0][i];
            } else {
                scale32 = null;
            }
        }

        double[][] newGradients() {
            double[][] g = new double[p.length][];
            for (int i = 0; i < p.length; i++) g[i] = new double[p[i].length];
            return g;
        }

        /** y[yo..yo+d) = norm(x[xo..xo+d)). */
        void forward(double[] x, int xo, double[] y, int yo) {
            switch (type) {
                case SIMPLE_RMS, RMS, GATED_RMS -> {
                    double inv = 1 / (rms(x, xo) + RMS_EPS);
                    for (int i = 0; i < d; i++) {
                        double v = x[xo + i] * inv;
                        if (type != NormType.SIMPLE_RMS) v *= p[0][i];
                        if (type == NormType.GATED_RMS) v *= Activation.sigmoid(p[1][i] * x[xo + i]);
                        y[yo + i] = v;
                    }
                }
                case SCALE -> {
                    double q = 1 / Math.sqrt(meanSquare(x, xo) + SCALE_EPS);
                    for (int i = 0; i < d; i++) y[yo + i] = x[xo + i] * q * p[0][0];
                }
                case LAYER -> {
                    double mu = mean(x, xo), q = 1 / Math.sqrt(variance(x, xo, mu) + LAYER_EPS);
                    for (int i = 0; i < d; i++) y[yo + i] = (x[xo + i] - mu) * q * p[0][i] + p[1][i];
                }
            }
        }

        /**
         * {@link #forward} on each of {@code rows} consecutive rows of d float32 values (element offsets; y may be x).
         * The RMS-type norms (simple, RMS, scale) run on float lanes where the Vector API is readable ({@link
         * VectorNorms}: squares summed by fused multiply-adds into W float partial sums, added across the lanes in float;
         * the factor computed in float64 from that sum, rounded to float32 and applied in float32), a few float32 ulps
         * from the float64 form; rows of whole vectors in blocks of flat loops, through {@code scratch} ({@link
         * Norm#floatScratch()}, one per concurrent caller). The others, every norm without the Vector API, and rows over
         * heap memory (the lane loops take native segments only: {@link NativeSegments}) sum their statistics in float64
         * from the float32 values and round each output once to float32.
         */
        void forwardFloat(MemorySegment x, long xo, MemorySegment y, long yo, int rows, float[] scratch) {
            forwardFloat(x, xo, y, yo, rows, scratch, false);
        }

        /**
         * {@link #forwardFloat(MemorySegment, long, MemorySegment, long, int, float[])}, followed by a ReLU where
         * {@code relu} and the rows take the flat lane loops: returns whether it applied the ReLU (then the caller's
         * activation pass over the rows is not needed; otherwise it is).
         */
        boolean forwardFloat(MemorySegment x, long xo, MemorySegment y, long yo, int rows, float[] scratch, boolean relu) {
            boolean lanes = laneType() && NativeSegments.allNative(x, y, null);
            if (lanes && VectorNorms.flat(d)) {
                for (int first = 0; first < rows; first += VectorNorms.BLOCK) {
                    int n = Math.min(VectorNorms.BLOCK, rows - first);
                    long xb = xo + (long) first * d, yb = yo + (long) first * d;
                    blockFactors(x, xb, n, scratch);
                    VectorNorms.scaleRows(x, xb, scratch, VectorNorms.factorsAt(), scale32, y, yb, n, d, relu);
                }
                return relu;
            }
            for (int r = 0; r < rows; r++) {
                long xr = xo + (long) r * d, yr = yo + (long) r * d;
                if (lanes) {
                    VectorNorms.scale(x, xr, laneFactor(VectorNorms.sumSquares(x, xr, d)), scale32, y, yr, d);
                } else {
                    forwardFloatRow(x, xr, y, yr);
                }
            }
            return false;
        }

        /**
         * Whether {@link #forwardFloatRows} takes rows of x: an RMS-type norm on float lanes over rows of whole vectors
         * in native memory (the flat form of {@link #forwardFloat}).
         */
        boolean takesFloatRows(MemorySegment x) {
            return laneType() && NativeSegments.isNative(x) && VectorNorms.flat(d);
        }

        /** Whether this norm's type has the lane form (one factor per row) and the Vector API is readable. */
        private boolean laneType() {
            return VECTOR && type != NormType.GATED_RMS && type != NormType.LAYER;
        }

        /** The factors of a block's n rows from x[xb..] into scratch from {@link VectorNorms#factorsAt}, their sums of squares before it. */
        private void blockFactors(MemorySegment x, long xb, int n, float[] scratch) {
            VectorNorms.partialSquares(x, xb, n, d, scratch);
            int factors = VectorNorms.factorsAt();
            for (int r = 0; r < n; r++) scratch[factors + r] = laneFactor(scratch[r]);
        }

        /**
         * {@link #forwardFloat} followed by a ReLU, into y[yo..] (rows back to back), where {@link #takesFloatRows}: the
         * same steps and bits, the output in a float array that a GEMM reads as its A without copying it ({@link
         * dev.longconv.ops.spi.BiasedGemm#gemmRowsInto}).
         */
        void forwardFloatRows(MemorySegment x, long xo, float[] y, int yo, int rows, float[] scratch) {
            if (!takesFloatRows(x)) throw new IllegalStateException("forwardFloatRows: " + type + " at d=" + d + " takes no float rows here");
            for (int first = 0; first < rows; first += VectorNorms.BLOCK) {
                int n = Math.min(VectorNorms.BLOCK, rows - first);
                long xb = xo + (long) first * d;
                blockFactors(x, xb, n, scratch);
                VectorNorms.scaleRowsInto(x, xb, scratch, VectorNorms.factorsAt(), scale32, y, yo + first * d, n, d, true);
            }
        }

        /** The float32 factor of a simple, RMS or scale norm from the row's sum of squares (the lane form). */
        private float laneFactor(double sq) {
            return (float) (type == NormType.SCALE ? p[0][0] / Math.sqrt(sq / d + SCALE_EPS) : factor(type, sq, d));
        }

        /** One row of {@link #forwardFloat} without lanes: statistics in float64, each output rounded once. */
        private void forwardFloatRow(MemorySegment x, long xo, MemorySegment y, long yo) {
            double s = 0, sq = 0;
            for (int i = 0; i < d; i++) {
                double v = x.getAtIndex(F32, xo + i);
                s += v;
                sq += v * v;
            }
            switch (type) {
                case SIMPLE_RMS, RMS, GATED_RMS -> {
                    double inv = factor(type, sq, d);
                    for (int i = 0; i < d; i++) {
                        double xi = x.getAtIndex(F32, xo + i), v = xi * inv;
                        if (type != NormType.SIMPLE_RMS) v *= p[0][i];
                        if (type == NormType.GATED_RMS) v *= Activation.sigmoid(p[1][i] * xi);
                        y.setAtIndex(F32, yo + i, (float) v);
                    }
                }
                case SCALE -> {
                    double q = p[0][0] / Math.sqrt(sq / d + SCALE_EPS);
                    for (int i = 0; i < d; i++) y.setAtIndex(F32, yo + i, (float) (x.getAtIndex(F32, xo + i) * q));
                }
                case LAYER -> {
                    double mu = s / d, var = 0;
                    for (int i = 0; i < d; i++) {
                        double c = x.getAtIndex(F32, xo + i) - mu;
                        var += c * c;
                    }
                    double q = 1 / Math.sqrt(var / d + LAYER_EPS);
                    for (int i = 0; i < d; i++) y.setAtIndex(F32, yo + i, (float) ((x.getAtIndex(F32, xo + i) - mu) * q * p[0][i] + p[1][i]));
                }
            }
        }

        /** gx[gxo..] = (d norm/dx)^T g[go..] at x[xo..]; parameter gradients add into gp. */
        void backward(double[] x, int xo, double[] g, int go, double[] gx, int gxo, double[][] gp) {
            switch (type) {
                case SIMPLE_RMS, RMS, GATED_RMS -> {
                    double r = rms(x, xo), inv = 1 / (r + RMS_EPS);
                    // Upstream of the plain normalization n = x / (r + eps): gn.
                    double[] gn = new double[d];
                    for (int i = 0; i < d; i++) {
                        double gi = g[go + i], xi = x[xo + i];
                        if (type == NormType.SIMPLE_RMS) {
                            gn[i] = gi;
                            continue;
                        }
                        double n = xi * inv;
                        if (type == NormType.RMS) {
                            gp[0][i] += gi * n;
                            gn[i] = gi * p[0][i];
                        } else {
                            double s = Activation.sigmoid(p[1][i] * xi);
                            gp[0][i] += gi * n * s;
                            double gs = gi * p[0][i] * n * s * (1 - s); // d/d(gate·x) of the sigmoid factor
                            gp[1][i] += gs * xi;
                            gn[i] = gi * p[0][i] * s;
                            gx[gxo + i] = gs * p[1][i]; // direct path through sigmoid(gate ⊙ x); added to below
                        }
                    }
                    // n = x inv, inv = 1/(r+eps), r = ‖x‖/√d, dr/dx = x/(d r); zero when x = 0, as PyTorch's norm backward.
                    double dot = 0;
                    for (int i = 0; i < d; i++) dot += gn[i] * x[xo + i];
                    double c = r == 0 ? 0 : dot * inv * inv / (d * r);
                    boolean add = type == NormType.GATED_RMS;
                    for (int i = 0; i < d; i++) {
                        double v = gn[i] * inv - c * x[xo + i];
                        gx[gxo + i] = add ? gx[gxo + i] + v : v;
                    }
                }
                case SCALE -> {
                    double q = 1 / Math.sqrt(meanSquare(x, xo) + SCALE_EPS), s = p[0][0], dot = 0;
                    for (int i = 0; i < d; i++) dot += g[go + i] * x[xo + i];
                    gp[0][0] += dot * q;
                    double c = s * dot * q * q * q / d;
                    for (int i = 0; i < d; i++) gx[gxo + i] = s * q * g[go + i] - c * x[xo + i];
                }
                case LAYER -> {
                    double mu = mean(x, xo), q = 1 / Math.sqrt(variance(x, xo, mu) + LAYER_EPS);
                    double mg = 0, mgx = 0;
                    for (int i = 0; i < d; i++) {
                        double xh = (x[xo + i] - mu) * q, gh = g[go + i] * p[0][i];
                        gp[0][i] += g[go + i] * xh;
                        gp[1][i] += g[go + i];
                        mg += gh;
                        mgx += gh * xh;
                    }
                    mg /= d;
                    mgx /= d;
                    for (int i = 0; i < d; i++) {
                        double xh = (x[xo + i] - mu) * q;
                        gx[gxo + i] = q * (g[go + i] * p[0][i] - mg - xh * mgx);
                    }
                }
            }
        }
    }

    private double rms(double[] x, int xo) {
        double s = 0;
        for (int i = 0; i < d; i++) s += x[xo + i] * x[xo + i];
        return Math.sqrt(s) / Math.sqrt(d);
    }

    private double meanSquare(double[] x, int xo) {
        double s = 0;
        for (int i = 0; i < d; i++) s += x[xo + i] * x[xo + i];
        return s / d;
    }

    private double mean(double[] x, int xo) {
        double s = 0;
        for (int i = 0; i < d; i++) s += x[xo + i];
        return s / d;
    }

    private double variance(double[] x, int xo, double mu) {
        double s = 0;
        for (int i = 0; i < d; i++) s += (x[xo + i] - mu) * (x[xo + i] - mu);
        return s / d;
    }
}
