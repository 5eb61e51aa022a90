package dev.longconv.layers;

import dev.longconv.Tensor;
import dev.longconv.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * torch.linspace in float32 against torch's own output (resources/torch/linspace_f32.npy, written by
 * make_torch_fixtures.py with torch 1.13's AVX2 kernel): every value bit for bit. The plain formula
 * start + i·step differs from torch in many of these cases, which is what the emulation is for.
 */
class TorchFloat32Test {
    @TempDir
    Path dir;

    static final double[][] CASES = {{0.0, Math.PI, 2}, {0.0, Math.PI, 3}, {0.0, Math.PI, 17}, {0.0, Math.PI, 25}, {0.0, Math.PI, 51},
            {0.0, Math.PI, 63}, {0.0, Math.PI, 100}, {0.0, Math.PI, 129}, {0.0, Math.PI, 257}, {0.0, Math.PI, 513}, {0.0, Math.PI, 1025},
            {0.0, Math.PI, 4097}, {0.0, 7.0, 7}, {0.0, 50.0, 50}, {0.0, 97.0, 97}, {0.0, 1000.0, 1000}, {0.0, 1.0, 5}, {0.0, 1.0, 33}};

    @Test
    void linspaceEqualsTorchValueForValue() throws IOException {
        Path p = dir.resolve("linspace_f32.npy");
        try (InputStream in = TorchFloat32Test.class.getResourceAsStream("/torch/linspace_f32.npy")) {
            if (in == null) throw new IllegalStateException("missing fixture /torch/linspace_f32.npy (run make_torch_fixtures.py)");
            Files.copy(in, p);
        }
        int differsFromPlainFormula = 0;
        try (Tensor t = Npy.load(p)) {
            int at = 0;
            for (double[] c : CASES) {
                int steps = (int) c[2];
                double[] mine = TorchFloat32.linspace(c[0], c[1], steps);
                float step = ((float) c[1] - (float) c[0]) / (steps - 1);
                for (int i = 0; i < steps; i++, at++) {
                    double torch = t.getFlat(at);
                    assertEquals(torch, mine[i], 0.0, "linspace(" + c[0] + ", " + c[1] + ", " + steps + ")[" + i + "]");
                    if ((float) (c[0] + i * step) != (float) torch) differsFromPlainFormula++;
                }
            }
            assertEquals(t.numel(), at, "fixture length");
        }
        assertTrue(differsFromPlainFormula > 0, "the fixture should include values where the plain formula is off by an ulp");
    }

    @Test
    void singleStepIsStart() {
        assertEquals(2.5, TorchFloat32.linspace(2.5, 9, 1)[0], 0.0);
    }
}
