package dev.longconv;

/**
 * Axis order of a sequence tensor. Ops are defined in BDL; in BLD every sequence-like axis swaps
 * with the channel axis: x is [B, L, D] and a per-channel kernel [D, Lk] is stored as [Lk, D].
 */
public enum Layout {
    /** [batch, channels, length]: channels-first, each channel's sequence contiguous. */
    BDL,
    /** [batch, length, channels]: channels-last, one token's channels contiguous. */
    BLD;

    /** Parses "bdl" or "bld" in any case. */
    public static Layout parse(String s) {
        for (Layout l : values()) if (l.name().equalsIgnoreCase(s)) return l;
        throw new LongConvException("layout", "layout", "bdl or bld", "'" + s + "'");
    }

    /** Shape of a sequence tensor with these sizes in this layout. */
    public long[] seqShape(long b, long d, long l) {
        return this == BDL ? new long[] {b, d, l} : new long[] {b, l, d};
    }

    /** Shape of a per-channel kernel tensor ([D, n] in BDL, [n, D] in BLD). */
    public long[] kernelShape(long d, long n) {
        return this == BDL ? new long[] {d, n} : new long[] {n, d};
    }

    @Override
    public String toString() {
        return name().toLowerCase();
    }
}
