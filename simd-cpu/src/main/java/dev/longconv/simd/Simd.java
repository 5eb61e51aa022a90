package dev.longconv.simd;

/**
 * Decides once whether the Vector API path can run and with which width, after Lucene's
 * vectorization provider: the answer carries the reason and the exact flag when it cannot.
 * {@code -Dlongconv.vectorBits=128|256|512} forces a width (tests use it to run narrower species
 * than the hardware's; wider than the hardware is refused, since it would run emulated and slow).
 */
public final class Simd {
    public static final String BITS_PROPERTY = "longconv.vectorBits";

    /** Whether the vector path runs, at what width, and if not, why and how to enable it. */
    public record Status(boolean available, int bits, String reason) {}

    private Simd() {}

    public static Status status() {
        return Holder.STATUS;
    }

    private static final class Holder {
        static final Status STATUS = detect();
    }

    static Status detect() {
        VectorInfo info = VectorInfo.detect();
        if (!info.moduleReadable()) {
            return new Status(false, 0, "jdk.incubator.vector is not readable; start the JVM with " + VectorInfo.FLAG);
        }
        int hw = info.preferredBits();
        if (hw < 128) {
            return new Status(false, 0, "the CPU's preferred vector species is " + hw + " bits; the vector path needs at least 128");
        }
        String forced = System.getProperty(BITS_PROPERTY);
        if (forced == null || forced.isBlank()) return new Status(true, hw, "preferred species " + hw + " bits (" + hw / 32 + " float lanes)");
        int bits;
        try {
            bits = Integer.parseInt(forced.strip());
        } catch (NumberFormatException e) {
            return new Status(false, 0, "-D" + BITS_PROPERTY + "=" + forced + " is not 128, 256 or 512");
        }
        if (bits != 128 && bits != 256 && bits != 512) {
            return new Status(false, 0, "-D" + BITS_PROPERTY + "=" + forced + " is not 128, 256 or 512");
        }
        if (bits > hw) {
            return new Status(false, 0, "-D" + BITS_PROPERTY + "=" + bits + " is wider than this CPU's " + hw + "-bit vectors");
        }
        return new Status(true, bits, bits + " bits (forced by -D" + BITS_PROPERTY + "; the CPU has " + hw + ")");
    }
}
