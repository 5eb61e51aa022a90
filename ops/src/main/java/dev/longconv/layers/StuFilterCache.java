package dev.longconv.layers;

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

    private StuFilterCache() {}

    /** The filters for metadata {@code seq_len} and K columns; names the missing key when there is none. */
    static Tensor filters(Map<String, String> meta, String source, int count, boolean hankelL) {
        int length = Hyper.integer(Stu.NAME, meta, "seq_len");
        return get(length, count, hankelL ? HankelVariant.HANKEL_L : HankelVariant.HANKEL);
    }

    static Tensor get(int length, int count, HankelVariant variant) {
        return FILTERS.computeIfAbsent(new Key(length, count, variant), k -> StuFilters.compute(k.length(), k.count(), k.variant()));
    }
}
