package dev.longconv.simd;

/**
 * FFT sizes of the form 2^a 3^b 5^c ("fast" sizes), which {@link ComplexFft} and {@link RealFft}
 * transform with radix-2/3/4/5 butterflies only. Other sizes are exact too, but pay for generic
 * radix-7/11/13 butterflies or a chirp-z transform of about four times the work; padding a
 * convolution to {@link #nextFast} avoids that. Stateless and thread-safe.
 */
public final class FftSizes {
    private FftSizes() {}

    /** Whether n >= 1 has no prime factor other than 2, 3 and 5; false for n &lt; 1. */
    public static boolean isFast(int n) {
        if (n < 1) return false;
        while (n % 2 == 0) n /= 2;
        while (n % 3 == 0) n /= 3;
        while (n % 5 == 0) n /= 5;
        return n == 1;
    }

    /**
     * The smallest 2^a 3^b 5^c that is at least {@code minN}.
     *
     * @throws IllegalArgumentException if minN &lt; 1, or if that size exceeds Integer.MAX_VALUE
     *     (minN above 2125764000 = 2^8 3^12 5^3)
     */
    public static int nextFast(int minN) {
        if (minN < 1) throw new IllegalArgumentException("FFT size must be >= 1, got " + minN);
        // Each 3^b 5^c below the best so far, doubled up to minN: O(log^2 minN) candidates.
        long best = Long.MAX_VALUE;
        for (long p5 = 1; p5 < best; p5 *= 5) {
            for (long p35 = p5; p35 < best; p35 *= 3) {
                long v = p35;
                while (v < minN) v *= 2;
                if (v == minN) return minN;
                if (v < best) best = v;
            }
        }
        if (best > Integer.MAX_VALUE)
            throw new IllegalArgumentException("no 2^a 3^b 5^c FFT size >= " + minN + " fits in an int");
        return (int) best;
    }
}
