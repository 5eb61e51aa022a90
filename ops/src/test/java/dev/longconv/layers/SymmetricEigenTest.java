package dev.longconv.layers;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.longconv.layers.SymmetricEigenOracle.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The dense solver against the Jacobi oracle. Tolerances: eigenvalues within 1e-13 |A| (Weyl with a
 * backward error of a few hundred ulps); eigenvectors within the Davis-Kahan bound for a backward
 * error of 1e-13 |A| plus 1e-12; residuals |A v - lambda v| <= 1e-13 n |A|; orthonormality 1e-13 n.
 */
class SymmetricEigenTest {
    private static final long SEED = 20261122L;

    @Test
    void randomMatricesMatchJacobi() {
        SplittableRandom r = new SplittableRandom(SEED);
        for (int n : new int[] {1, 2, 3, 5, 7, 16, 31, 64, 97}) {
            double[][] a = randomSymmetric(r, n);
            compare(a, "random n=" + n + " seed=" + SEED);
        }
    }

    @Test
    void hankelMatricesMatchJacobi() {
        for (HankelVariant v : HankelVariant.values()) {
            for (int n : new int[] {1, 2, 13, 64, 101}) {
                compare(hankel(n, v), v + " n=" + n);
            }
        }
    }

    @Test
    void repeatedEigenvaluesStillGiveAnOrthonormalBasis() {
        int n = 9;
        double[][] a = new double[n][n];
        for (int i = 0; i < n; i++) a[i][i] = i % 3; // each value three times
        SymmetricEigen e = SymmetricEigen.of(a);
        for (int k = 0; k < n; k++) assertEquals(k / 3, e.values()[k], 0.0, "value " + k);
        assertOrthonormal(e.vectors(), 1e-14, "diag with repeats");
        assertResiduals(a, e.values(), e.vectors(), 1e-14, "diag with repeats");
        double[][] ones = new double[n][n];
        for (double[] row : ones) java.util.Arrays.fill(row, 1.0); // eigenvalues 0 (n-1 times) and n
        SymmetricEigen o = SymmetricEigen.of(ones);
        assertEquals(n, o.values()[n - 1], 1e-13);
        for (int k = 0; k < n - 1; k++) assertEquals(0, o.values()[k], 1e-13, "value " + k);
        assertOrthonormal(o.vectors(), 1e-13, "all ones");
        assertResiduals(ones, o.values(), o.vectors(), 1e-13, "all ones");
    }

    @Test
    void tridiagonalMatchesDense() {
        SplittableRandom r = new SplittableRandom(SEED + 1);
        for (int n : new int[] {1, 2, 6, 33}) {
            double[] d = new double[n], e = new double[Math.max(0, n - 1)];
            double[][] a = new double[n][n];
            for (int i = 0; i < n; i++) a[i][i] = d[i] = r.nextDouble(-1, 1);
            for (int i = 0; i + 1 < n; i++) a[i][i + 1] = a[i + 1][i] = e[i] = r.nextDouble(-1, 1);
            SymmetricEigen t = SymmetricEigen.ofTridiagonal(d, e);
            SymmetricEigen ref = jacobi(a);
            for (int k = 0; k < n; k++) assertEquals(ref.values()[k], t.values()[k], 1e-13, "n=" + n + " seed=" + (SEED + 1) + " value " + k);
            assertResiduals(a, t.values(), t.vectors(), 1e-13 * n, "tridiagonal n=" + n);
            assertOrthonormal(t.vectors(), 1e-13 * n, "tridiagonal n=" + n);
        }
    }

    @Test
    void nonSquareIsRejected() {
        var ex = assertThrows(IllegalArgumentException.class, () -> SymmetricEigen.of(new double[][] {{1, 2}, {3}}));
        assertTrue(ex.getMessage().contains("square"), ex.getMessage());
    }

    private static void compare(double[][] a, String context) {
        int n = a.length;
        double scale = 0;
        for (double[] row : a) for (double x : row) scale = Math.max(scale, Math.abs(x));
        double norm = scale * n; // bounds |A|_2
        SymmetricEigen got = SymmetricEigen.of(a);
        SymmetricEigen ref = jacobi(a);
        for (int k = 0; k < n; k++) {
            assertEquals(ref.values()[k], got.values()[k], 1e-13 * norm, context + ": eigenvalue " + k);
            double bound = vectorBound(ref.values(), k, 1e-13 * norm) + 1e-12;
            double d = distanceUpToSign(ref.vectors()[k], got.vectors()[k]);
            assertTrue(d <= bound, context + ": eigenvector " + k + " differs by " + d + " > " + bound);
        }
        assertResiduals(a, got.values(), got.vectors(), 1e-13 * n * norm, context);
        assertOrthonormal(got.vectors(), 1e-13 * n, context);
    }
}
