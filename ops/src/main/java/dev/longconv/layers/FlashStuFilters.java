package dev.longconv.layers;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * flash-stu leaves the signs of its spectral filters to LAPACK and does not save the filters in its checkpoints,
 * so a flash-stu model run with longconv's own filters (columns sign-fixed, see {@link StuFilters}) is wrong in
 * every column whose sign differs. The documented path is to export the model with its own filters
 * (bench/anchors/export_flash_stu.py writes them as {@code phi}); a file that says it comes from flash-stu but
 * has none gets a one-line warning (System.Logger "dev.longconv", WARNING), once per file.
 */
final class FlashStuFilters {
    private static final System.Logger LOG = System.getLogger("dev.longconv");
    private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

    private FlashStuFilters() {}

    /** Whether the metadata names flash-stu as the file's origin ({@code upstream} or {@code source}). */
    static boolean fromFlashStu(Map<String, String> meta) {
        for (String key : new String[] {"upstream", "source"}) {
            String v = meta.get(key);
            if (v != null && v.trim().toLowerCase(java.util.Locale.ROOT).replace('_', '-').startsWith("flash-stu")) return true;
        }
        return false;
    }

    /** Warns (once per source) when a flash-stu file carries no phi. Returns whether it warned now. */
    static boolean warnIfMissing(String source, Map<String, String> meta) {
        if (!fromFlashStu(meta) || !WARNED.add(source)) return false;
        LOG.log(System.Logger.Level.WARNING, "stu: " + source + " comes from flash-stu but has no 'phi': using longconv's filters, whose signs"
                + " differ from flash-stu's (LAPACK's) in some columns; export the model with bench/anchors/export_flash_stu.py to keep its own");
        return true;
    }
}
