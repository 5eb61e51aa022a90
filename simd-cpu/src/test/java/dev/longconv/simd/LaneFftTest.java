package dev.longconv.simd;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The lane-batched float32 FFT against the float64 RealFft, lane by lane, at this JVM's lane width
 * (the build runs this class once at the CPU's preferred width and once with -Dlongconv.vectorBits=128).
 */
class LaneFftTest {
    static final long SEED = Long.getLong("longconv.test.seed", 5L);
    /** Both sides of the four-step threshold (n/2 = 256), with odd row and column counts (n = 2250: 25 x 45; n = 600: 15 x 20). */
    static final int[] SIZES = {2, 4, 6, 8, 10, 12, 16, 18, 20, 30, 50, 64, 90, 100, 250, 256, 500, 512, 540, 576, 600, 1000, 1024, 2250, 4096,
            6000, 16384, 65536, 131072};
    static final double TOL = 2e-6; // float32 arithmetic, relative L2 per lane

    @BeforeAll
    static void needsVectorApi() {
        assumeTrue(Simd.status().available(), () -> "vector path unavailable: " + Simd.status().reason());
        System.out.println("LaneFftTest at " + Lanes.bits() + " bits");
    }

    @Test
    void forwardAndInverseMatchFloat64PerLane() {
        double worstF = 0, worstI = 0;
        {
            for (int n : SIZES) {
                int w = Lanes.W;
                long seed = SEED * 1000003 + n * 31L + w;
                Random r = new Random(seed);
                LaneFft fft = LaneFft.of(n);
                float[] x = new float[n * w + 3];
                for (int i = 3; i < x.length; i++) x[i] = 2 * r.nextFloat() - 1;
                float[] re = new float[fft.spectrumFloats()], im = new float[fft.spectrumFloats()], scratch = new float[fft.scratchFloats()];
                fft.forward(x, 3, re, im, scratch);
                float[] back = new float[n * w + 1];
                fft.inverse(re, im, back, 1, scratch);
                for (int l = 0; l < w; l++) {
                    double[] row = new double[n], spec = new double[2 * (n / 2 + 1)];
                    for (int t = 0; t < n; t++) row[t] = x[3 + t * w + l];
                    RealFft.of(n).forward(row, 0, spec, 0);
                    double num = 0, den = 0, num2 = 0, den2 = 0;
                    for (int k = 0; k <= n / 2; k++) {
                        num += sq(re[k * w + l] - spec[2 * k]) + sq(im[k * w + l] - spec[2 * k + 1]);
                        den += sq(spec[2 * k]) + sq(spec[2 * k + 1]);
                    }
                    for (int t = 0; t < n; t++) {
                        num2 += sq(back[1 + t * w + l] - row[t]);
                        den2 += sq(row[t]);
                    }
                    double ef = Math.sqrt(num / den), ei = Math.sqrt(num2 / den2);
                    String what = "n=" + n + " W=" + w + " lane " + l + " seed=" + seed;
                    assertTrue(ef < TOL, "forward " + what + " err=" + ef);
                    assertTrue(ei < TOL, "inverse(forward) " + what + " err=" + ei);
                    worstF = Math.max(worstF, ef);
                    worstI = Math.max(worstI, ei);
                }
            }
        }
        System.out.printf("LaneFft worst relative L2: forward %.2e, round trip %.2e%n", worstF, worstI);
    }

    @Test
    void inverseIgnoresImaginaryPartsOfDcAndNyquist() {
        int n = 12, w = Lanes.W;
        LaneFft fft = LaneFft.of(n);
        Random r = new Random(SEED);
        float[] re = new float[fft.spectrumFloats()], im = new float[fft.spectrumFloats()], out1 = new float[n * w], out2 = new float[n * w];
        for (int i = 0; i < re.length; i++) {
            re[i] = r.nextFloat();
            im[i] = r.nextFloat();
        }
        float[] scratch = new float[fft.scratchFloats()];
        fft.inverse(re, im, out1, 0, scratch);
        for (int l = 0; l < w; l++) {
            im[l] = 0;
            im[(n / 2) * w + l] = 0;
        }
        fft.inverse(re, im, out2, 0, scratch);
        for (int i = 0; i < out1.length; i++) assertEquals(out2[i], out1[i], 0f);
    }

    @Test
    void sizes() {
        assertEquals(2, LaneFft.sizeFor(1));
        assertEquals(14 + 2, LaneFft.sizeFor(15));
        assertEquals(16384, LaneFft.sizeFor(16383));
        // By estimated time, not by count: 2000 and 1080 (factors 5) cost more than 2048 and 1152.
        assertEquals(2048, LaneFft.sizeFor(1999));
        assertEquals(1152, LaneFft.sizeFor(1079));
        assertEquals(2304, LaneFft.sizeFor(2049));
        for (int m = 1; m < 100_000; m += 7) {
            int s = LaneFft.sizeFor(m), pow2 = Integer.highestOneBit(Math.max(1, m - 1)) * 2;
            assertTrue(s <= Math.max(2, pow2), "sizeFor(" + m + ") = " + s + " is past the next power of two");
            assertTrue(LaneFft.relativeCost(s / 2) <= LaneFft.relativeCost(FftSizes.nextFast(Math.max(1, (m + 1) / 2))),
                    "sizeFor(" + m + ") = " + s + " costs more than the smallest size");
        }
        for (int m = 1; m < 3000; m++) {
            int s = LaneFft.sizeFor(m);
            assertTrue(s >= m && s % 2 == 0 && FftSizes.isFast(s / 2), "sizeFor(" + m + ") = " + s);
        }
        assertThrows(IllegalArgumentException.class, () -> LaneFft.of(14));
        assertThrows(IllegalArgumentException.class, () -> LaneFft.of(9));
    }

    /**
     * The Stockham stages exist for radices 2, 3, 4 and 5 only; a size with another prime factor is refused where
     * the stages are built (it used to run its radix-7, -11 or -13 stages as radix 5 and return wrong values).
     */
    /** The four-step split takes the column count with the fewest Stockham passes near sqrt(half), no lone radix-2 on both sides. */
    @Test
    void fourStepSplitsAvoidRadixTwoPasses() {
        assertEquals(16, LaneFft.columnsFor(1024), "half 1024: 16 x 64 (five radix-4 passes), not 32 x 32 (six)");
        assertEquals(64, LaneFft.columnsFor(8192), "half 8192: 64 x 128, seven passes either way, the larger count");
        assertEquals(256, LaneFft.columnsFor(65536), "half 65536: 256 x 256");
        assertEquals(20, LaneFft.columnsFor(540), "half 540: 20 x 27 (4·5 and 3·3·3: five passes), not 18 x 30 (six)");
        for (int half : new int[] {300, 1024, 2250, 4096, 8192, 65536}) {
            int m1 = LaneFft.columnsFor(half);
            assertEquals(0, half % m1, "half " + half);
            assertTrue((long) m1 * m1 <= half && (long) m1 * m1 * LaneFft.COLUMN_SPREAD * LaneFft.COLUMN_SPREAD >= half / 2, "half " + half + " m1 " + m1);
        }
    }

    @Test
    void stockhamRefusesSizesWithoutStages() {
        for (int m : new int[] {7, 11, 13, 14, 21, 49, 2 * 3 * 5 * 7}) {
            var e = assertThrows(IllegalArgumentException.class, () -> new LaneStockham(m), "m=" + m);
            assertTrue(e.getMessage().contains("m = " + m), e.getMessage());
        }
        for (int m : new int[] {1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 15, 16, 25, 30, 60, 64}) assertEquals(m, new LaneStockham(m).size());
    }

    /**
     * The run that reads its input and writes its output where they lie (the four-step rows) against a float64 DFT per
     * lane, in place and to another place, and bit for bit against the ping-pong run (the same stages in the same order).
     */
    @Test
    void stockhamRunsBetweenAnyInputAndOutput() {
        Random rnd = new Random(SEED);
        int w = Lanes.W;
        for (int m : new int[] {1, 2, 3, 4, 5, 6, 8, 12, 16, 20, 45, 64, 100}) {
            LaneStockham st = new LaneStockham(m);
            int pitch = st.pitch();
            float[] in = new float[2 * pitch];
            for (int i = 0; i < m * w; i++) {
                in[i] = rnd.nextFloat() - 0.5f;
                in[pitch + i] = rnd.nextFloat() - 0.5f;
            }
            float[] pingPong = new float[4 * pitch];
            System.arraycopy(in, 0, pingPong, 0, in.length);
            int r = st.run(pingPong, 0, 2 * pitch);
            // Layout: input/output row with re and im 3 floats apart from the pitch, then the buffers.
            int re = 5, im = 5 + m * w + 3, out = im + m * w + 7, outIm = out + m * w + 1, tmp = outIm + m * w + 2;
            for (boolean inPlace : new boolean[] {true, false}) {
                float[] a = new float[tmp + 4 * pitch];
                System.arraycopy(in, 0, a, re, m * w);
                System.arraycopy(in, pitch, a, im, m * w);
                int oRe = inPlace ? re : out, oIm = inPlace ? im : outIm;
                st.run(a, re, im, oRe, oIm, tmp);
                for (int i = 0; i < m * w; i++) {
                    assertEquals(pingPong[r + i], a[oRe + i], "m=" + m + " inPlace=" + inPlace + " re " + i + " seed " + SEED);
                    assertEquals(pingPong[r + pitch + i], a[oIm + i], "m=" + m + " inPlace=" + inPlace + " im " + i + " seed " + SEED);
                }
                for (int l = 0; l < w; l++) {
                    double num = 0, den = 0;
                    for (int k = 0; k < m; k++) {
                        double sr = 0, si = 0;
                        for (int t = 0; t < m; t++) {
                            double ang = -2 * Math.PI * ((long) t * k % m) / m, xr = in[t * w + l], xi = in[pitch + t * w + l];
                            sr += xr * Math.cos(ang) - xi * Math.sin(ang);
                            si += xr * Math.sin(ang) + xi * Math.cos(ang);
                        }
                        num += Math.pow(a[oRe + k * w + l] - sr, 2) + Math.pow(a[oIm + k * w + l] - si, 2);
                        den += sr * sr + si * si;
                    }
                    double err = Math.sqrt(num / den);
                    assertTrue(err < TOL, "m=" + m + " lane " + l + " inPlace=" + inPlace + ": relative L2 " + err + " seed " + SEED);
                }
            }
        }
    }

    /**
     * convolve against a float64 direct circular convolution per lane: partial inputs (nonzero < n, with
     * garbage past it that must not be read), partial outputs, y aliasing x, and outputs past outCount
     * left untouched.
     */
    @Test
    void convolveMatchesFloat64CircularConvolution() {
        double worst = 0;
        for (int c = 0; c < 2 * SIZES.length; c++) {
            int n = SIZES[c / 2];
            boolean causal = c % 2 == 1;
            int w = Lanes.W;
            long seed = SEED * 7919 + n;
            Random r = new Random(seed);
            LaneFft fft = LaneFft.of(n);
            // At least n/2 outputs: a relative L2 over one or two outputs measures cancellation, not the transform.
            // The causal shape (n/2 inputs, n/2 outputs) is where the four-step's column transforms skip the zero half
            // of their input and write only the half of their output that is unpacked.
            int nonzero = causal ? n / 2 : 1 + r.nextInt(n), outCount = causal ? n / 2 : n / 2 + r.nextInt(n / 2 + 1);
            float[] k = new float[n * w], x = new float[n * w];
            for (int i = 0; i < k.length; i++) k[i] = 2 * r.nextFloat() - 1;
            for (int i = 0; i < x.length; i++) x[i] = i < nonzero * w ? 2 * r.nextFloat() - 1 : Float.NaN;
            float[] kRe = new float[fft.spectrumFloats()], kIm = new float[fft.spectrumFloats()], scratch = new float[fft.scratchFloats()];
            fft.convolutionSpectrum(k, 0, kRe, kIm, scratch);
            float[] y = x.clone();
            fft.convolve(y, 0, nonzero, kRe, kIm, y, 0, outCount, scratch);
            // Direct sums cost n per output: large sizes check a seeded sample of outputs (always the first and last).
            int[] ts = outCount <= 512 ? IntStream.range(0, outCount).toArray()
                    : IntStream.concat(IntStream.of(0, outCount - 1), r.ints(254, 0, outCount)).toArray();
            for (int l = 0; l < (n > 20000 ? 2 : w); l++) {
                double num = 0, den = 0;
                for (int t : ts) {
                    double ref = 0;
                    for (int s = 0; s < nonzero; s++) ref += (double) x[s * w + l] * k[Math.floorMod(t - s, n) * w + l];
                    num += sq(y[t * w + l] - ref);
                    den += sq(ref);
                }
                double err = Math.sqrt(num / Math.max(den, 1e-300));
                String what = "n=" + n + " nonzero=" + nonzero + " outCount=" + outCount + " lane " + l + " seed=" + seed;
                assertTrue(err < TOL, "convolve " + what + " err=" + err);
                worst = Math.max(worst, err);
            }
            for (int l = 0; l < w; l++) {
                for (int t = outCount; t < n; t++) {
                    float want = x[t * w + l];
                    assertTrue(Float.compare(y[t * w + l], want) == 0, "convolve wrote past outCount at t=" + t + ", n=" + n + " seed=" + seed);
                }
            }
        }
        System.out.printf("LaneFft.convolve worst relative L2: %.2e%n", worst);
    }

    static double sq(double v) {
        return v * v;
    }
}
