package dev.longconv;

/** Padding of short-conv, as in PyTorch conv1d. */
public enum ShortConvMode {
    /** Output t sees inputs t-W+1 .. t (left padding W-1). */
    CAUSAL,
    /** Output t sees inputs centred on t (W odd, padding (W-1)/2 each side). */
    SAME;

    public static ShortConvMode parse(String s) {
        for (ShortConvMode m : values()) if (m.name().equalsIgnoreCase(s)) return m;
        throw new LongConvException("short-conv", "mode", "causal or same", "'" + s + "'");
    }

    @Override
    public String toString() {
        return name().toLowerCase();
    }
}
