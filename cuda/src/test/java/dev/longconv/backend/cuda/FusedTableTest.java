package dev.longconv.backend.cuda;

import dev.longconv.Layout;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * FusedTable's lookup finds an entry written the way its documentation says to write one. (The string-keyed table
 * this replaced documented "BDL:4096" while the lookup built "bdl:4096", so a recorded measurement would have been
 * ignored.) Needs no GPU and no native library.
 */
class FusedTableTest {
    @Test
    void aDocumentedEntryIsFoundAndNothingElse() {
        FusedTable table = new FusedTable(Set.of(new FusedTable.Key(Layout.BDL, 4096)));
        assertTrue(table.isFaster(4096, Layout.BDL), "the entry as documented");
        assertFalse(table.isFaster(4096, Layout.BLD), "another layout");
        assertFalse(table.isFaster(2048, Layout.BDL), "another size");
    }

    @Test
    void theMeasuredTableIsEmptyUntilAGpuRunFillsIt() {
        for (Layout lay : Layout.values()) {
            for (int n = 2; n <= 1 << 14; n *= 2) assertFalse(FusedTable.MEASURED.isFaster(n, lay), "N=" + n + " " + lay);
        }
    }
}
