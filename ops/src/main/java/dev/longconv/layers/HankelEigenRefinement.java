package dev.longconv.layers;

/**
 * Refinement of the top K eigenpairs of a Hankel matrix Z[i][j] = g[i + j] with products summed in compensated
 * (double-double) arithmetic, so that the result is the eigenvectors of the float64 matrix itself to far below the
 * level at which float64 solvers (LAPACK included) disagree: a Ritz step, then Newton steps per pair.
 *
 * <p>Why it is needed: an eigenvector whose eigenvalue θ sits far below ‖Z‖ is determined by a float64 solver
 * only to about ε ‖Z‖ / gap, and the STU spectrum decays geometrically (θ_24 ≈ 1e-14 ‖Z‖ at L = 1024), so the
 * last filters of a Lanczos solve with an FFT product differ from numpy's eigh by 1e-5 of the largest filter's
 * norm while two LAPACK drivers differ by 6e-7. A residual r = Z v - θ v summed exactly enough resolves it.
 *
 * <p>One step, for every column j with v_j, θ_j = v_j·Z v_j (v_j of unit norm): r_j = Z v_j - θ_j v_j, then the
 * correction δ_j solving (θ_j - Z) δ = r_j: inside the span of the K vectors by the first-order formula
 * Σ_{i≠j} v_i (v_i·r_j) / (θ_j - θ_i), outside it by conjugate gradients on (I - P)(θ_j - Z)(I - P), which is
 * positive definite there because θ_j exceeds every eigenvalue outside the top K. The inner products with Z
 * in the CG use the fast FFT product where it is accurate enough relative to θ_j and the compensated one
 * otherwise; only the residual must be exact, and it is. Steps repeat until the corrections stop changing the
 * vectors (at most {@link #MAX_STEPS}).
 *
 * <p>The Ritz step first ({@link #rayleighRitz}): near the rounding noise a float64 solver's vectors are mixtures,
 * and Newton from a mixture converges to whichever pair is nearest, not necessarily one of the K largest.
 *
 * <p>Checked against 40-digit eigenvectors (mpmath) of the float64 matrix at L = 16, 32, 128, 257: the filters agree
 * to 2e-14 of the largest filter's norm, where numpy's eigh is off by 4e-5 to 7e-5.
 */
final class HankelEigenRefinement {
    static final int MAX_STEPS = 6;
    /** A correction smaller than this (relative to the largest filter's norm) ends the iteration. */
    static final double FILTER_STEP = 1e-9;
    private static final int CG_ITERATIONS = 20;
    /** The CG stops at this relative residual: the Newton steps absorb what is left. */
    private static final double CG_TOLERANCE = 1e-8;
    /** The error of the float64 (FFT) product with Z, in units of ulp(‖Z‖) ‖v‖: measured about 2 for L = 16 .. 4096; 30 leaves a margin. */
    private static final double FAST_PRODUCT_ERROR = 30;

    private final double[] g;
    private final int n;
    private final HankelOperator fast;

    HankelEigenRefinement(double[] generator, HankelOperator fast) {
        this.g = generator;
        this.n = (generator.length + 1) / 2;
        this.fast = fast;
    }

    /**
     * The Ritz step on all the given pairs (when {@code ritz}), then Newton on the {@code keep} largest only (the others, computed to give
     * the Ritz step room, may sit in the rounding noise where no step converges). Returns the refined pairs, ascending.
     */
    StuFilters.Eigenpairs refineLargest(double[] values, double[][] vectors, int keep, boolean ritz) {
        if (ritz) rayleighRitz(values, vectors);
        int skip = values.length - keep;
        double[] v = java.util.Arrays.copyOfRange(values, skip, values.length);
        double[][] x = java.util.Arrays.copyOfRange(vectors, skip, vectors.length);
        refineSteps(v, x, MAX_STEPS);
        return new StuFilters.Eigenpairs(n, v, x);
    }

    /**
     * Replaces the pairs by the Ritz pairs of their span: H = Vᵀ Z V with Z V summed exactly, diagonalised by cyclic
     * Jacobi, which keeps relative accuracy on a graded H (Demmel and Veselić), so Ritz values far below ‖Z‖ come out
     * right and the order of the pairs, the K largest first, is Z's. A float64 solver can return, for an eigenvalue
     * near the rounding noise, a vector mixed with the near-null ones; the Ritz step sorts that out before Newton
     * refines each pair. Values ascending on return.
     */
    void rayleighRitz(double[] values, double[][] vectors) {
        int m = values.length;
        orthonormaliseFromTheTop(vectors);
        double[][] w = new double[m][n];
        for (int j = 0; j < m; j++) compensatedProduct(vectors[j], w[j]);
        double[][] h = new double[m][m];
        for (int i = 0; i < m; i++) for (int j = 0; j <= i; j++) h[i][j] = h[j][i] = 0.5 * (dot(vectors[i], w[j]) + dot(vectors[j], w[i]));
        double[][] rot = jacobi(h);
        Integer[] order = new Integer[m];
        for (int i = 0; i < m; i++) order[i] = i;
        java.util.Arrays.sort(order, (a, b) -> Double.compare(h[a][a], h[b][b]));
        double[][] mixed = new double[m][n];
        for (int t = 0; t < m; t++) {
            int c = order[t];
            values[t] = h[c][c];
            for (int i = 0; i < m; i++) {
                double f = rot[i][c];
                if (f == 0) continue;
                double[] v = vectors[i];
                for (int x = 0; x < n; x++) mixed[t][x] += f * v[x];
            }
        }
        for (int t = 0; t < m; t++) vectors[t] = mixed[t];
        for (double[] v : vectors) normalise(v);
    }

    /**
     * Cyclic Jacobi on the symmetric h (overwritten: its diagonal becomes the eigenvalues); returns the rotation R
     * with columns the eigenvectors. A pair is rotated while |h_pq| > ε sqrt(|h_pp h_qq|), the criterion under which
     * Jacobi is relatively accurate for graded matrices.
     */
    static double[][] jacobi(double[][] h) {
        int m = h.length;
        double[][] r = new double[m][m];
        for (int i = 0; i < m; i++) r[i][i] = 1;
        double eps = Math.ulp(1.0);
        for (int sweep = 0; sweep < 60; sweep++) {
            boolean rotated = false;
            for (int p = 0; p < m - 1; p++) {
                for (int q = p + 1; q < m; q++) {
                    double hpq = h[p][q];
                    if (hpq == 0 || Math.abs(hpq) <= eps * Math.sqrt(Math.abs(h[p][p] * h[q][q]))) continue;
                    rotated = true;
                    double zeta = (h[q][q] - h[p][p]) / (2 * hpq);
                    double t = Math.signum(zeta) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
                    if (zeta == 0) t = 1;
                    double c = 1 / Math.sqrt(1 + t * t), s = t * c;
                    for (int k = 0; k < m; k++) {
                        double hkp = h[k][p], hkq = h[k][q];
                        h[k][p] = c * hkp - s * hkq;
                        h[k][q] = s * hkp + c * hkq;
                    }
                    for (int k = 0; k < m; k++) {
                        double hpk = h[p][k], hqk = h[q][k];
                        h[p][k] = c * hpk - s * hqk;
                        h[q][k] = s * hpk + c * hqk;
                    }
                    h[p][q] = h[q][p] = 0;
                    for (int k = 0; k < m; k++) {
                        double rkp = r[k][p], rkq = r[k][q];
                        r[k][p] = c * rkp - s * rkq;
                        r[k][q] = s * rkp + c * rkq;
                    }
                }
            }
            if (!rotated) break;
        }
        return r;
    }

    /**
     * Newton steps in place (values ascending, vectors[k] the unit eigenvector of values[k]). Only the columns a
     * float64 product cannot resolve are refined ({@link #needsRefinement}), each until its correction moves its
     * filter by less than {@link #FILTER_STEP} of the largest filter's norm, or {@code maxSteps} steps; their values
     * become the Rayleigh quotients of their final vectors. Returns the steps taken.
     */
    int refineSteps(double[] values, double[][] vectors, int maxSteps) {
        int k = values.length;
        double top = Math.max(Math.abs(values[k - 1]), Math.abs(values[0]));
        boolean[] open = new boolean[k], refined = new boolean[k];
        boolean active = false;
        for (int j = 0; j < k; j++) active |= refined[j] = open[j] = needsRefinement(j, values, top);
        int steps = 0;
        for (; active && steps < maxSteps; steps++) {
            double[][] deltas = new double[k][];
            for (int j = 0; j < k; j++) {
                if (!open[j]) continue;
                double[] v = vectors[j];
                normalise(v);
                double[] r = new double[n];
                compensatedProduct(v, r);
                double theta = dot(v, r);
                values[j] = theta;
                for (int i = 0; i < n; i++) r[i] -= theta * v[i];
                deltas[j] = correction(j, values, vectors, r, top);
            }
            active = false;
            for (int j = 0; j < k; j++) {
                if (deltas[j] == null) continue;
                double[] v = vectors[j], d = deltas[j];
                for (int i = 0; i < n; i++) v[i] += d[i];
                double moved = Math.sqrt(dot(d, d)) * weight(values[j], top);
                open[j] = moved >= FILTER_STEP;
                active |= open[j];
            }
            orthonormaliseFromTheTop(vectors);
        }
        for (int j = 0; j < k; j++) {
            if (!refined[j]) continue;
            normalise(vectors[j]);
            double[] y = new double[n];
            compensatedProduct(vectors[j], y);
            values[j] = dot(vectors[j], y);
        }
        return steps;
    }

    /**
     * Whether column j's vector, as a float64 solver with an FFT product leaves it (error about c ε ‖Z‖ / gap with
     * c = {@link #FAST_PRODUCT_ERROR}), could be off by more than {@link #FILTER_STEP} of the largest filter's norm.
     */
    static boolean needsRefinement(int j, double[] values, double top) {
        return FAST_PRODUCT_ERROR * Math.ulp(top) / gap(j, values) * weight(values[j], top) >= FILTER_STEP;
    }

    /**
     * How much a vector error counts in the filter: (|θ| / θ_max)^(1/4). The absolute value, because a float64
     * solver can give a tiny positive eigenvalue a negative value (and the refined one may turn positive).
     */
    static double weight(double theta, double top) {
        return Math.sqrt(Math.sqrt(Math.abs(theta) / top));
    }

    /** Whether the CG for column j needs the compensated product: the FFT product's error is above 1e-2 of θ_j. */
    static boolean needsExactProduct(double theta, double top) {
        return FAST_PRODUCT_ERROR * Math.ulp(top) > 1e-2 * Math.abs(theta);
    }

    /**
     * The distance from θ_j to the nearest other eigenvalue; for the smallest of the K (whose lower neighbour,
     * outside the K, is not computed) the distance to its upper neighbour, the spectrum decaying about
     * geometrically.
     */
    static double gap(int j, double[] values) {
        double g = Double.POSITIVE_INFINITY;
        for (int i = 0; i < values.length; i++) if (i != j) g = Math.min(g, Math.abs(values[j] - values[i]));
        if (values.length == 1) g = Math.abs(values[0]);
        return g > 0 ? g : Math.ulp(Math.abs(values[j])) + Double.MIN_NORMAL;
    }

    /**
     * Modified Gram-Schmidt from the largest eigenvalue down (vectors are in ascending order): the vectors of large
     * eigenvalues are the accurate ones, and what is left of the others' errors lies along them.
     */
    private static void orthonormaliseFromTheTop(double[][] vectors) {
        for (int j = vectors.length - 1; j >= 0; j--) {
            double[] v = vectors[j];
            for (int pass = 0; pass < 2; pass++) {
                for (int i = vectors.length - 1; i > j; i--) {
                    double c = dot(vectors[i], v);
                    double[] u = vectors[i];
                    for (int x = 0; x < v.length; x++) v[x] -= c * u[x];
                }
            }
            normalise(v);
        }
    }

    /** δ with (θ_j - Z) δ = r_j, δ ⊥ v_j: the span part by the first-order formula, the rest by CG. */
    double[] correction(int j, double[] values, double[][] vectors, double[] r, double top) {
        int k = values.length;
        double theta = values[j];
        double[] delta = new double[n];
        for (int i = 0; i < k; i++) {
            if (i == j) continue;
            double gap = theta - values[i];
            if (gap == 0) continue;
            double c = dot(vectors[i], r) / gap;
            double[] v = vectors[i];
            for (int x = 0; x < n; x++) delta[x] += c * v[x];
        }
        if (k < n) {
            double[] e = complementSolve(theta, vectors, r, needsExactProduct(theta, top));
            for (int x = 0; x < n; x++) delta[x] += e[x];
        }
        return delta;
    }

    /** Conjugate gradients on A = (I - P)(θ - Z)(I - P) for A e = (I - P) r, from e = 0. */
    private double[] complementSolve(double theta, double[][] vectors, double[] r, boolean exact) {
        double[] b = r.clone();
        project(b, vectors);
        double[] e = new double[n], res = b.clone(), p = b.clone(), ap = new double[n], zp = new double[n];
        double rr = dot(res, res), target = CG_TOLERANCE * CG_TOLERANCE * rr;
        if (rr == 0) return e;
        for (int it = 0; it < CG_ITERATIONS && rr > target; it++) {
            double[] q = p.clone();
            project(q, vectors);
            if (exact) compensatedProduct(q, zp);
            else fast.apply(q, zp);
            for (int x = 0; x < n; x++) ap[x] = theta * q[x] - zp[x];
            project(ap, vectors);
            double pap = dot(p, ap);
            if (!(pap > 0)) break;
            double alpha = rr / pap;
            for (int x = 0; x < n; x++) {
                e[x] += alpha * p[x];
                res[x] -= alpha * ap[x];
            }
            double next = dot(res, res), beta = next / rr;
            rr = next;
            for (int x = 0; x < n; x++) p[x] = res[x] + beta * p[x];
        }
        project(e, vectors);
        return e;
    }

    /** x -= V (Vᵀ x), twice (classical Gram-Schmidt, repeated for stability). */
    private static void project(double[] x, double[][] vectors) {
        for (int pass = 0; pass < 2; pass++) {
            for (double[] v : vectors) {
                double c = dot(v, x);
                for (int i = 0; i < x.length; i++) x[i] -= c * v[i];
            }
        }
    }

    /**
     * out = Z v with every row summed in double-double (TwoProduct by fma, TwoSum), four rows at a time so the
     * dependency chains interleave: error about ε |Z v|_i + O(n ε²) Σ_j |Z_ij v_j| per row.
     */
    void compensatedProduct(double[] v, double[] out) {
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            double s0 = 0, c0 = 0, s1 = 0, c1 = 0, s2 = 0, c2 = 0, s3 = 0, c3 = 0;
            for (int j = 0; j < n; j++) {
                double x = v[j];
                double h0 = g[i + j] * x, e0 = Math.fma(g[i + j], x, -h0);
                double h1 = g[i + j + 1] * x, e1 = Math.fma(g[i + j + 1], x, -h1);
                double h2 = g[i + j + 2] * x, e2 = Math.fma(g[i + j + 2], x, -h2);
                double h3 = g[i + j + 3] * x, e3 = Math.fma(g[i + j + 3], x, -h3);
                double t0 = s0 + h0, z0 = t0 - s0;
                c0 += (s0 - (t0 - z0)) + (h0 - z0) + e0;
                s0 = t0;
                double t1 = s1 + h1, z1 = t1 - s1;
                c1 += (s1 - (t1 - z1)) + (h1 - z1) + e1;
                s1 = t1;
                double t2 = s2 + h2, z2 = t2 - s2;
                c2 += (s2 - (t2 - z2)) + (h2 - z2) + e2;
                s2 = t2;
                double t3 = s3 + h3, z3 = t3 - s3;
                c3 += (s3 - (t3 - z3)) + (h3 - z3) + e3;
                s3 = t3;
            }
            out[i] = s0 + c0;
            out[i + 1] = s1 + c1;
            out[i + 2] = s2 + c2;
            out[i + 3] = s3 + c3;
        }
        for (; i < n; i++) {
            double s = 0, c = 0;
            for (int j = 0; j < n; j++) {
                double h = g[i + j] * v[j], e = Math.fma(g[i + j], v[j], -h);
                double t = s + h, z = t - s;
                c += (s - (t - z)) + (h - z) + e;
                s = t;
            }
            out[i] = s + c;
        }
    }

    private static void normalise(double[] v) {
        double s = Math.sqrt(dot(v, v));
        if (s > 0) for (int i = 0; i < v.length; i++) v[i] /= s;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }
}
