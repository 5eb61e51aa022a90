package dev.longconv.layers;

/**
 * The product v -> Z v with an L x L Hankel matrix Z[i][j] = g[i + j] (0-based), given by its
 * generator g of length 2L-1. {@link #direct} sums the definition in O(L^2); {@link #fft} computes
 * the same correlation through one real FFT pair in O(L log L).
 */
public sealed interface HankelOperator permits HankelDirectOperator, HankelFftOperator {
    /** The matrix size L. */
    int size();

    /** out[0 .. L) = Z v[0 .. L); {@code v} and {@code out} must be distinct arrays of length >= L. */
    void apply(double[] v, double[] out);

    /** The O(L^2) product, summed row by row from the generator. */
    static HankelOperator direct(double[] generator) {
        return new HankelDirectOperator(generator);
    }

    /** The O(L log L) product through a real FFT; the generator's spectrum is computed here, once. */
    static HankelOperator fft(double[] generator) {
        return new HankelFftOperator(generator);
    }
}
