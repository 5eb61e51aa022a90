package dev.longconv.backend.cuda;

import dev.longconv.LongConvException;

/** FFT lengths cuFFT transforms with its fast radix kernels (2, 3, 5, 7), as the convolutions choose them. */
final class CufftSizes {
    private CufftSizes() {}

    /** The smallest even n >= need whose prime factors are 2, 3, 5 and 7. */
    static int nextFastEven(long need) {
        for (long n = Math.max(2, need + (need & 1)); n <= Integer.MAX_VALUE; n += 2) {
            if (smooth(n)) return (int) n;
        }
        throw new LongConvException("cuda", "length", "an FFT of at most 2^31-1 points", need + " points");
    }

    static boolean smooth(long n) {
        for (int p : new int[] {2, 3, 5, 7}) while (n % p == 0) n /= p;
        return n == 1;
    }
}
