package dev.longconv.backend.vector;

import dev.longconv.LongConvException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** -Dlongconv.threads is validated with a one-line error naming the property (the static initializer never throws). */
class ParallelTest {
    @Test
    void threadCountsAreValidated() {
        assertEquals(2, Parallel.threads(null, 2));
        assertEquals(2, Parallel.threads(" ", 2));
        assertEquals(3, Parallel.threads(" 3 ", 2));
        for (String bad : new String[] {"abc", "0", "-1", "1e3", "100000"}) {
            var e = assertThrows(LongConvException.class, () -> Parallel.threads(bad, 2), bad);
            assertTrue(e.getMessage().contains("-Dlongconv.threads") && e.getMessage().contains("'" + bad + "'"), e.getMessage());
        }
    }
}
