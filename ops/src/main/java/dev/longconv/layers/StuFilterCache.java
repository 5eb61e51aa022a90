package dev.longconv.layers;

import dev.longconv.LongConvException;
import dev.longconv.Tensor;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Spectral filters computed once per (L, K, variant) for the process: every STU layer of a model shares them,
 * and their eigen-solve is the slowest part of loading. They live as long as the process (a few MB each).
 */
final class StuFilterCache {
    private record Key(int length, int count, HankelVariant variant) {}

    private static final Map<Key, Tensor> FILTERS = new ConcurrentHashMap<>();

    /**
     * The longest {@code seq_len} whose filters are computed from metadata. The eigen-solve's time and memory
     * grow with L*K (about 5 s and 0.75 GB of heap at L = 2^20, K = 24, measured with StuFilters.eigenpairs), so
     * a file naming a larger length is refused in one line rather than left to exhaust the heap; such models
     * ship their filters as the "phi" tensor, which is read as is.
     */
    static final int MAX_COMPUTED_LENGTH = 1 << 20;

    /** The most filter values (L*K) computed from metadata: K = 32 at the longest length. */
    static final long MAX_COMPUTED_VALUES = 1L << 25;

    private StuFilterCache() {}

    /** The filters for metadata {@code seq_len} and K columns; names the missing key when there is none. */
    static Tensor filters(Map<String, String> meta, String source, int count, boolean hankelL) {
        int length = Hyper.integer(Stu.NAME, "seq_len", Hyper.string(Stu.NAME, meta, "seq_len"), 1, MAX_COMPUTED_LENGTH);
        if ((long) length * count > MAX_COMPUTED_VALUES) {
            throw new LongConvException(Stu.NAME, "seq_len", "seq_len * K <= " + MAX_COMPUTED_VALUES
                    + " to compute the filters (put them in the file as the \"phi\" tensor for more)", length + " * " + count);
        }
        return get(length, count, hankelL ? HankelVariant.HANKEL_L : HankelVariant.HANKEL);
    }

    static Tensor get(int length, int count, HankelVariant variant) {
        return FILTERS.computeIfAbsent(new Key(length, count, variant), k -> StuFilters.compute(k.length(), k.count(), k.variant()));
    }
}
