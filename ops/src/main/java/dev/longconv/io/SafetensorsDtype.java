package dev.longconv.io;

import dev.longconv.DType;

import java.util.Optional;

/**
 * The element types a safetensors header may name, spelled as in the header ({@code "F32"}, {@code "BF16"},
 * ...). Declared in the order of the reference implementation, which is increasing alignment: its writer
 * lays tensors out in decreasing order of this enum, and {@link Safetensors#write} does the same.
 */
public enum SafetensorsDtype {
    /** Boolean, one byte. */
    BOOL(8),
    /** OCP MX 4-bit float (two per byte). */
    F4(4),
    /** OCP MX 6-bit float, 2 exponent bits. */
    F6_E2M3(6),
    /** OCP MX 6-bit float, 3 exponent bits. */
    F6_E3M2(6),
    /** Unsigned byte. */
    U8(8),
    /** Signed byte. */
    I8(8),
    /** 8-bit float, 5 exponent bits. */
    F8_E5M2(8),
    /** 8-bit float, 4 exponent bits. */
    F8_E4M3(8),
    /** OCP MX 8-bit scale (exponent only). */
    F8_E8M0(8),
    /** 8-bit float, 4 exponent bits, finite, unsigned zero. */
    F8_E4M3FNUZ(8),
    /** 8-bit float, 5 exponent bits, finite, unsigned zero. */
    F8_E5M2FNUZ(8),
    /** Signed 16-bit integer. */
    I16(16),
    /** Unsigned 16-bit integer. */
    U16(16),
    /** IEEE 754 half precision; widened to float32 on load. */
    F16(16),
    /** bfloat16 (the top half of a float32); widened to float32 on load. */
    BF16(16),
    /** Signed 32-bit integer. */
    I32(32),
    /** Unsigned 32-bit integer. */
    U32(32),
    /** IEEE 754 single precision. */
    F32(32),
    /** Complex with float32 parts. */
    C64(64),
    /** IEEE 754 double precision. */
    F64(64),
    /** Signed 64-bit integer. */
    I64(64),
    /** Unsigned 64-bit integer. */
    U64(64);

    private final int bits;

    SafetensorsDtype(int bits) {
        this.bits = bits;
    }

    /** {@return the size of one element in bits (4 and 6 for the packed MX types)} */
    public int bits() {
        return bits;
    }

    /**
     * {@return the type of the tensor {@link Safetensors#tensor} returns for this stored type: float32 for
     * F32, F16 and BF16, float64 for F64, empty for types longconv does not load}
     */
    public Optional<DType> loadsAs() {
        return switch (this) {
            case F32, F16, BF16 -> Optional.of(DType.FLOAT32);
            case F64 -> Optional.of(DType.FLOAT64);
            default -> Optional.empty();
        };
    }

    /** {@return the type with this header spelling, or empty if there is none} */
    static Optional<SafetensorsDtype> fromCode(String code) {
        for (SafetensorsDtype t : values()) {
            if (t.name().equals(code)) return Optional.of(t);
        }
        return Optional.empty();
    }

    /** {@return the stored type of a longconv tensor} */
    static SafetensorsDtype of(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> F32;
            case FLOAT64 -> F64;
        };
    }
}
