package dev.longconv.simd;

import java.util.Arrays;

/**
 * Stockham autosort complex FFT for sizes whose prime factors are at most {@link #MAX_RADIX}:
 * radix-4, 2, 3 and 5 butterflies written out, 7, 11 and 13 through a direct DFT of the radix
 * (O(p) per point, so still O(n log n) with a bounded constant). Autosort keeps the output in
 * natural order without a bit-reversal pass. Forward sign only; {@link ComplexFft} derives the
 * inverse by conjugation.
 */
final class MixedRadix {
    static final int MAX_RADIX = 13;

    private final int n;
    private final int[] radices;
    /** Per stage: w^(j k) for j < m, k = 1..p-1, interleaved, with w = exp(-2 pi i / (size at that stage)). */
    private final double[][] twiddles;
    /** exp(-2 pi i r / p) per distinct generic radix p, indexed by p. */
    private final double[][] roots = new double[MAX_RADIX + 1][];

    MixedRadix(int n) {
        if (2L * n + 4 * MAX_RADIX > Integer.MAX_VALUE - 8)
            throw new IllegalArgumentException("FFT size " + n + " needs a scratch buffer beyond Java's array limit");
        this.n = n;
        this.radices = factor(n);
        this.twiddles = new double[radices.length][];
        int cur = n;
        for (int s = 0; s < radices.length; s++) {
            int p = radices[s], m = cur / p;
            double[] tw = new double[2 * m * (p - 1)];
            long scale = n / cur; // w at this stage is the (n/cur)-th power of the size-n root
            for (int j = 0; j < m; j++) {
                for (int k = 1; k < p; k++) {
                    double ang = -2 * Math.PI * ((long) j * k * scale % n) / n;
                    tw[2 * (j * (p - 1) + k - 1)] = Math.cos(ang);
                    tw[2 * (j * (p - 1) + k - 1) + 1] = Math.sin(ang);
                }
            }
            twiddles[s] = tw;
            if (p > 5 && roots[p] == null) {
                double[] r = new double[2 * p];
                for (int i = 0; i < p; i++) {
                    r[2 * i] = Math.cos(-2 * Math.PI * i / p);
                    r[2 * i + 1] = Math.sin(-2 * Math.PI * i / p);
                }
                roots[p] = r;
            }
            cur = m;
        }
    }

    /** True when every prime factor of n is at most MAX_RADIX. */
    static boolean supports(int n) {
        for (int p = 2; p <= MAX_RADIX; p++) while (n % p == 0) n /= p;
        return n == 1;
    }

    /** Radices for n: 4 while it divides, then primes ascending (LaneStockham shares the order). */
    static int[] factor(int n) {
        int[] tmp = new int[32];
        int c = 0;
        while (n % 4 == 0) {
            tmp[c++] = 4;
            n /= 4;
        }
        for (int p = 2; p <= MAX_RADIX; p++) {
            while (n % p == 0) {
                tmp[c++] = p;
                n /= p;
            }
        }
        if (n != 1) throw new IllegalArgumentException("size has a prime factor above " + MAX_RADIX);
        return Arrays.copyOf(tmp, c);
    }

    /** Scratch doubles a transform needs: a second buffer of 2n, plus 4 * MAX_RADIX for generic butterflies. */
    int scratchSize() {
        return 2 * n + 4 * MAX_RADIX;
    }

    /** Forward DFT of x[off .. off+2n) in place; {@code scratch} has at least scratchSize() doubles. */
    void forward(double[] x, int off, double[] scratch) {
        double[] src = x, dst = scratch;
        int srcOff = off, dstOff = 0, cur = n, stride = 1;
        boolean inScratch = false; // x and scratch may be one array (Bluestein), so track the buffer, not the reference
        for (int s = 0; s < radices.length; s++) {
            int p = radices[s];
            switch (p) {
                case 4 -> radix4(src, srcOff, dst, dstOff, cur / 4, stride, twiddles[s]);
                case 2 -> radix2(src, srcOff, dst, dstOff, cur / 2, stride, twiddles[s]);
                case 3 -> radix3(src, srcOff, dst, dstOff, cur / 3, stride, twiddles[s]);
                case 5 -> radix5(src, srcOff, dst, dstOff, cur / 5, stride, twiddles[s]);
                default -> generic(src, srcOff, dst, dstOff, p, cur / p, stride, twiddles[s], roots[p], scratch, 2 * n);
            }
            double[] t = src;
            src = dst;
            dst = t;
            int to = srcOff;
            srcOff = dstOff;
            dstOff = to;
            cur /= p;
            stride *= p;
            inScratch = !inScratch;
        }
        if (inScratch) System.arraycopy(src, srcOff, x, off, 2 * n);
    }

    // Each stage: m butterfly groups j, stride s inner index q. Inputs at q + s(j + m r), outputs at q + s(p j + k),
    // output k multiplied by w^(j k).

    private static void radix2(double[] x, int xo, double[] y, int yo, int m, int s, double[] tw) {
        for (int j = 0; j < m; j++) {
            double wr = tw[2 * j], wi = tw[2 * j + 1];
            for (int q = 0; q < s; q++) {
                int i0 = xo + 2 * (q + s * j), i1 = i0 + 2 * s * m;
                double ar = x[i0], ai = x[i0 + 1], br = x[i1], bi = x[i1 + 1];
                int o0 = yo + 2 * (q + s * 2 * j), o1 = o0 + 2 * s;
                y[o0] = ar + br;
                y[o0 + 1] = ai + bi;
                double dr = ar - br, di = ai - bi;
                y[o1] = dr * wr - di * wi;
                y[o1 + 1] = dr * wi + di * wr;
            }
        }
    }

    private static void radix3(double[] x, int xo, double[] y, int yo, int m, int s, double[] tw) {
        final double h = Math.sqrt(3) / 2;
        for (int j = 0; j < m; j++) {
            double w1r = tw[4 * j], w1i = tw[4 * j + 1], w2r = tw[4 * j + 2], w2i = tw[4 * j + 3];
            for (int q = 0; q < s; q++) {
                int i0 = xo + 2 * (q + s * j), i1 = i0 + 2 * s * m, i2 = i1 + 2 * s * m;
                double a0r = x[i0], a0i = x[i0 + 1];
                double tr = x[i1] + x[i2], ti = x[i1 + 1] + x[i2 + 1];
                double dr = x[i1] - x[i2], di = x[i1 + 1] - x[i2 + 1];
                double cr = a0r - 0.5 * tr, ci = a0i - 0.5 * ti;
                double b1r = cr + h * di, b1i = ci - h * dr;
                double b2r = cr - h * di, b2i = ci + h * dr;
                int o0 = yo + 2 * (q + s * 3 * j), o1 = o0 + 2 * s, o2 = o1 + 2 * s;
                y[o0] = a0r + tr;
                y[o0 + 1] = a0i + ti;
                y[o1] = b1r * w1r - b1i * w1i;
                y[o1 + 1] = b1r * w1i + b1i * w1r;
                y[o2] = b2r * w2r - b2i * w2i;
                y[o2 + 1] = b2r * w2i + b2i * w2r;
            }
        }
    }

    private static void radix4(double[] x, int xo, double[] y, int yo, int m, int s, double[] tw) {
        for (int j = 0; j < m; j++) {
            int t = 6 * j;
            double w1r = tw[t], w1i = tw[t + 1], w2r = tw[t + 2], w2i = tw[t + 3], w3r = tw[t + 4], w3i = tw[t + 5];
            for (int q = 0; q < s; q++) {
                int i0 = xo + 2 * (q + s * j), st = 2 * s * m, i1 = i0 + st, i2 = i1 + st, i3 = i2 + st;
                double t0r = x[i0] + x[i2], t0i = x[i0 + 1] + x[i2 + 1];
                double t1r = x[i0] - x[i2], t1i = x[i0 + 1] - x[i2 + 1];
                double t2r = x[i1] + x[i3], t2i = x[i1 + 1] + x[i3 + 1];
                double t3r = x[i1] - x[i3], t3i = x[i1 + 1] - x[i3 + 1];
                // b1 = t1 - i t3, b3 = t1 + i t3
                double b1r = t1r + t3i, b1i = t1i - t3r, b2r = t0r - t2r, b2i = t0i - t2i, b3r = t1r - t3i, b3i = t1i + t3r;
                int o0 = yo + 2 * (q + s * 4 * j), o1 = o0 + 2 * s, o2 = o1 + 2 * s, o3 = o2 + 2 * s;
                y[o0] = t0r + t2r;
                y[o0 + 1] = t0i + t2i;
                y[o1] = b1r * w1r - b1i * w1i;
                y[o1 + 1] = b1r * w1i + b1i * w1r;
                y[o2] = b2r * w2r - b2i * w2i;
                y[o2 + 1] = b2r * w2i + b2i * w2r;
                y[o3] = b3r * w3r - b3i * w3i;
                y[o3 + 1] = b3r * w3i + b3i * w3r;
            }
        }
    }

    // cos/sin of 2 pi/5 and 4 pi/5 from Math, like every other twiddle, rather than closed forms with sqrt(5).
    private static final double C1 = Math.cos(2 * Math.PI / 5), S1 = Math.sin(2 * Math.PI / 5);
    private static final double C2 = Math.cos(4 * Math.PI / 5), S2 = Math.sin(4 * Math.PI / 5);

    private static void radix5(double[] x, int xo, double[] y, int yo, int m, int s, double[] tw) {
        for (int j = 0; j < m; j++) {
            int t = 8 * j;
            double w1r = tw[t], w1i = tw[t + 1], w2r = tw[t + 2], w2i = tw[t + 3];
            double w3r = tw[t + 4], w3i = tw[t + 5], w4r = tw[t + 6], w4i = tw[t + 7];
            for (int q = 0; q < s; q++) {
                int st = 2 * s * m, i0 = xo + 2 * (q + s * j), i1 = i0 + st, i2 = i1 + st, i3 = i2 + st, i4 = i3 + st;
                double a0r = x[i0], a0i = x[i0 + 1];
                // Outputs k and 5-k share the cosine part and differ in the sign of the sine part.
                double t1r = x[i1] + x[i4], t1i = x[i1 + 1] + x[i4 + 1], d1r = x[i1] - x[i4], d1i = x[i1 + 1] - x[i4 + 1];
                double t2r = x[i2] + x[i3], t2i = x[i2 + 1] + x[i3 + 1], d2r = x[i2] - x[i3], d2i = x[i2 + 1] - x[i3 + 1];
                double c1r = a0r + C1 * t1r + C2 * t2r, c1i = a0i + C1 * t1i + C2 * t2i;
                double c2r = a0r + C2 * t1r + C1 * t2r, c2i = a0i + C2 * t1i + C1 * t2i;
                double u1r = S1 * d1r + S2 * d2r, u1i = S1 * d1i + S2 * d2i;
                double u2r = S2 * d1r - S1 * d2r, u2i = S2 * d1i - S1 * d2i;
                // y1 = c1 - i u1, y4 = c1 + i u1, y2 = c2 - i u2, y3 = c2 + i u2
                double b1r = c1r + u1i, b1i = c1i - u1r, b4r = c1r - u1i, b4i = c1i + u1r;
                double b2r = c2r + u2i, b2i = c2i - u2r, b3r = c2r - u2i, b3i = c2i + u2r;
                int o0 = yo + 2 * (q + s * 5 * j), o1 = o0 + 2 * s, o2 = o1 + 2 * s, o3 = o2 + 2 * s, o4 = o3 + 2 * s;
                y[o0] = a0r + t1r + t2r;
                y[o0 + 1] = a0i + t1i + t2i;
                y[o1] = b1r * w1r - b1i * w1i;
                y[o1 + 1] = b1r * w1i + b1i * w1r;
                y[o2] = b2r * w2r - b2i * w2i;
                y[o2 + 1] = b2r * w2i + b2i * w2r;
                y[o3] = b3r * w3r - b3i * w3i;
                y[o3 + 1] = b3r * w3i + b3i * w3r;
                y[o4] = b4r * w4r - b4i * w4i;
                y[o4 + 1] = b4r * w4i + b4i * w4r;
            }
        }
    }

    private static void generic(double[] x, int xo, double[] y, int yo, int p, int m, int s, double[] tw, double[] roots,
                                double[] tmp, int tmpOff) {
        for (int j = 0; j < m; j++) {
            for (int q = 0; q < s; q++) {
                for (int r = 0; r < p; r++) {
                    int i = xo + 2 * (q + s * (j + m * r));
                    tmp[tmpOff + 2 * r] = x[i];
                    tmp[tmpOff + 2 * r + 1] = x[i + 1];
                }
                for (int k = 0; k < p; k++) {
                    double br = 0, bi = 0;
                    for (int r = 0, e = 0; r < p; r++) {
                        double ar = tmp[tmpOff + 2 * r], ai = tmp[tmpOff + 2 * r + 1], cr = roots[2 * e], ci = roots[2 * e + 1];
                        br += ar * cr - ai * ci;
                        bi += ar * ci + ai * cr;
                        e += k; // (r k) mod p, kept reduced by subtraction instead of an idiv per term
                        if (e >= p) e -= p;
                    }
                    int o = yo + 2 * (q + s * (p * j + k));
                    if (k == 0) {
                        y[o] = br;
                        y[o + 1] = bi;
                    } else {
                        int t = 2 * (j * (p - 1) + k - 1);
                        y[o] = br * tw[t] - bi * tw[t + 1];
                        y[o + 1] = br * tw[t + 1] + bi * tw[t];
                    }
                }
            }
        }
    }
}
