package dev.longconv.layers;

import dev.longconv.LongConvException;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** erf/erfc against tabulated values, every activation against its definition and its derivative against finite differences. */
class ActivationTest {
    @Test
    void erfMatchesTabulatedValues() {
        // Values of the C library's erf/erfc (Python's math.erf, math.erfc), correctly rounded to 16 digits.
        double[][] erf = {{0.1, 0.1124629160182849}, {0.5, 0.5204998778130465}, {1, 0.8427007929497149}, {2, 0.9953222650189527},
                {3, 0.9999779095030014}};
        for (double[] p : erf) {
            assertEquals(p[1], Activation.erf(p[0]), 4 * Math.ulp(p[1]), "erf(" + p[0] + ")");
            assertEquals(-p[1], Activation.erf(-p[0]), 4 * Math.ulp(p[1]), "erf(-" + p[0] + ")");
        }
        double[][] erfc = {{0.1, 0.8875370839817152}, {3, 2.2090496998585438e-05}, {5, 1.5374597944280351e-12},
                {10, 2.088487583762545e-45}, {-1, 1.842700792949715}};
        for (double[] p : erfc) assertEquals(p[1], Activation.erfc(p[0]), 1e-14 * p[1], "erfc(" + p[0] + ")");
        assertEquals(0, Activation.erfc(30));
        assertEquals(2, Activation.erfc(-30));
    }

    @Test
    void activationsFollowTheirDefinitions() {
        SplittableRandom rng = new SplittableRandom(TnnTestSupport.SEED);
        for (Activation a : Activation.values()) {
            for (int i = 0; i < 200; i++) {
                double x = rng.nextDouble(-6, 6);
                double want = TnnReference.act(a.upstreamName(), x);
                assertEquals(want, a.apply(x), 1e-13 * Math.max(1, Math.abs(want)), a + " at " + x);
                double h = 1e-6, fd = (a.apply(x + h) - a.apply(x - h)) / (2 * h);
                assertEquals(fd, a.derivative(x), 1e-7 * Math.max(1, Math.abs(fd)), a + "' at " + x);
            }
        }
    }

    @Test
    void parsesUpstreamNamesAndRejectsOthers() {
        assertEquals(Activation.ONE_PLUS_ELU, Activation.parse("1+elu", "tno", "act_type"));
        assertEquals(Activation.GELU, Activation.parse(" GELU ", "tno", "act"));
        assertEquals(Activation.NONE, Activation.parse("identity", "tno", "act"));
        LongConvException e = assertThrows(LongConvException.class, () -> Activation.parse("swish", "gtu", "act_fun"));
        assertTrue(e.getMessage().startsWith("gtu: argument act_fun") && e.getMessage().contains("'swish'"), e.getMessage());
        e = assertThrows(LongConvException.class, () -> NormType.parse("batchnorm", "tno", "norm_type"));
        assertTrue(e.getMessage().contains("simplermsnorm") && e.getMessage().contains("'batchnorm'"), e.getMessage());
    }
}
