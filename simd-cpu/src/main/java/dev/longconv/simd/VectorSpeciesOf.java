package dev.longconv.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Float species by bit width. */
final class VectorSpeciesOf {
    private VectorSpeciesOf() {}

    static VectorSpecies<Float> bits(int bits) {
        return switch (bits) {
            case 128 -> FloatVector.SPECIES_128;
            case 256 -> FloatVector.SPECIES_256;
            case 512 -> FloatVector.SPECIES_512;
            default -> throw new IllegalArgumentException("vector width must be 128, 256 or 512 bits, got " + bits);
        };
    }
}
