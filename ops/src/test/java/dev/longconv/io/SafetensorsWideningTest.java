package dev.longconv.io;

import dev.longconv.DType;
import dev.longconv.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** F16 and BF16 widen to float32 exactly, for every one of the 65,536 bit patterns of each. */
class SafetensorsWideningTest {
    @TempDir
    Path dir;

    /**
     * binary16 from its definition: sign, 5-bit exponent with bias 15, 10-bit fraction; exponent 0 is
     * subnormal (fraction * 2^-24), exponent 31 is infinity (fraction 0) or NaN. Evaluated in double,
     * where every binary16 value is exact.
     */
    private static double f16Value(int h) {
        int sign = h >>> 15 & 1, exp = h >>> 10 & 0x1f, frac = h & 0x3ff;
        double magnitude = exp == 0 ? frac * 0x1p-24 : Math.scalb(1 + frac / 1024.0, exp - 15);
        return sign == 1 ? -magnitude : magnitude;
    }

    /** bfloat16 from its definition: sign, 8-bit exponent with bias 127, 7-bit fraction. */
    private static double bf16Value(int b) {
        int sign = b >>> 15 & 1, exp = b >>> 7 & 0xff, frac = b & 0x7f;
        double magnitude = exp == 0 ? frac * 0x1p-133 : Math.scalb(1 + frac / 128.0, exp - 127);
        return sign == 1 ? -magnitude : magnitude;
    }

    /**
     * The widened float32 bits are right for pattern {@code h} of a 16-bit type with {@code fracBits}
     * fraction bits: the number {@code definition}, or for a NaN the same sign and payload, quieted when
     * {@code quietNaN} (IEEE 754 format conversion) and bit for bit otherwise (bfloat16's shift); and the
     * bits equal {@code reference}.
     */
    private static void check(String type, int h, int got, int fracBits, double definition, boolean quietNaN, int reference) {
        String where = type + " pattern 0x" + Integer.toHexString(h) + ": got float bits 0x" + Integer.toHexString(got);
        int expBits = 15 - fracBits;
        boolean special = (h >>> fracBits & ((1 << expBits) - 1)) == (1 << expBits) - 1;
        int frac = h & ((1 << fracBits) - 1);
        if (special && frac != 0) {
            // NaN: still NaN, same sign, payload carried into the top fraction bits.
            assertEquals(h >>> 15, got >>> 31, where);
            assertEquals(0xff, got >>> 23 & 0xff, where);
            assertEquals(frac << (23 - fracBits) | (quietNaN ? 0x400000 : 0), got & 0x7fffff, where);
        } else if (special) {
            assertEquals((h >>> 15) == 1 ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY, Float.intBitsToFloat(got), where);
        } else {
            // Compared as doubles and by sign bit, so -0 and +0 differ.
            assertEquals(definition, Float.intBitsToFloat(got), 0.0, where);
            assertEquals(h >>> 15, got >>> 31, where);
        }
        assertEquals(reference, got, where + ", reference 0x" + Integer.toHexString(reference));
    }

    @Test
    void everyF16PatternWidensExactly() {
        for (int h = 0; h < 1 << 16; h++) {
            int got = Safetensors.f16ToFloatBits((short) h);
            check("F16", h, got, 10, f16Value(h), true, Float.floatToRawIntBits(Float.float16ToFloat((short) h)));
        }
    }

    @Test
    void everyBf16PatternWidensExactly() {
        for (int b = 0; b < 1 << 16; b++) {
            int got = Safetensors.bf16ToFloatBits((short) b);
            check("BF16", b, got, 7, bf16Value(b), false, b << 16);
        }
    }

    /** Through a file: every pattern stored as F16 [65536] and BF16 [256, 256], read back by tensor(). */
    @Test
    void everyPatternThroughAFile() throws IOException {
        String json = "{\"f16\":{\"dtype\":\"F16\",\"shape\":[65536],\"data_offsets\":[0,131072]},"
                + "\"bf16\":{\"dtype\":\"BF16\",\"shape\":[256,256],\"data_offsets\":[131072,262144]}}";
        byte[] header = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + 4 * 65536).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        for (int pass = 0; pass < 2; pass++) {
            for (int h = 0; h < 1 << 16; h++) b.putShort((short) h);
        }
        Path f = dir.resolve("all_patterns.safetensors");
        Files.write(f, b.array());
        try (Safetensors st = Safetensors.open(f)) {
            Tensor f16 = st.tensor("f16"), bf16 = st.tensor("bf16");
            assertEquals(DType.FLOAT32, f16.dtype());
            assertEquals(DType.FLOAT32, st.dtype("bf16"));
            assertEquals(256, bf16.dim(0));
            ValueLayout.OfInt word = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            for (int h = 0; h < 1 << 16; h++) {
                int g16 = f16.segment().getAtIndex(word, h), gb = bf16.segment().getAtIndex(word, h);
                check("F16", h, g16, 10, f16Value(h), true, Float.floatToRawIntBits(Float.float16ToFloat((short) h)));
                check("BF16", h, gb, 7, bf16Value(h), false, h << 16);
            }
            assertTrue(f16.segment().byteSize() == 4L * 65536 && !f16.segment().isMapped(), "widened into owned memory");
        }
    }
}
