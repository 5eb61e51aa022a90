package dev.longconv.layers;

import dev.longconv.DType;

/**
 * torch.nn.RMSNorm over the last d features: y = x / sqrt(mean(x²) + eps) ⊙ weight, with eps =
 * torch.finfo(dtype).eps when not given (1.19e-7 for float32, 2.22e-16 for float64), as flash-stu builds it
 * ({@code RMSNorm(n_embd)}). Rows are computed in double.
 */
final class TorchRmsNorm {
    private final int d;
    private final double eps;

    /** @param eps the epsilon, or NaN for the dtype's machine epsilon */
    TorchRmsNorm(int d, double eps) {
        this.d = d;
        this.eps = eps;
    }

    double eps(DType dt) {
        if (!Double.isNaN(eps)) return eps;
        return dt == DType.FLOAT32 ? Math.ulp(1.0f) : Math.ulp(1.0);
    }

    private double inverseRms(double[] x, int at, double e) {
        double s = 0;
        for (int i = 0; i < d; i++) s += x[at + i] * x[at + i];
        return 1 / Math.sqrt(s / d + e);
    }

    /** y = norm(x) for every row of x [rows, d]. */
    double[] forward(double[] x, double[] w, DType dt) {
        double e = eps(dt);
        double[] y = new double[x.length];
        for (int at = 0; at < x.length; at += d) {
            double r = inverseRms(x, at, e);
            for (int i = 0; i < d; i++) y[at + i] = x[at + i] * r * w[i];
        }
        return y;
    }

    /**
     * dx for g on every row; the weight's gradient is added to gw. With r = (mean(x²) + eps)^(-1/2):
     * dx_i = r w_i g_i - x_i r³ Σ_j g_j w_j x_j / d, dw_i = Σ_rows g_i x_i r.
     */
    double[] backward(double[] x, double[] w, double[] g, double[] gw, DType dt) {
        double e = eps(dt);
        double[] dx = new double[x.length];
        for (int at = 0; at < x.length; at += d) {
            double r = inverseRms(x, at, e), dot = 0;
            for (int i = 0; i < d; i++) {
                dot += g[at + i] * w[i] * x[at + i];
                gw[i] += g[at + i] * x[at + i] * r;
            }
            double c = dot * r * r * r / d;
            for (int i = 0; i < d; i++) dx[at + i] = r * w[i] * g[at + i] - c * x[at + i];
        }
        return dx;
    }
}
