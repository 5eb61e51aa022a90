package dev.longconv.ops.spi;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.LongConvException;
import dev.longconv.ShortConvMode;
import dev.longconv.Tensor;
import dev.longconv.backend.scalar.ScalarBackend;
import dev.longconv.ops.Reference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad arguments give one line naming the op, the argument, the expected and the actual shape or dtype. */
class CheckTest {
    static final ScalarBackend B = new ScalarBackend();

    private static void rejects(String op, String arg, String[] words, Executable e) {
        LongConvException ex = assertThrows(LongConvException.class, e);
        assertEquals(op, ex.op());
        assertEquals(arg, ex.argument());
        assertFalse(ex.getMessage().contains("\n"), "one line");
        assertTrue(ex.getMessage().startsWith(op + ": argument " + arg + ": expected "), ex.getMessage());
        for (String w : words) assertTrue(ex.getMessage().contains(w), "'" + w + "' in: " + ex.getMessage());
    }

    @Test
    void messages() {
        try (Tensor x = Tensor.zeros(DType.FLOAT32, 2, 3, 8); Tensor k = Tensor.zeros(DType.FLOAT32, 4, 5);
             Tensor k64 = Tensor.zeros(DType.FLOAT64, 3, 5); Tensor x2 = Tensor.zeros(DType.FLOAT32, 3, 8);
             Tensor w4 = Tensor.zeros(DType.FLOAT32, 3, 4); Tensor bias = Tensor.zeros(DType.FLOAT32, 2);
             Tensor kr = Tensor.zeros(DType.FLOAT32, 3, 4); Tensor t14 = Tensor.zeros(DType.FLOAT32, 3, 14);
             Tensor re = Tensor.zeros(DType.FLOAT32, 3, 4); Tensor a = Tensor.zeros(DType.FLOAT32, 2, 3)) {
            rejects("causal-conv", "k", new String[] {"[D=3, Lk>=1]", "float32[4, 5]"}, () -> B.causalConv(x, k, Layout.BDL));
            rejects("causal-conv", "k", new String[] {"[Lk>=1, D=8]", "bld"}, () -> B.causalConv(x, k, Layout.BLD));
            rejects("causal-conv", "k", new String[] {"dtype float32", "float64"}, () -> Reference.causalConv(x, k64, Layout.BDL));
            rejects("causal-conv", "x", new String[] {"rank 3", "float32[3, 8]"}, () -> B.causalConv(x2, k, Layout.BDL));
            rejects("toeplitz-conv", "k", new String[] {"2L-1=15", "[3, 14]"}, () -> B.toeplitzConv(x, t14, Layout.BDL));
            rejects("short-conv", "w", new String[] {"odd width", "W=4"}, () -> B.shortConv(x, w4, null, ShortConvMode.SAME, Layout.BDL));
            rejects("short-conv", "bias", new String[] {"[D=3]", "[2]"}, () -> B.shortConv(x, w4, bias, ShortConvMode.CAUSAL, Layout.BDL));
            rejects("ski", "kr", new String[] {"r>=2", "4 lags"}, () -> B.ski(x, kr, Layout.BDL));
            rejects("causal-spectrum", "re", new String[] {"N/2+1=5", "[3, 4]"}, () -> B.causalSpectrum(re, 8));
            rejects("causal-spectrum", "n", new String[] {"even", "N=7"}, () -> B.causalSpectrum(re, 7));
            rejects("gemm", "b", new String[] {"K=3", "[2, 3]"}, () -> B.gemm(a, a, false, false));
            rejects("irfft", "x", new String[] {"[..., bins>=1, 2]"}, () -> B.irfft(a, 4));
        }
    }

    @Test
    void closedInput() {
        Tensor x = Tensor.zeros(DType.FLOAT64, 1, 1, 4);
        x.close();
        try (Tensor k = Tensor.zeros(DType.FLOAT64, 1, 2)) {
            rejects("causal-conv", "x", new String[] {"a live tensor"}, () -> B.causalConv(x, k, Layout.BDL));
        }
    }

    /** A zero-size tensor may have a dimension of 2^31 or more; ops index with ints and say so instead of overflowing. */
    @org.junit.jupiter.api.Test
    void dimensionsFromTwoToTheThirtyOneAreRefusedWithTheOpsName() {
        try (Tensor x = Tensor.zeros(DType.FLOAT32, 0, 1L << 31, 5);
             Tensor k = Tensor.zeros(DType.FLOAT32, 3, 2)) {
            var e = org.junit.jupiter.api.Assertions.assertThrows(LongConvException.class,
                    () -> Check.causalConv(x, k, Layout.BDL));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("below 2^31"), e.getMessage());
        }
    }
}
