package dev.longconv.cli;

import dev.longconv.Tensor;
import dev.longconv.io.Safetensors;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A weights file's {@code __metadata__} is untrusted: every hyperparameter of one fixture per layer family, set to
 * sizes that overflow, exhaust memory or take minutes (and to text with control characters), either runs or is
 * refused with one printable line and exit 2, in seconds, before any large work.
 */
class HostileMetadataTest {
    @TempDir
    static Path dir;

    /** One upstream fixture per `run` command. */
    static final Map<String, String> FAMILIES = new LinkedHashMap<>();

    static {
        FAMILIES.put("stu", "flashstu_stu_approx");
        FAMILIES.put("stu-layer", "flashstu_layer_exact_bias");
        FAMILIES.put("tno", "tnnpt_tno_causal_decay_par2");
        FAMILIES.put("gtu", "skitnn_gtu_skitno_causal");
        FAMILIES.put("fd-tno", "skitnn_fd_causal_h2");
        FAMILIES.put("fd-tno-norpe", "skitnn_fdnorpe_causal");
        FAMILIES.put("ski-tno-rpe", "skitnn_skitno_causal");
        FAMILIES.put("ski-tno-inv-time", "skitnn_inv_causal");
        FAMILIES.put("glu", "tnnpt_glu_silu");
        FAMILIES.put("tnn-layer", "tnnpt_tnn_layer_prenorm");
    }

    /** Sizes past int, past memory, past patience, and negative; then text that must not reach a terminal raw. */
    static final String[] HOSTILE = {"2147483647", "-2147483648", "-1", "0", "4194304", "134217728", "1073741824", "1e9",
            "3\u001b[2J\nforged line", "\u0007\u009b31m"};

    static Stream<Arguments> cases() throws IOException {
        List<Arguments> all = new ArrayList<>();
        for (var f : FAMILIES.entrySet()) {
            try (Safetensors st = Safetensors.open(fixture(f.getValue() + ".safetensors"))) {
                List<String> keys = new ArrayList<>(st.metadata().keySet());
                if (f.getKey().startsWith("stu")) keys.add("seq_len"); // flash-stu files may leave it out when phi is stored
                for (String key : keys) for (String v : HOSTILE) all.add(Arguments.of(f.getKey(), f.getValue(), key, v));
            }
        }
        return all.stream().distinct();
    }

    static Path fixture(String name) throws IOException {
        return fixture(dir, name);
    }

    /** The fixture {@code name} copied from the test resources into {@code into} (once). */
    static Path fixture(Path into, String name) throws IOException {
        Path p = into.resolve(name);
        if (Files.exists(p)) return p;
        try (InputStream in = HostileMetadataTest.class.getResourceAsStream("/fixtures/layers/" + name)) {
            if (in == null) throw new IOException("missing test resource /fixtures/layers/" + name);
            Files.copy(in, p);
        }
        return p;
    }

    @ParameterizedTest(name = "{0} {2}={3}")
    @MethodSource("cases")
    void refusedInOneLineOrRun(String command, String fixture, String key, String value) throws IOException {
        Path weights = dir.resolve(fixture + "-" + key + "-" + Integer.toHexString(value.hashCode()) + ".safetensors");
        try (Safetensors st = Safetensors.open(fixture(fixture + ".safetensors"))) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (String n : st.names()) tensors.put(n, st.tensor(n));
            Map<String, String> meta = new HashMap<>(st.metadata());
            meta.put(key, value);
            Safetensors.write(weights, tensors, meta);
        }
        Path x = fixture(fixture + "_x.npy");
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> Main.execute(new PrintWriter(out, true), new PrintWriter(err, true),
                "run", command, "--x", x.toString(), "--weights", weights.toString(), "--out", dir.resolve("y.npy").toString()),
                command + " with " + key + "=" + value + " took more than 20 s");
        String e = err.toString();
        String where = command + " with " + key + "=" + value.replace("\u001b", "ESC") + ": ";
        assertTrue(code == 0 || code == 2, where + "exit " + code + ": " + e);
        if (code == 2) {
            assertEquals(1, e.lines().count(), where + "one line expected: " + e);
            String line = e.stripTrailing();
            assertFalse(line.chars().anyMatch(c -> c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)), where + "control character in " + line.replace("\u001b", "ESC"));
            assertTrue(line.startsWith("longconv: "), where + e);
            assertFalse(line.contains("internal error"), where + e);
        }
    }
}
