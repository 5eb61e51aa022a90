package dev.longconv.layers;

import dev.longconv.Tensor;

import java.util.Map;

/**
 * Float64 references of the TNN layers written straight from tnn-pytorch's definitions, independent
 * of the layer code: per-element activations with an erf by quadrature, norms row by row, the Rpe MLP
 * as nested loops, and Toeplitz products as dense matrices. Parameters are read from the state_dict
 * by name. Slow on purpose; for small shapes only.
 */
final class TnnReference {
    private TnnReference() {}

    /** erf by composite Simpson quadrature of 2/√π e^{-t²} (20000 panels: error far below 1e-13). */
    static double erf(double x) {
        int n = 20000;
        double h = x / n, s = 1 + Math.exp(-x * x);
        for (int i = 1; i < n; i++) {
            double t = i * h;
            s += (i % 2 == 1 ? 4 : 2) * Math.exp(-t * t);
        }
        return 2 / Math.sqrt(Math.PI) * s * h / 3;
    }

    /**
     * erfc(u) = 2/√π ∫_u^∞ e^{-t²} dt for u >= 0 by the same quadrature over [u, u + 12] (the rest is below e^{-144}
     * of the integrand's start), so that x Φ(x) deep in the negative tail does not come from 1 + erf cancelling.
     */
    static double erfc(double u) {
        int n = 20000;
        double h = 12.0 / n, s = Math.exp(-u * u) + Math.exp(-(u + 12) * (u + 12));
        for (int i = 1; i < n; i++) {
            double t = u + i * h;
            s += (i % 2 == 1 ? 4 : 2) * Math.exp(-t * t);
        }
        return 2 / Math.sqrt(Math.PI) * s * h / 3;
    }

    static double act(String name, double x) {
        return switch (name) {
            case "none" -> x;
            case "relu" -> Math.max(x, 0);
            case "silu" -> x / (1 + Math.exp(-x));
            case "gelu" -> x < 0 ? x * 0.5 * erfc(-x / Math.sqrt(2)) : x * 0.5 * (1 + erf(x / Math.sqrt(2)));
            case "elu" -> x > 0 ? x : Math.exp(x) - 1;
            case "sigmoid" -> 1 / (1 + Math.exp(-x));
            case "exp" -> Math.exp(x);
            case "leak" -> x > 0 ? x : 0.01 * x;
            case "1+elu" -> 1 + (x > 0 ? x : Math.exp(x) - 1);
            case "2+elu" -> 2 + (x > 0 ? x : Math.exp(x) - 1);
            default -> throw new IllegalArgumentException(name);
        };
    }

    static double[] vec(Map<String, Tensor> sd, String name) {
        return sd.get(name).toDoubleArray();
    }

    /** One row through norm_type (module prefix p, e.g. "rpe.layers.0.0."). */
    static double[] norm(String type, double[] x, Map<String, Tensor> sd, String p) {
        int d = x.length;
        double[] y = new double[d];
        double sumSq = 0, sum = 0;
        for (double v : x) {
            sumSq += v * v;
            sum += v;
        }
        switch (type) {
            case "simplermsnorm", "rmsnorm", "gatedrmsnorm" -> {
                double rms = Math.sqrt(sumSq) * Math.pow(d, -0.5);
                for (int i = 0; i < d; i++) {
                    y[i] = x[i] / (rms + 1e-8);
                    if (!type.equals("simplermsnorm")) y[i] *= vec(sd, p + "scale")[i];
                    if (type.equals("gatedrmsnorm")) y[i] *= 1 / (1 + Math.exp(-vec(sd, p + "gate")[i] * x[i]));
                }
            }
            case "scalenorm" -> {
                double q = 1 / Math.sqrt(sumSq / d + 1e-5);
                for (int i = 0; i < d; i++) y[i] = x[i] * q * vec(sd, p + "scala")[0];
            }
            case "layernorm" -> {
                double mu = sum / d, var = 0;
                for (double v : x) var += (v - mu) * (v - mu);
                var /= d;
                for (int i = 0; i < d; i++) y[i] = (x[i] - mu) / Math.sqrt(var + 1e-5) * vec(sd, p + "weight")[i] + vec(sd, p + "bias")[i];
            }
            default -> throw new IllegalArgumentException(type);
        }
        return y;
    }

    /** y = W x + b for W [out, in] stored under p + "weight" and the bias when present. */
    static double[] linear(double[] x, Map<String, Tensor> sd, String p) {
        Tensor w = sd.get(p + "weight");
        int out = (int) w.dim(0), in = (int) w.dim(1);
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double acc = sd.containsKey(p + "bias") ? sd.get(p + "bias").get(o) : 0;
            for (int i = 0; i < in; i++) acc += w.get(o, i) * x[i];
            y[o] = acc;
        }
        return y;
    }

    /** Rpe.forward at one position: pos_proj, blocks [norm, act, Linear] (+ residual), out. */
    static double[] rpe(double pos, Map<String, Tensor> sd, String p, int layers, boolean residual, String act, String normType) {
        double[] h = linear(new double[] {pos}, sd, p + "pos_proj.");
        for (int i = 0; i <= layers; i++) {
            String block = i < layers ? p + "layers." + i + "." : p + "out.";
            double[] n = norm(normType, h, sd, block + "0.");
            for (int j = 0; j < n.length; j++) n[j] = act(act, n[j]);
            double[] y = linear(n, sd, block + "2.");
            if (i < layers && residual) for (int j = 0; j < y.length; j++) y[j] += h[j];
            h = y;
        }
        return h;
    }

    /** Upstream's positions: j, j/(n) or exp(j/n) with n = L-1, computed in float32 as torch does for par_type 2, 3. */
    static double position(int parType, int j, int len) {
        if (parType == 1) return j;
        if (j == 0) return parType == 2 ? 0 : 1;
        float q = (float) j / (float) (len - 1);
        return parType == 2 ? q : (float) Math.exp(q);
    }

    /** TNO coefficients a[lag][h*dim + c] for lags -(L-1)..(L-1) (index lag + L - 1); causal: zero below lag 0. */
    static double[][] tnoCoefficients(Map<String, Tensor> sd, String p, Tno.Config c, String act, String actType, String normType, int len) {
        int ch = c.h() * c.dim();
        double[][] a = new double[2 * len - 1][ch];
        for (int lag = -(len - 1); lag < len; lag++) {
            if (c.causal() && lag < 0) continue;
            double[] r = rpe(position(c.parType(), lag, len), sd, p + "rpe.", c.layers(), c.residual(), act, normType);
            for (int q = 0; q < ch; q++) {
                double v = r[q];
                if (lag != 0 && (c.useDecay() || c.useMultiDecay())) {
                    double g = sd.get(p + "gamma").getFlat(q);
                    double gamma = c.useDecay() ? g : c.gamma() + (1 - c.gamma()) / (1 + Math.exp(-g));
                    v *= Math.pow(gamma, Math.abs(lag));
                }
                a[lag + len - 1][q] = act(actType, v);
            }
        }
        return a;
    }

    /** TNO on x [B, H, L, dim] with dense Toeplitz matrices T[t][s] = a[t-s]; divided by T 1 when normalize. */
    static double[][][][] tno(double[][][][] x, double[][] a, Tno.Config c) {
        int b = x.length, h = x[0].length, len = x[0][0].length, d = x[0][0][0].length;
        double[][][][] y = new double[b][h][len][d];
        for (int hh = 0; hh < h; hh++) {
            for (int cc = 0; cc < d; cc++) {
                int q = hh * d + cc;
                double[][] t = new double[len][len];
                for (int i = 0; i < len; i++) for (int j = 0; j < len; j++) t[i][j] = a[i - j + len - 1][q];
                for (int bb = 0; bb < b; bb++) {
                    for (int i = 0; i < len; i++) {
                        double acc = 0, den = 0;
                        for (int j = 0; j < len; j++) {
                            acc += t[i][j] * x[bb][hh][j][cc];
                            den += t[i][j];
                        }
                        y[bb][hh][i][cc] = c.normalize() ? acc / den : acc;
                    }
                }
            }
        }
        return y;
    }

    static double[][][][] toArray4(Tensor t) {
        int b = (int) t.dim(0), h = (int) t.dim(1), l = (int) t.dim(2), d = (int) t.dim(3);
        double[][][][] out = new double[b][h][l][d];
        for (int i = 0; i < b; i++) for (int j = 0; j < h; j++) for (int k = 0; k < l; k++) for (int m = 0; m < d; m++) out[i][j][k][m] = t.get(i, j, k, m);
        return out;
    }

    static Tensor fromArray4(double[][][][] a) {
        int b = a.length, h = a[0].length, l = a[0][0].length, d = a[0][0][0].length;
        Tensor t = Tensor.zeros(dev.longconv.DType.FLOAT64, b, h, l, d);
        for (int i = 0; i < b; i++) for (int j = 0; j < h; j++) for (int k = 0; k < l; k++) for (int m = 0; m < d; m++) t.set(a[i][j][k][m], i, j, k, m);
        return t;
    }
}
