package dev.longconv.backend.scalar;

import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.ops.ConvPlan;
import dev.longconv.ops.ConvProblem;
import dev.longconv.ops.spi.ChannelKernel;
import dev.longconv.ops.spi.Plans;
import dev.longconv.ops.spi.Seq;
import dev.longconv.simd.FftSizes;
import dev.longconv.simd.RealFft;

import java.util.Arrays;

/**
 * A long convolution on the scalar backend, in float64 whatever the storage dtype: each channel's kernel
 * prepared once, as its spectrum at the cheapest fast size (2^a 3^b 5^c) free of wrap-around, or as its
 * taps when the direct sum costs fewer operations. Output t is element first + t of the full linear
 * convolution (first = 0 causal, L - 1 toeplitz).
 */
final class ScalarConvPlan implements ConvPlan {
    private final ConvProblem problem;
    private final int taps, first, fftSize;
    /** [D][taps]: the kernel rows (the direct path, and FFT-path rows holding a non-finite input). */
    private final double[][] kernel;
    /** [D][2 (N/2+1)]: the kernel spectra (FFT path). */
    private final double[][] spectra;
    private final RealFft fft;
    /** Per thread: input row, output row, padded row, spectrum. */
    private final ThreadLocal<double[][]> scratch;

    private ScalarConvPlan(ConvProblem problem, Tensor k) {
        this.problem = problem;
        this.taps = problem.effectiveTaps();
        this.first = problem.firstOutput();
        int len = problem.length();
        int n = FftSizes.nextFast(Math.toIntExact(problem.aliasFreeSize()));
        boolean direct = directIsCheaper(len, taps, n);
        this.fftSize = direct ? 0 : n;
        this.fft = direct ? null : RealFft.of(n);
        ChannelKernel ck = ChannelKernel.of(k, problem.layout());
        double[] row = new double[ck.taps()];
        this.kernel = new double[problem.channels()][];
        this.spectra = direct ? null : new double[problem.channels()][];
        double[] buf = new double[Math.max(n, 1)];
        for (int d = 0; d < problem.channels(); d++) {
            ck.read(d, row);
            kernel[d] = Arrays.copyOf(row, taps);
            if (!direct) {
                Arrays.fill(buf, 0);
                System.arraycopy(row, 0, buf, 0, taps);
                spectra[d] = new double[2 * (n / 2 + 1)];
                fft.forward(buf, 0, spectra[d], 0);
            }
        }
        this.scratch = ThreadLocal.withInitial(() -> new double[][] {
                new double[len], new double[len], new double[fftSize], new double[fftSize == 0 ? 0 : 2 * (fftSize / 2 + 1)]});
    }

    /** The plan of kernel k for {@code problem} (k already checked against it). */
    static ScalarConvPlan of(ConvProblem problem, Tensor k) {
        if (problem.aliasFreeSize() > 1 << 30) {
            throw new LongConvException(problem.op(), "x", "L + taps - 1 at most 2^30 (the FFT's Java arrays)", problem.aliasFreeSize() + " points");
        }
        long n = FftSizes.nextFast((int) problem.aliasFreeSize());
        Plans.requireHeap(problem.op(), "the plan's working memory (kernel rows and spectra at N=" + n + ", row buffers)",
                8L * problem.channels() * (problem.effectiveTaps() + n + 2) + 8L * (2L * problem.length() + 2 * n + 2));
        return new ScalarConvPlan(problem, k);
    }

    /** Direct O(L * taps) sum against an FFT of size n (about 5 n log2 n flops for forward and inverse). */
    static boolean directIsCheaper(int len, int taps, int n) {
        double fftCost = 5.0 * n * (Math.log(n) / Math.log(2)) + 4.0 * n;
        return 2.0 * len * taps <= fftCost;
    }

    @Override
    public ConvProblem problem() {
        return problem;
    }

    @Override
    public Description describe() {
        return new Description("scalar", fftSize == 0 ? "direct" : "fft", fftSize);
    }

    @Override
    public void applyInto(Tensor x, Tensor y) {
        String op = problem.op();
        Plans.checkInput(op, x, problem.layout(), problem.channels(), problem.length(), problem.dtype());
        Plans.checkOutput(op, x, y);
        Plans.checkAliasing(op, y, x, null, null, null);
        Seq in = Seq.of(x, problem.layout()), out = Seq.of(y, problem.layout());
        double[][] s = scratch.get();
        double[] row = s[0], res = s[1];
        for (int d = 0; d < problem.channels(); d++) {
            for (int b = 0; b < in.batch(); b++) {
                in.read(b, d, row);
                // An FFT spreads a non-finite input to every output; the direct sum keeps the definition's.
                if (fftSize == 0 || !allFinite(row)) direct(kernel[d], row, res);
                else convolve(spectra[d], row, res, s[2], s[3]);
                out.write(b, d, res);
            }
        }
    }

    private static boolean allFinite(double[] row) {
        for (double v : row) if (!Double.isFinite(v)) return false;
        return true;
    }

    /** res[t] = sum_j k[j] in[first + t - j] over the taps that land inside [0, L). */
    private void direct(double[] k, double[] in, double[] res) {
        int len = problem.length();
        for (int t = 0; t < len; t++) {
            int pos = first + t;
            int j0 = Math.max(0, pos - (len - 1)), j1 = Math.min(taps - 1, pos);
            double acc = 0;
            for (int j = j1; j >= j0; j--) acc += k[j] * in[pos - j];
            res[t] = acc;
        }
    }

    /** res = (k * in)[first .. first + L) through the FFT, in zero-padded to N. */
    private void convolve(double[] spectrum, double[] in, double[] res, double[] buf, double[] spec) {
        Arrays.fill(buf, 0);
        System.arraycopy(in, 0, buf, 0, in.length);
        fft.forward(buf, 0, spec, 0);
        for (int f = 0; f < spec.length; f += 2) {
            double xr = spec[f], xi = spec[f + 1], kr = spectrum[f], ki = spectrum[f + 1];
            spec[f] = xr * kr - xi * ki;
            spec[f + 1] = xr * ki + xi * kr;
        }
        fft.inverse(spec, 0, buf, 0);
        System.arraycopy(buf, first, res, 0, res.length);
    }
}
