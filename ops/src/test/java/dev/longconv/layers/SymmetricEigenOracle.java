package dev.longconv.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Test-side oracles, independent of the code under test: the STU Hankel matrix written from its
 * formula, a plain matrix-vector product, and the cyclic Jacobi eigenvalue method (slow, obviously
 * correct, and accurate for graded matrices).
 */
final class SymmetricEigenOracle {
    private SymmetricEigenOracle() {}

    /** Z[i][j] (0-based) straight from the formulas with 1-based i, j. */
    static double[][] hankel(int n, HankelVariant variant) {
        double[][] z = new double[n][n];
        for (int i = 1; i <= n; i++) {
            for (int j = 1; j <= n; j++) {
                double s = i + j;
                z[i - 1][j - 1] = switch (variant) {
                    case HANKEL -> 2.0 / (s * s * s - s);
                    case HANKEL_L -> (Math.pow(-1, i + j - 2) + 1) * 8.0 / ((s + 3) * (s - 1) * (s + 1));
                };
            }
        }
        return z;
    }

    static double[] multiply(double[][] a, double[] v) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            double s = 0;
            for (int j = 0; j < v.length; j++) s += a[i][j] * v[j];
            out[i] = s;
        }
        return out;
    }

    static double norm(double[] v) {
        double s = 0;
        for (double x : v) s += x * x;
        return Math.sqrt(s);
    }

    static double[][] randomSymmetric(java.util.SplittableRandom r, int n) {
        double[][] a = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                a[i][j] = r.nextDouble(-1, 1);
                a[j][i] = a[i][j];
            }
        }
        return a;
    }

    /** Eigenvalues (ascending) and eigenvectors (rows) by cyclic Jacobi rotations. */
    static SymmetricEigen jacobi(double[][] input) {
        int n = input.length;
        double[][] a = new double[n][];
        for (int i = 0; i < n; i++) a[i] = input[i].clone();
        double[][] v = new double[n][n]; // v[k] will be eigenvector k (rows: rotations act on rows)
        for (int i = 0; i < n; i++) v[i][i] = 1;
        double normA = 0;
        for (double[] row : a) for (double x : row) normA = Math.max(normA, Math.abs(x) * n);
        // Below this absolute floor an off-diagonal moves no eigenvalue by more than 1e-30 |A|.
        double floor = 1e-30 * normA;
        for (int sweep = 0; ; sweep++) {
            boolean rotated = false;
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    double apq = a[p][q];
                    // Relative threshold: leaves off-diagonals negligible against their diagonals,
                    // which is what keeps Jacobi accurate for tiny eigenvalues of graded matrices.
                    if (Math.abs(apq) <= Math.max(1e-18 * Math.sqrt(Math.abs(a[p][p] * a[q][q])), floor)) continue;
                    rotated = true;
                    double app = a[p][p], aqq = a[q][q];
                    double theta = (a[q][q] - a[p][p]) / (2 * apq);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++) { // columns p, q
                        double akp = a[k][p], akq = a[k][q];
                        a[k][p] = c * akp - s * akq;
                        a[k][q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++) { // rows p, q
                        double apk = a[p][k], aqk = a[q][k];
                        a[p][k] = c * apk - s * aqk;
                        a[q][k] = s * apk + c * aqk;
                    }
                    // The rotation's purpose, set exactly rather than left to rounding (the
                    // textbook update): a_pq = 0 and a_pp, a_qq moved by t a_pq.
                    a[p][p] = app - t * apq;
                    a[q][q] = aqq + t * apq;
                    a[p][q] = 0;
                    a[q][p] = 0;
                    for (int k = 0; k < n; k++) {
                        double vp = v[p][k], vq = v[q][k];
                        v[p][k] = c * vp - s * vq;
                        v[q][k] = s * vp + c * vq;
                    }
                }
            }
            if (!rotated) break;
            if (sweep > 60) throw new AssertionError("Jacobi oracle did not converge for n = " + n);
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        java.util.Arrays.sort(order, (x, y) -> Double.compare(a[x][x], a[y][y]));
        double[] values = new double[n];
        double[][] vectors = new double[n][];
        for (int k = 0; k < n; k++) {
            values[k] = a[order[k]][order[k]];
            vectors[k] = v[order[k]];
        }
        return new SymmetricEigen(values, vectors);
    }

    /** min over signs of |a - s b|. */
    static double distanceUpToSign(double[] a, double[] b) {
        double plus = 0, minus = 0;
        for (int i = 0; i < a.length; i++) {
            plus += (a[i] - b[i]) * (a[i] - b[i]);
            minus += (a[i] + b[i]) * (a[i] + b[i]);
        }
        return Math.sqrt(Math.min(plus, minus));
    }

    /**
     * How far a computed unit eigenvector of eigenvalue index r may lie from the exact one, for a
     * solver whose backward error is at most delta: the Davis-Kahan bound delta / gap (gap to the
     * nearest other eigenvalue of the full spectrum), at most 2 (vectors compared up to sign).
     */
    static double vectorBound(double[] allValues, int r, double delta) {
        double gap = Double.POSITIVE_INFINITY;
        if (r > 0) gap = Math.min(gap, allValues[r] - allValues[r - 1]);
        if (r + 1 < allValues.length) gap = Math.min(gap, allValues[r + 1] - allValues[r]);
        return Math.min(2, 2 * delta / gap);
    }

    /** |V V^T - I| entrywise at most tol. */
    static void assertOrthonormal(double[][] vectors, double tol, String context) {
        for (int i = 0; i < vectors.length; i++) {
            for (int j = 0; j <= i; j++) {
                double d = 0;
                for (int x = 0; x < vectors[i].length; x++) d += vectors[i][x] * vectors[j][x];
                assertEquals(i == j ? 1 : 0, d, tol, context + ": <v" + i + ", v" + j + ">");
            }
        }
    }

    /** |A v - lambda v| <= tol for each pair. */
    static void assertResiduals(double[][] a, double[] values, double[][] vectors, double tol, String context) {
        for (int k = 0; k < values.length; k++) {
            double[] av = multiply(a, vectors[k]);
            for (int i = 0; i < av.length; i++) av[i] -= values[k] * vectors[k][i];
            double r = norm(av);
            assertTrue(r <= tol, context + ": residual of pair " + k + " (lambda " + values[k] + ") is " + r + " > " + tol);
        }
    }
}
