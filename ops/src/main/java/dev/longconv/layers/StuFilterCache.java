package dev.longconv.layers;

import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import java.util.Map;

/** Placeholder until StuFilters lands (not committed). */
final class StuFilterCache {
    private StuFilterCache() {}

    static Tensor filters(Map<String, String> meta, String source, int k, boolean hankelL) {
        throw new LongConvException(Stu.NAME, "phi", "not yet");
    }
}
