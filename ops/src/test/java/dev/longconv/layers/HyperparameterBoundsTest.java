package dev.longconv.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longconv.LongConvException;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Sizes read from a file's metadata are bounded before anything is allocated from them, and messages quoting
 * metadata stay one printable line whatever characters the file holds.
 */
class HyperparameterBoundsTest {

    @ParameterizedTest
    @ValueSource(strings = {"-1", "-2147483648", "2147483647", "4194304", "32769", "99999999999"})
    void sizesOutsideTheBoundAreRefusedInOneLine(String value) {
        var e = assertThrows(LongConvException.class, () -> Hyper.integer("tno", Map.of("h", value), "h"));
        assertEquals("tno", e.op());
        assertEquals("h", e.argument());
        assertTrue(e.getMessage().contains("[0, " + Hyper.MAX_SIZE + "]"), e.getMessage());
        var p = new TnoHyperparameters("gtu", Map.of("num_heads", value), Map.of());
        var g = assertThrows(LongConvException.class, () -> p.integer("num_heads"));
        assertEquals("num_heads", g.argument());
    }

    @Test
    void sizesInsideTheBoundAreRead() {
        assertEquals(0, Hyper.integer("tno", Map.of("h", "0"), "h"));
        assertEquals(Hyper.MAX_SIZE, Hyper.integer("tno", Map.of("h", " " + Hyper.MAX_SIZE + " "), "h"));
        assertEquals(7, new TnoHyperparameters("gtu", Map.of(), Map.of("rank", "7")).integer("rank"));
        assertEquals(3, new TnoHyperparameters("gtu", Map.of(), Map.of()).integer("rpe_layers", 3));
    }

    @Test
    @Timeout(10)
    void stuRefusesToComputeFiltersForHugeLengths() {
        var tooLong = assertThrows(LongConvException.class,
                () -> StuFilterCache.filters(Map.of("seq_len", "1000000000"), "test", 24, false));
        assertEquals("seq_len", tooLong.argument());
        var tooMany = assertThrows(LongConvException.class,
                () -> StuFilterCache.filters(Map.of("seq_len", Integer.toString(StuFilterCache.MAX_COMPUTED_LENGTH)), "test", 64, false));
        assertTrue(tooMany.getMessage().contains("phi"), tooMany.getMessage());
        assertThrows(LongConvException.class, () -> StuFilterCache.filters(Map.of("seq_len", "0"), "test", 1, false));
    }

    @Test
    void messagesQuotingMetadataHoldNoControlCharacters() {
        String hostile = "relu\u001b[2J\u001b]0;owned\u0007\nsecond line\r\u0085\u009b31m\u2028";
        var e = assertThrows(LongConvException.class, () -> Hyper.integer("tno", Map.of("h", hostile), "h"));
        assertPrintable(e.getMessage());
        var act = assertThrows(LongConvException.class,
                () -> new TnoHyperparameters("tno", Map.of("act", hostile), Map.of()).activation("act", "relu"));
        assertPrintable(act.getMessage());
        assertPrintable(new LongConvException(hostile, hostile, hostile).getMessage());
        assertEquals("a\\nb\\u001b[0m\\u009b", LongConvException.printable("a\nb\u001b[0m\u009b"));
    }

    static void assertPrintable(String message) {
        for (int i = 0; i < message.length(); i++) {
            char c = message.charAt(i);
            assertTrue(!Character.isISOControl(c) && c != '\u2028' && c != '\u2029',
                    "control character U+" + Integer.toHexString(c) + " at " + i + " in: " + LongConvException.printable(message));
        }
    }
}
