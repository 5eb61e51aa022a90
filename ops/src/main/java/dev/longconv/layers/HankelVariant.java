package dev.longconv.layers;

import dev.longconv.LongConvException;

/**
 * The Hankel matrix whose top eigenvectors are the STU spectral filters (flash-stu's
 * {@code use_hankel_L} switch). Both are Hankel: entry (i, j), i and j from 1, depends on s = i + j
 * only, so an L x L matrix is fixed by its generator over s = 2 .. 2L.
 */
public enum HankelVariant {
    /** Z[i,j] = 2 / ((i+j)^3 - (i+j)): the two-branch (positive and negative) STU. */
    HANKEL("hankel"),
    /** Z[i,j] = ((-1)^(i+j-2) + 1) * 8 / ((i+j+3)(i+j-1)(i+j+1)): the single-branch STU. */
    HANKEL_L("hankel-l");

    private final String label;

    HankelVariant(String label) {
        this.label = label;
    }

    /** The name used on the command line and in configs: "hankel" or "hankel-l". */
    public String label() {
        return label;
    }

    /**
     * The variant named {@code name} ("hankel" or "hankel-l", case-insensitive).
     *
     * @throws LongConvException for any other name
     */
    public static HankelVariant parse(String name) {
        for (HankelVariant v : values()) {
            if (v.label.equalsIgnoreCase(name)) return v;
        }
        throw new LongConvException("stu-filters", "variant", "\"hankel\" or \"hankel-l\"", "\"" + name + "\"");
    }

    /** The matrix entry for index sum s = i + j (s >= 2, 1-based i and j). */
    public double entry(long s) {
        double x = s;
        return switch (this) {
            // s^3 - s factored, so large s neither overflows nor cancels
            case HANKEL -> 2.0 / ((x - 1) * x * (x + 1));
            case HANKEL_L -> (s & 1) == 1 ? 0.0 : 16.0 / ((x + 3) * (x - 1) * (x + 1));
        };
    }

    /**
     * The generator of the L x L matrix: g[t] = entry(t + 2) for t = 0 .. 2L-2, so that in 0-based
     * indices Z[i][j] = g[i + j].
     */
    public double[] generator(int length) {
        double[] g = new double[2 * length - 1];
        for (int t = 0; t < g.length; t++) g[t] = entry(t + 2L);
        return g;
    }

    /** The dense L x L matrix, row by row (for the dense solver and for tests). */
    public double[][] dense(int length) {
        double[] g = generator(length);
        double[][] z = new double[length][length];
        for (int i = 0; i < length; i++) System.arraycopy(g, i, z[i], 0, length);
        return z;
    }
}
