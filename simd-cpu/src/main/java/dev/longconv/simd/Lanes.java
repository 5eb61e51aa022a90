package dev.longconv.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float species every lane kernel uses, fixed once per JVM from {@link Simd#status()}
 * ({@code -Dlongconv.vectorBits} or the CPU's preferred width). It must be a static final constant:
 * only then does C2 compile the Vector API calls to vector instructions instead of boxed objects.
 * Load this class only when {@link Simd#status()} says the vector path is available.
 */
public final class Lanes {
    public static final VectorSpecies<Float> FLOAT = VectorSpeciesOf.bits(Simd.status().available() ? Simd.status().bits() : 128);
    /** Floats per vector. */
    public static final int W = FLOAT.length();

    private Lanes() {}

    /** Vector width in bits. */
    public static int bits() {
        return FLOAT.vectorBitSize();
    }
}
