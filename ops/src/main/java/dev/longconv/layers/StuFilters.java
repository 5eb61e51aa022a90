package dev.longconv.layers;

import dev.longconv.LongConvException;
import dev.longconv.Tensor;

/**
 * The STU spectral filters with flash-stu's semantics: the K eigenvectors of the L x L Hankel matrix
 * Z ({@link HankelVariant}) with the largest eigenvalues sigma, each scaled by sigma^(1/4), as the
 * columns of an [L, K] float64 tensor in ascending order of sigma (flash-stu takes the last K columns
 * of torch/numpy {@code eigh}, so a trained model's K x d weights line up column for column).
 *
 * <p>Eigenvector signs are arbitrary in any solver; here each column is flipped so that its entry of
 * largest magnitude (the first such, on a tie) is positive. A model trained with flash-stu's own
 * filters may therefore need its projection rows negated where the signs differ; models should travel
 * with their filters.
 *
 * <p>Small L uses a dense solver ({@link SymmetricEigen}, O(L^3)); larger L uses Lanczos
 * ({@link LanczosEigen}) on the O(L log L) FFT product with Z, which finds K = 24 filters of
 * L = 2^20 in seconds and needs about (2K + 17) L doubles of working memory. Up to L = 4096 the pairs are then
 * refined ({@link HankelEigenRefinement}: a Ritz step and Newton steps with exactly summed products) to the
 * eigenvectors of the float64 matrix itself: at L = 1024, K = 24 they agree with numpy's eigh within LAPACK's own
 * driver spread (5.9e-7 of the largest filter's norm; Lanczos alone was 1.2e-5 off), and at L = 128 and 257 with
 * 40-digit eigenvectors to 2e-14 (numpy's are 6e-5 off there). It costs about 0.3 s at L = 1024 and 1.5 s at
 * L = 4096 on a 2-core machine; above 4096 the Lanczos result is used as it is.
 *
 * <p>Z is positive semidefinite, but an eigenvalue near zero can come out slightly negative in
 * rounding; its filter is then scaled by 0 (flash-stu would produce NaN there).
 */
public final class StuFilters {
    /** Above this length the Lanczos solver is used (it is faster from about here on). */
    static final int DENSE_MAX_LENGTH = 128;
    /** Up to this length the dense solver also serves K > L/4. */
    static final int DENSE_LARGE_K_MAX_LENGTH = 1024;
    /**
     * Up to this length the pairs are refined with exactly summed residuals (K L² multiply-adds in double-double
     * per step); above it the Lanczos result is used as it is (the wanted eigenvalues sit further above the rounding
     * noise as L grows: σ_24/σ_1 is 1e-14 at L = 1024, 4e-13 at 4096).
     */
    static final int REFINE_MAX_LENGTH = 4096;
    /** Pairs computed beyond K for the refinement's Ritz step. */
    static final int REFINE_EXTRA = 8;
    /**
     * Up to this length the refinement starts from the dense solver: below about 1e-15 of the largest eigenvalue
     * the FFT-product Lanczos returns rounding noise (negative values, mixtures of the near-null eigenvectors), from
     * which Newton would converge to the wrong pairs, while the dense solver on the reversed matrix still resolves
     * them (at L = 257 it finds LAPACK's 1.55e-17 and 1.01e-16 where Lanczos finds -1.5e-16 ... 3e-16).
     */
    static final int DENSE_START_MAX_LENGTH = 512;
    /** Above that, up to this length, the dense solver is the fallback when the wanted eigenvalues reach {@link #LANCZOS_FLOOR}. */
    static final int DENSE_FALLBACK_MAX_LENGTH = 1024;
    /** The smallest eigenvalue, relative to the largest, that the Lanczos start is trusted with. */
    static final double LANCZOS_FLOOR = 1e-14;
    private static final String OP = "stu-filters";

    private StuFilters() {}

    /**
     * The [L, K] float64 filter tensor; the caller owns (closes) it.
     *
     * @throws LongConvException if L &lt; 1 or K is outside 1..L
     */
    public static Tensor compute(int length, int count, HankelVariant variant) {
        return eigenpairs(length, count, variant).toTensor();
    }

    /**
     * The K largest eigenpairs of Z in ascending order of eigenvalue, signs fixed as described above.
     *
     * @throws LongConvException if L &lt; 1 or K is outside 1..L
     */
    public static Eigenpairs eigenpairs(int length, int count, HankelVariant variant) {
        check(length, count, variant);
        // Lanczos wants a basis of about 2K vectors; when that is most of the space and the dense
        // O(L^3) solve is still affordable, the dense solver is simpler and no slower.
        boolean dense = length <= DENSE_MAX_LENGTH || (4L * count > length && length <= DENSE_LARGE_K_MAX_LENGTH);
        if (length > REFINE_MAX_LENGTH) return dense ? dense(length, count, variant) : lanczos(length, count, variant);
        // Near the rounding noise a solver's pairs can be mixtures: a few pairs more than K give the Ritz step room
        // to sort them out. Lanczos is trusted (and refined as it is) while the wanted eigenvalues stay above its floor.
        int m = count + Math.min(REFINE_EXTRA, length - count);
        if (dense || length <= DENSE_START_MAX_LENGTH) return refined(dense(length, m, variant), variant, count, true);
        Eigenpairs e = lanczos(length, count, variant);
        if (e.eigenvalues()[0] >= LANCZOS_FLOOR * e.eigenvalues()[count - 1]) return refined(e, variant, count, false);
        return refined(length <= DENSE_FALLBACK_MAX_LENGTH ? dense(length, m, variant) : lanczos(length, m, variant), variant, count, true);
    }

    /**
     * The pairs refined against residuals summed in double-double ({@link HankelEigenRefinement}): the
     * eigenvectors of the float64 matrix to well below the level at which float64 solvers disagree.
     */
    static Eigenpairs refined(Eigenpairs e, HankelVariant variant, int count, boolean ritz) {
        double[] g = variant.generator(e.length());
        double[][] vectors = new double[e.count()][];
        for (int k = 0; k < vectors.length; k++) vectors[k] = e.eigenvectors()[k].clone();
        Eigenpairs r = new HankelEigenRefinement(g, HankelOperator.fft(g)).refineLargest(e.eigenvalues().clone(), vectors, count, ritz);
        // Values in the rounding noise can change order as they are resolved: keep the pairs ascending.
        double[] values = r.eigenvalues();
        Integer[] order = new Integer[values.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        java.util.Arrays.sort(order, (a, b) -> Double.compare(values[a], values[b]));
        double[] sortedValues = new double[count];
        double[][] sortedVectors = new double[count][];
        for (int i = 0; i < count; i++) {
            sortedValues[i] = values[order[i]];
            sortedVectors[i] = r.eigenvectors()[order[i]];
        }
        return new Eigenpairs(e.length(), sortedValues, fixSigns(sortedVectors));
    }

    /** The dense-solver path, whatever L (tests use it as the oracle of the Lanczos path). */
    static Eigenpairs dense(int length, int count, HankelVariant variant) {
        check(length, count, variant);
        // Z's large entries sit top-left; the solver keeps most relative accuracy for small
        // eigenvalues when they sit bottom-right, so it works on the index-reversed matrix.
        double[] g = variant.generator(length);
        double[][] reversed = new double[length][length];
        for (int i = 0; i < length; i++) {
            for (int j = 0; j < length; j++) reversed[i][j] = g[2 * length - 2 - i - j];
        }
        SymmetricEigen eig = SymmetricEigen.of(reversed);
        double[] values = new double[count];
        double[][] vectors = new double[count][length];
        for (int t = 0; t < count; t++) {
            int r = length - count + t;
            values[t] = eig.values()[r];
            for (int i = 0; i < length; i++) vectors[t][i] = eig.vectors()[r][length - 1 - i];
        }
        return new Eigenpairs(length, values, fixSigns(vectors));
    }

    /** The Lanczos path with the FFT product, whatever L. */
    static Eigenpairs lanczos(int length, int count, HankelVariant variant) {
        check(length, count, variant);
        LanczosEigen eig = LanczosEigen.largest(HankelOperator.fft(variant.generator(length)), count);
        return new Eigenpairs(length, eig.values(), fixSigns(eig.vectors()));
    }

    private static void check(int length, int count, HankelVariant variant) {
        if (variant == null) throw new LongConvException(OP, "variant", "\"hankel\" or \"hankel-l\"", "null");
        if (length < 1) throw new LongConvException(OP, "L", ">= 1", String.valueOf(length));
        if (count < 1 || count > length) {
            throw new LongConvException(OP, "K", "1 <= K <= L = " + length, String.valueOf(count));
        }
    }

    private static double[][] fixSigns(double[][] vectors) {
        for (double[] v : vectors) {
            int arg = 0;
            for (int i = 1; i < v.length; i++) {
                if (Math.abs(v[i]) > Math.abs(v[arg])) arg = i;
            }
            if (v[arg] < 0) {
                for (int i = 0; i < v.length; i++) v[i] = -v[i];
            }
        }
        return vectors;
    }

    /**
     * K eigenpairs of the L x L STU Hankel matrix.
     *
     * @param length       L
     * @param eigenvalues  sigma_1 &lt;= ... &lt;= sigma_K (the K largest of Z)
     * @param eigenvectors eigenvectors[k] is the unit eigenvector of eigenvalues[k], length L
     */
    public record Eigenpairs(int length, double[] eigenvalues, double[][] eigenvectors) {
        /** K, the number of pairs. */
        public int count() {
            return eigenvalues.length;
        }

        /** The scale of filter k: sigma_k^(1/4), with a (rounding-)negative sigma taken as 0. */
        public double scale(int k) {
            return Math.sqrt(Math.sqrt(Math.max(eigenvalues[k], 0.0)));
        }

        /** The filters row-major [L, K]: filters[i * K + k] = eigenvectors[k][i] * scale(k). */
        public double[] filters() {
            int count = count();
            double[] out = new double[length * count];
            for (int k = 0; k < count; k++) {
                double s = scale(k);
                double[] v = eigenvectors[k];
                for (int i = 0; i < length; i++) out[i * count + k] = v[i] * s;
            }
            return out;
        }

        /** The filters as a new float64 [L, K] tensor the caller owns. */
        public Tensor toTensor() {
            return Tensor.of(filters(), length, count());
        }
    }
}
