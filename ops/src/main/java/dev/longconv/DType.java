package dev.longconv;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Element types a {@link Tensor} can hold. Storage is always little-endian. */
public enum DType {
    FLOAT32(4, "float32", ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN)),
    FLOAT64(8, "float64", ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));

    private final int byteSize;
    private final String label;
    private final ValueLayout layout;

    DType(int byteSize, String label, ValueLayout layout) {
        this.byteSize = byteSize;
        this.label = label;
        this.layout = layout;
    }

    public int byteSize() {
        return byteSize;
    }

    /** The element layout (little-endian, unaligned so mapped files at any offset work). */
    public ValueLayout layout() {
        return layout;
    }

    @Override
    public String toString() {
        return label;
    }
}
