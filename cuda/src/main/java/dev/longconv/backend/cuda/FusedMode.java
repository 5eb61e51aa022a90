package dev.longconv.backend.cuda;

import dev.longconv.LongConvException;

import java.util.Locale;

/**
 * What {@link ConvPath#AUTO} (every op call, and plans made without a path) does. Set by the system property
 * {@code longconv.cuda.fused} ({@code auto}, {@code on} or {@code off}; default {@code auto}) or
 * {@link CudaBackend#setFusedMode}.
 */
public enum FusedMode {
    /** The fused kernel where {@link FusedTable} records it measured faster than cuFFT: nowhere yet, so cuFFT. */
    AUTO,
    /** The fused kernel wherever it takes the size and layout, cuFFT elsewhere. */
    ON,
    /** Always cuFFT. */
    OFF;

    /** The system property that sets the mode. */
    public static final String PROPERTY = "longconv.cuda.fused";

    /** The mode a property value names, case-insensitively; null or blank is AUTO. */
    public static FusedMode parse(String value) {
        if (value == null || value.isBlank()) return AUTO;
        return switch (value.strip().toLowerCase(Locale.ROOT)) {
            case "auto" -> AUTO;
            case "on" -> ON;
            case "off" -> OFF;
            default -> throw new LongConvException("configuration", "-D" + PROPERTY, "auto, on or off", "'" + value + "'");
        };
    }
}
