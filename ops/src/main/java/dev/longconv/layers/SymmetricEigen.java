package dev.longconv.layers;

import java.util.Arrays;

/**
 * Eigendecomposition of a dense real symmetric matrix in float64: Householder reduction to
 * tridiagonal form, then the implicit QL iteration with Wilkinson-type shifts on the tridiagonal
 * matrix, accumulating the transformations (the classical tred2 / tql2 pair described by Wilkinson
 * and Reinsch). O(n^3) time, O(n^2) memory: meant for n up to a few hundred (small STU lengths, the
 * projected matrices of {@link LanczosEigen}, and as the oracle of its tests).
 *
 * <p>Both phases work from the last row upwards, so they keep the most relative accuracy when the
 * large entries sit in the bottom-right corner; callers with a matrix graded the other way (the STU
 * Hankel matrices) can reverse its index order first.
 *
 * @param values  eigenvalues in ascending order
 * @param vectors vectors[k] is the unit eigenvector of values[k] (row k holds vector k)
 */
public record SymmetricEigen(double[] values, double[][] vectors) {
    private static final int MAX_SWEEPS_PER_VALUE = 60;

    /**
     * Decomposes the symmetric matrix {@code a} (only its lower triangle is read; {@code a} is left
     * unchanged).
     *
     * @throws IllegalArgumentException if {@code a} is not square
     * @throws ArithmeticException if QL does not converge (only for non-finite input)
     */
    public static SymmetricEigen of(double[][] a) {
        int n = a.length;
        double[][] q = new double[n][];
        for (int i = 0; i < n; i++) {
            if (a[i].length != n) {
                throw new IllegalArgumentException("matrix must be square: row " + i + " has " + a[i].length + " entries, expected " + n);
            }
            q[i] = a[i].clone();
        }
        double[] d = new double[n];
        double[] e = new double[n];
        tridiagonalize(q, d, e);
        double[][] rows = transpose(q); // eigenvector updates then touch two contiguous rows
        ql(d, e, rows);
        return sorted(d, rows);
    }

    /**
     * Decomposes the symmetric tridiagonal matrix with diagonal {@code diag} and off-diagonal
     * {@code off} (off[i] couples i and i+1; length n-1 or more, extra entries ignored).
     */
    public static SymmetricEigen ofTridiagonal(double[] diag, double[] off) {
        int n = diag.length;
        double[] d = diag.clone();
        double[] e = new double[n];
        // ql() expects e[i] to couple i-1 and i, as the reduction leaves it
        for (int i = 1; i < n; i++) e[i] = off[i - 1];
        double[][] rows = new double[n][n];
        for (int i = 0; i < n; i++) rows[i][i] = 1;
        ql(d, e, rows);
        return sorted(d, rows);
    }

    /**
     * Householder reduction Q^T A Q = T, row i = n-1 .. 1 each eliminating a[i][0 .. i-2]. On return
     * d is T's diagonal, e[i] couples i-1 and i (e[0] = 0) and a holds Q.
     */
    private static void tridiagonalize(double[][] a, double[] d, double[] e) {
        int n = a.length;
        for (int i = n - 1; i > 0; i--) {
            int l = i - 1;
            double h = 0;
            if (l > 0) {
                double[] ai = a[i];
                double scale = 0;
                for (int k = 0; k <= l; k++) scale += Math.abs(ai[k]);
                if (scale == 0) {
                    e[i] = ai[l];
                } else {
                    // Scaling guards against under/overflow in the sum of squares.
                    for (int k = 0; k <= l; k++) {
                        ai[k] /= scale;
                        h += ai[k] * ai[k];
                    }
                    double f = ai[l];
                    double g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h); // sign chosen to avoid cancellation
                    e[i] = scale * g;
                    h -= f * g;
                    ai[l] = f - g; // ai[0..l] is now the Householder vector u, H = |u|^2 / 2 = h
                    // p = A u / H from A's lower triangle, row by row: row j's entries below the
                    // diagonal serve both p[j] (as row j) and p[k] (as column j, by symmetry).
                    for (int j = 0; j <= l; j++) e[j] = 0;
                    for (int j = 0; j <= l; j++) {
                        double[] aj = a[j];
                        double uj = ai[j];
                        double gj = aj[j] * uj;
                        for (int k = 0; k < j; k++) {
                            gj += aj[k] * ai[k];
                            e[k] += aj[k] * uj;
                        }
                        e[j] += gj;
                    }
                    f = 0;
                    for (int j = 0; j <= l; j++) {
                        a[j][i] = ai[j] / h; // kept for accumulating Q below
                        e[j] /= h;
                        f += e[j] * ai[j];
                    }
                    double hh = f / (h + h);
                    // A <- A - u q^T - q u^T with q = p - (u^T p / 2H) u, lower triangle
                    for (int j = 0; j <= l; j++) {
                        double fj = ai[j];
                        double gj = e[j] - hh * fj;
                        e[j] = gj;
                        double[] aj = a[j];
                        for (int k = 0; k <= j; k++) aj[k] -= fj * e[k] + gj * ai[k];
                    }
                }
            } else {
                e[i] = a[i][l];
            }
            d[i] = h;
        }
        d[0] = 0;
        e[0] = 0;
        // Accumulate Q = P_{n-1} ... P_1, growing it from the top-left corner.
        for (int i = 0; i < n; i++) {
            int l = i - 1;
            if (d[i] != 0) {
                // Q[0..l][0..l] <- (I - u u^T / H) Q, as g = u^T Q then a rank-one update, row by row.
                double[] g = new double[l + 1];
                for (int k = 0; k <= l; k++) {
                    double c = a[i][k];
                    double[] ak = a[k];
                    for (int j = 0; j <= l; j++) g[j] += c * ak[j];
                }
                for (int k = 0; k <= l; k++) {
                    double c = a[k][i];
                    double[] ak = a[k];
                    for (int j = 0; j <= l; j++) ak[j] -= g[j] * c;
                }
            }
            d[i] = a[i][i];
            a[i][i] = 1;
            for (int j = 0; j <= l; j++) {
                a[j][i] = 0;
                a[i][j] = 0;
            }
        }
    }

    /**
     * Implicit QL on the tridiagonal (d, e) with e[i] coupling i-1 and i, applying every rotation to
     * the rows of {@code z} (row k of z becomes the eigenvector of d[k]). Unsorted.
     */
    private static void ql(double[] d, double[] e, double[][] z) {
        int n = d.length;
        for (int i = 1; i < n; i++) e[i - 1] = e[i];
        if (n > 0) e[n - 1] = 0;
        for (int l = 0; l < n; l++) {
            int iter = 0;
            int m;
            do {
                // Find the first negligible off-diagonal at or below l: the block l..m splits off.
                for (m = l; m < n - 1; m++) {
                    double dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
                    if (Math.abs(e[m]) + dd == dd) break;
                }
                if (m != l) {
                    if (iter++ == MAX_SWEEPS_PER_VALUE) {
                        throw new ArithmeticException("symmetric eigensolver: QL did not converge at index " + l);
                    }
                    // Shift: the eigenvalue of the leading 2x2 block nearer d[l].
                    double g = (d[l + 1] - d[l]) / (2 * e[l]);
                    double r = Math.hypot(g, 1);
                    g = d[m] - d[l] + e[l] / (g + Math.copySign(r, g));
                    double s = 1, c = 1, p = 0;
                    int i;
                    boolean underflow = false;
                    for (i = m - 1; i >= l; i--) {
                        double f = s * e[i];
                        double b = c * e[i];
                        r = Math.hypot(f, g);
                        e[i + 1] = r;
                        if (r == 0) {
                            // The chase met an exact zero: the matrix split; restart on the shorter block.
                            d[i + 1] -= p;
                            e[m] = 0;
                            underflow = true;
                            break;
                        }
                        s = f / r;
                        c = g / r;
                        g = d[i + 1] - p;
                        r = (d[i] - g) * s + 2 * c * b;
                        p = s * r;
                        d[i + 1] = g + p;
                        g = c * r - b;
                        double[] zi = z[i], zi1 = z[i + 1];
                        for (int k = 0; k < zi.length; k++) {
                            double t = zi1[k];
                            zi1[k] = s * zi[k] + c * t;
                            zi[k] = c * zi[k] - s * t;
                        }
                    }
                    if (underflow) continue;
                    d[l] -= p;
                    e[l] = g;
                    e[m] = 0;
                }
            } while (m != l);
        }
    }

    private static SymmetricEigen sorted(double[] d, double[][] rows) {
        int n = d.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, (x, y) -> Double.compare(d[x], d[y]));
        double[] values = new double[n];
        double[][] vectors = new double[n][];
        for (int k = 0; k < n; k++) {
            values[k] = d[order[k]];
            vectors[k] = rows[order[k]];
        }
        return new SymmetricEigen(values, vectors);
    }

    private static double[][] transpose(double[][] a) {
        int n = a.length;
        double[][] t = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) t[j][i] = a[i][j];
        }
        return t;
    }
}
