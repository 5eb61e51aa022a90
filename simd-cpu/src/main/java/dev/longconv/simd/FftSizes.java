package dev.longconv.simd;

/** FFT sizes of the form 2^a 3^b 5^c, which the mixed-radix FFT handles without Bluestein. */
public final class FftSizes {
    private FftSizes() {}

    public static boolean isFast(int n) {
        if (n < 1) return false;
        for (int p : new int[] {2, 3, 5}) while (n % p == 0) n /= p;
        return n == 1;
    }

    /** The smallest 2^a 3^b 5^c that is at least {@code minN} (minN >= 1). */
    public static int nextFast(int minN) {
        if (minN < 1) throw new IllegalArgumentException("FFT size must be >= 1, got " + minN);
        long best = Long.MAX_VALUE;
        for (long p5 = 1; p5 < best; p5 *= 5) {
            for (long p35 = p5; p35 < best; p35 *= 3) {
                long v = p35;
                while (v < minN) v *= 2;
                if (v < best) best = v;
                if (v == minN) return minN;
            }
        }
        if (best > Integer.MAX_VALUE) throw new IllegalArgumentException("no 2^a 3^b 5^c FFT size >= " + minN + " fits in an int");
        return (int) best;
    }
}
