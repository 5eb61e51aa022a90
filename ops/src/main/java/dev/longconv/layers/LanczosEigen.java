package dev.longconv.layers;

import java.util.SplittableRandom;

/**
 * The k largest eigenpairs of a symmetric operator by Lanczos with full reorthogonalisation and thick
 * restarts (the symmetric Krylov-Schur scheme).
 *
 * <p>The basis holds at most {@code maxBasis} vectors of length n, so memory is bounded by
 * (maxBasis + 1) n doubles whatever the number of iterations. Every new vector is orthogonalised
 * against the whole basis with classical Gram-Schmidt, repeated while a pass still removes a large
 * part of it ("twice is enough"), and the projected matrix H = Q^T Z Q is filled from those very
 * coefficients, so after a restart (keeping the best Ritz vectors and the residual direction) no
 * special arrow-matrix bookkeeping is needed. The residual of a Ritz pair (theta, Q s) is
 * |beta s_last| from the Krylov relation Z Q = Q H + beta q_next e_last^T; iteration stops when it is
 * at most {@code tol} times the largest Ritz value for each of the k wanted pairs.
 *
 * <p>The STU Hankel matrices have eigenvalues that decay super-exponentially, so the Krylov space
 * captures the top pairs in a few dozen products and restarts are rare; the thick restart is there
 * so memory stays bounded when they are not.
 *
 * @param values   the k largest eigenvalues, ascending
 * @param vectors  vectors[i] is the unit eigenvector of values[i]
 * @param products how many operator products the solve took
 * @param restarts how many thick restarts it took
 */
public record LanczosEigen(double[] values, double[][] vectors, int products, int restarts) {
    /** Default relative residual at which a Ritz pair counts as converged. */
    public static final double DEFAULT_TOLERANCE = 1e-15;
    private static final int MAX_RESTARTS = 200;
    private static final int CHUNK = 2048;
    private static final double REORTH_RATIO = 0.5;

    /**
     * The k largest eigenpairs of {@code op} with the default tolerance, a basis of at most
     * max(2k + 16, k + 24) vectors and a fixed start vector.
     */
    public static LanczosEigen largest(HankelOperator op, int k) {
        return largest(op, k, Math.max(2 * k + 16, k + 24), DEFAULT_TOLERANCE, 0x5eed5eedL);
    }

    /**
     * The k largest eigenpairs of {@code op}.
     *
     * @param maxBasis basis size at which to restart (clamped to n; must exceed k unless k = n)
     * @param tol      converged when every wanted residual is at most tol times the largest Ritz value
     * @param seed     seed of the random start vector (and of replacement vectors after a breakdown)
     * @throws IllegalArgumentException for k outside 1..n or a basis too small for k
     * @throws ArithmeticException if it has not converged after many restarts
     */
    public static LanczosEigen largest(HankelOperator op, int k, int maxBasis, double tol, long seed) {
        int n = op.size();
        if (k < 1 || k > n) throw new IllegalArgumentException("k must be in 1.." + n + ", got " + k);
        int m = Math.min(n, maxBasis);
        if (m <= k && m < n) throw new IllegalArgumentException("basis size must exceed k = " + k + ", got " + maxBasis);
        int keep = Math.min(m - 1, k + (m - k) / 2);

        SplittableRandom random = new SplittableRandom(seed);
        double[][] q = new double[m + 1][]; // q[m]: the next direction when the basis is full
        double[][] h = new double[m][m];
        double[] w = new double[n];
        double[] coef = new double[m];
        q[0] = randomUnit(random, n, q, 0, coef);
        int products = 0;
        int restarts = 0;
        int j = 0;
        while (true) {
            for (; j < m; j++) {
                op.apply(q[j], w);
                products++;
                double beta = orthogonalise(w, q, j + 1, coef);
                for (int i = 0; i <= j; i++) {
                    h[i][j] = coef[i];
                    h[j][i] = coef[i];
                }
                if (j + 1 >= k) {
                    SymmetricEigen ritz = SymmetricEigen.of(leading(h, j + 1));
                    if (j + 1 == n || converged(ritz, k, beta, tol)) {
                        return ritzPairs(ritz, q, j + 1, k, n, products, restarts);
                    }
                }
                if (!(beta > 1e-290)) {
                    // An invariant subspace: continue in a fresh direction, decoupled (beta = 0).
                    q[j + 1] = randomUnit(random, n, q, j + 1, coef);
                    continue;
                }
                double[] next = q[j + 1] != null ? q[j + 1] : new double[n];
                double inv = 1 / beta;
                for (int i = 0; i < n; i++) next[i] = w[i] * inv;
                q[j + 1] = next;
            }
            if (++restarts > MAX_RESTARTS) {
                throw new ArithmeticException("Lanczos: no convergence to " + tol + " after " + MAX_RESTARTS + " restarts of " + m + " vectors");
            }
            SymmetricEigen ritz = SymmetricEigen.of(leading(h, m));
            rotateBasis(q, m, ritz, keep);
            for (double[] row : h) java.util.Arrays.fill(row, 0);
            for (int i = 0; i < keep; i++) h[i][i] = ritz.values()[m - keep + i];
            // The residual direction becomes the next basis vector; the old slots beyond are reused.
            double[] residual = q[m];
            q[m] = q[keep];
            q[keep] = residual;
            j = keep;
        }
    }

    /**
     * Removes from w its components along q[0 .. count), returns the remaining norm, and leaves the
     * total coefficients removed in coef[0 .. count).
     */
    private static double orthogonalise(double[] w, double[][] q, int count, double[] coef) {
        java.util.Arrays.fill(coef, 0, count, 0.0);
        double[] pass = new double[count];
        double before = norm(w);
        for (int round = 0; round < 4; round++) {
            java.util.Arrays.fill(pass, 0.0);
            int n = w.length;
            // Chunked so the slice of w stays in cache while every basis vector streams past it.
            for (int a = 0; a < n; a += CHUNK) {
                int b = Math.min(n, a + CHUNK);
                for (int i = 0; i < count; i++) {
                    double[] qi = q[i];
                    double s = 0;
                    for (int x = a; x < b; x++) s += qi[x] * w[x];
                    pass[i] += s;
                }
            }
            for (int a = 0; a < n; a += CHUNK) {
                int b = Math.min(n, a + CHUNK);
                for (int i = 0; i < count; i++) {
                    double[] qi = q[i];
                    double c = pass[i];
                    for (int x = a; x < b; x++) w[x] -= c * qi[x];
                }
            }
            for (int i = 0; i < count; i++) coef[i] += pass[i];
            double after = norm(w);
            if (round >= 1 && after > REORTH_RATIO * before) return after;
            before = after;
            if (after == 0) return 0;
        }
        return before;
    }

    private static boolean converged(SymmetricEigen ritz, int k, double beta, double tol) {
        int size = ritz.values().length;
        double scale = Math.max(Math.abs(ritz.values()[size - 1]), Math.abs(ritz.values()[0]));
        for (int i = size - k; i < size; i++) {
            double[] s = ritz.vectors()[i];
            if (Math.abs(beta * s[size - 1]) > tol * scale) return false;
        }
        return true;
    }

    /** The Ritz pairs of the k largest Ritz values, formed in place of the basis (no second n x k copy). */
    private static LanczosEigen ritzPairs(SymmetricEigen ritz, double[][] q, int size, int k, int n, int products, int restarts) {
        rotateBasis(q, size, ritz, k);
        double[] values = new double[k];
        double[][] vectors = new double[k][];
        for (int t = 0; t < k; t++) {
            values[t] = ritz.values()[size - k + t];
            double[] v = q[t];
            double inv = 1 / norm(v);
            for (int x = 0; x < n; x++) v[x] *= inv;
            vectors[t] = v;
        }
        return new LanczosEigen(values, vectors, products, restarts);
    }

    /** q[0 .. keep) <- the Ritz vectors of the keep largest Ritz values, in place, chunk by chunk. */
    private static void rotateBasis(double[][] q, int m, SymmetricEigen ritz, int keep) {
        int n = q[0].length;
        double[][] tmp = new double[m][CHUNK];
        for (int a = 0; a < n; a += CHUNK) {
            int len = Math.min(CHUNK, n - a);
            for (int t = 0; t < m; t++) System.arraycopy(q[t], a, tmp[t], 0, len);
            for (int i = 0; i < keep; i++) {
                double[] s = ritz.vectors()[m - keep + i];
                double[] qi = q[i];
                java.util.Arrays.fill(qi, a, a + len, 0.0);
                for (int t = 0; t < m; t++) {
                    double c = s[t];
                    double[] src = tmp[t];
                    for (int x = 0; x < len; x++) qi[a + x] += c * src[x];
                }
            }
        }
    }

    /** A random unit vector orthogonal to q[0 .. count). */
    private static double[] randomUnit(SplittableRandom random, int n, double[][] q, int count, double[] coef) {
        while (true) {
            double[] v = new double[n];
            for (int i = 0; i < n; i++) v[i] = random.nextDouble() - 0.5;
            double r = count == 0 ? norm(v) : orthogonalise(v, q, count, coef);
            if (r > 1e-8) {
                double inv = 1 / r;
                for (int i = 0; i < n; i++) v[i] *= inv;
                return v;
            }
        }
    }

    private static double[][] leading(double[][] h, int size) {
        double[][] a = new double[size][size];
        for (int i = 0; i < size; i++) System.arraycopy(h[i], 0, a[i], 0, size);
        return a;
    }

    private static double norm(double[] v) {
        double s = 0;
        for (double x : v) s += x * x;
        return Math.sqrt(s);
    }
}
