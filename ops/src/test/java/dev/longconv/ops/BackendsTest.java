package dev.longconv.ops;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BackendsTest {

    @Test
    void statusesListEveryBackendFastestFirstWithReasons() {
        List<Backends.Status> s = Backends.statuses();
        assertEquals(List.of("cuda", "vector", "scalar"), s.stream().map(Backends.Status::name).toList());
        assertTrue(s.get(2).available(), "scalar always runs");
        for (Backends.Status st : s) assertFalse(st.reason().isBlank(), st.name() + " has a reason");
    }

    @Test
    void selectedIsTheFastestAvailable() {
        String fastest = Backends.statuses().stream().filter(Backends.Status::available).findFirst().orElseThrow().name();
        if (System.getProperty(Backends.PROPERTY) == null) assertEquals(fastest, Backends.selected().name());
        assertEquals(Backends.selected(), Backends.selected(), "chosen once");
    }

    @Test
    void unavailableOrUnknownBackendsSayWhy() {
        for (Backends.Status st : Backends.statuses()) {
            if (st.available()) {
                assertEquals(st.name(), Backends.get(st.name()).name());
            } else {
                var e = assertThrows(IllegalArgumentException.class, () -> Backends.get(st.name()));
                assertTrue(e.getMessage().contains(st.reason()), e.getMessage());
            }
        }
        var e = assertThrows(IllegalArgumentException.class, () -> Backends.get("tpu"));
        assertTrue(e.getMessage().contains("scalar, vector, cuda"), e.getMessage());
    }

    @Test
    void aJdkNewerThanTheTestedOneIsNamedInAWarning() {
        assertEquals(null, Backends.untestedJdkWarning(Backends.TESTED_JDK));
        String w = Backends.untestedJdkWarning(Backends.TESTED_JDK + 1);
        assertTrue(w != null && w.contains("JDK " + (Backends.TESTED_JDK + 1)) && w.contains("tested on"), w);
    }

    @Test
    void unknownLongconvPropertiesAreFound() {
        assertEquals(java.util.Set.of("longconv.thread"), Backends.unknownProperties(
                java.util.Set.of("longconv.thread", "longconv.threads", "longconv.vectorBits", "java.home", "longconvx")));
    }
}
