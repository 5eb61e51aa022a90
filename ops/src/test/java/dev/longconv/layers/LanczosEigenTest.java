package dev.longconv.layers;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.longconv.layers.SymmetricEigenOracle.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Lanczos on the Hankel products against the dense solver (tested against Jacobi in
 * SymmetricEigenTest) and against the plain matrix written from the formula.
 *
 * <p>Tolerances, with sigma_max the largest eigenvalue: eigenvalues within DELTA = 1e-14 sigma_max
 * (Weyl, for a backward error of about 45 ulps of sigma_max, covering the FFT product's rounding);
 * eigenvectors within 1e-9 plus the Davis-Kahan bound 2 DELTA / gap of the dense spectrum (so a
 * vector whose eigenvalue sits in the rounding noise is not held to a precision no solver has);
 * residuals |Z v - sigma v| <= 1e-13 sigma_max from the plain product; orthonormality 1e-12.
 */
class LanczosEigenTest {
    private static final double DELTA = 1e-14;

    @Test
    void fftProductMatchesPlainProduct() {
        long seed = 77;
        SplittableRandom r = new SplittableRandom(seed);
        for (HankelVariant variant : HankelVariant.values()) {
            for (int n : new int[] {1, 2, 3, 5, 17, 97, 256, 1000}) {
                double[][] z = hankel(n, variant);
                double[] v = new double[n];
                for (int i = 0; i < n; i++) v[i] = r.nextDouble(-1, 1);
                double[] want = multiply(z, v);
                for (HankelOperator op : new HankelOperator[] {HankelOperator.fft(variant.generator(n)), HankelOperator.direct(variant.generator(n))}) {
                    assertEquals(n, op.size());
                    double[] got = new double[n];
                    op.apply(v, got);
                    double[] diff = new double[n];
                    for (int i = 0; i < n; i++) diff[i] = got[i] - want[i];
                    double rel = norm(diff) / norm(want);
                    assertTrue(rel <= 1e-13, op.getClass().getSimpleName() + " " + variant + " n=" + n + " seed=" + seed + ": relative L2 error " + rel);
                }
            }
        }
    }

    @Test
    void matchesDenseSolver() {
        record Case(int n, int k, HankelVariant variant) {}
        for (Case c : new Case[] {
                new Case(1, 1, HankelVariant.HANKEL), new Case(2, 2, HankelVariant.HANKEL_L),
                new Case(7, 3, HankelVariant.HANKEL), new Case(31, 24, HankelVariant.HANKEL),
                new Case(64, 24, HankelVariant.HANKEL_L), new Case(257, 24, HankelVariant.HANKEL),
                new Case(257, 24, HankelVariant.HANKEL_L), new Case(509, 24, HankelVariant.HANKEL),
                new Case(600, 5, HankelVariant.HANKEL_L)}) {
            double[][] z = hankel(c.n, c.variant);
            SymmetricEigen dense = SymmetricEigen.of(z);
            LanczosEigen lz = LanczosEigen.largest(HankelOperator.fft(c.variant.generator(c.n)), c.k);
            check(z, dense, lz, c.k, c.toString());
        }
    }

    @Test
    void thickRestartsConvergeToTheSamePairs() {
        int n = 400, k = 10;
        HankelVariant variant = HankelVariant.HANKEL_L; // its slower decay needs restarts with a small basis
        double[][] z = hankel(n, variant);
        SymmetricEigen dense = SymmetricEigen.of(z);
        LanczosEigen lz = LanczosEigen.largest(HankelOperator.direct(variant.generator(n)), k, k + 2, 1e-15, 3);
        assertTrue(lz.restarts() > 0, "expected restarts with a basis of k + 2, got none after " + lz.products() + " products");
        check(z, dense, lz, k, "n=400 k=10 basis 12");
    }

    @Test
    void residualsAtLargerLength() {
        int n = 2003, k = 24; // above the dense oracle's comfortable range: residuals and orthonormality only
        for (HankelVariant variant : HankelVariant.values()) {
            LanczosEigen lz = LanczosEigen.largest(HankelOperator.fft(variant.generator(n)), k);
            double[][] z = hankel(n, variant);
            double sigmaMax = lz.values()[k - 1];
            assertResiduals(z, lz.values(), lz.vectors(), 1e-13 * sigmaMax, variant + " n=" + n);
            assertOrthonormal(lz.vectors(), 1e-12, variant + " n=" + n);
            for (int i = 1; i < k; i++) assertTrue(lz.values()[i - 1] <= lz.values()[i], "ascending at " + i);
        }
    }

    @Test
    void badArgumentsAreRejected() {
        HankelOperator op = HankelOperator.fft(HankelVariant.HANKEL.generator(10));
        assertThrows(IllegalArgumentException.class, () -> LanczosEigen.largest(op, 0));
        assertThrows(IllegalArgumentException.class, () -> LanczosEigen.largest(op, 11));
        assertThrows(IllegalArgumentException.class, () -> LanczosEigen.largest(HankelOperator.fft(HankelVariant.HANKEL.generator(100)), 5, 5, 1e-15, 1));
        assertThrows(IllegalArgumentException.class, () -> HankelOperator.fft(new double[4]));
    }

    private static void check(double[][] z, SymmetricEigen dense, LanczosEigen lz, int k, String context) {
        int n = z.length;
        double sigmaMax = dense.values()[n - 1];
        assertEquals(k, lz.values().length, context);
        for (int t = 0; t < k; t++) {
            int r = n - k + t;
            assertEquals(dense.values()[r], lz.values()[t], DELTA * sigmaMax, context + ": eigenvalue " + t);
            double bound = 1e-9 + vectorBound(dense.values(), r, DELTA * sigmaMax);
            double d = distanceUpToSign(dense.vectors()[r], lz.vectors()[t]);
            assertTrue(d <= bound, context + ": eigenvector " + t + " (sigma " + lz.values()[t] + ") differs by " + d + " > " + bound);
        }
        assertResiduals(z, lz.values(), lz.vectors(), 1e-13 * sigmaMax, context);
        assertOrthonormal(lz.vectors(), 1e-12, context);
    }
}
