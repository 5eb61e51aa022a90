package dev.longconv.cli;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.longconv.DType;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.io.Safetensors;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Coverage-guided fuzzing of loading a layer from a weights file and running it (Jazzer), through the CLI's
 * {@code run LAYER} path: the input picks one upstream fixture per layer family and mutates it (metadata values
 * set to fuzzed text, tensors replaced by fuzzed shapes, dtypes and values, dropped or renamed). Every such file
 * either runs (exit 0) or is refused with one printable line (exit 2); an internal error, another exit code, a
 * crash or a hang fails the target. Without JAZZER_FUZZ the seeds under
 * src/test/resources/dev/longconv/cli/LayerFuzzTestInputs run as regression tests; the build's fuzz-layers
 * execution fuzzes for a fixed time (bench/pom.xml gives the command for a longer run).
 */
class LayerFuzzTest {
    @TempDir
    static Path dir;

    private static final List<Map.Entry<String, String>> FAMILIES = new ArrayList<>(HostileMetadataTest.FAMILIES.entrySet());

    @FuzzTest(maxDuration = "20s")
    void layers(FuzzedDataProvider data) throws IOException {
        var family = FAMILIES.get(data.consumeInt(0, FAMILIES.size() - 1));
        String command = family.getKey(), fixture = family.getValue();
        Path weights = dir.resolve("fuzzed.safetensors");
        try (Safetensors st = Safetensors.open(HostileMetadataTest.fixture(dir, fixture + ".safetensors"))) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (String n : st.names()) tensors.put(n, st.tensor(n));
            Map<String, String> meta = new LinkedHashMap<>(st.metadata());
            List<Tensor> owned = new ArrayList<>();
            try {
                int mutations = data.consumeInt(1, 4);
                for (int m = 0; m < mutations && data.remainingBytes() > 0; m++) mutate(data, tensors, meta, owned);
                Safetensors.write(weights, tensors, meta);
            } catch (LongConvException | IOException unwritable) {
                return; // a file the writer refuses (a name it cannot store) tests nothing of the loader
            } finally {
                for (Tensor t : owned) t.close();
            }
        }
        Path x = HostileMetadataTest.fixture(dir, fixture + "_x.npy");
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true),
                "run", command, "--x", x.toString(), "--weights", weights.toString(), "--out", dir.resolve("y.npy").toString());
        String e = err.toString();
        assertTrue(code == 0 || code == 2, command + ": exit " + code + ": " + e);
        if (code == 2) {
            assertEquals(1, e.lines().count(), command + ": one line expected: " + e);
            assertFalse(e.stripTrailing().chars().anyMatch(Character::isISOControl), command + ": control character in " + e.replace("\u001b", "ESC"));
            assertFalse(e.contains("internal error"), command + ": " + e);
        }
    }

    private static void mutate(FuzzedDataProvider data, Map<String, Tensor> tensors, Map<String, String> meta, List<Tensor> owned) {
        List<String> names = new ArrayList<>(tensors.keySet());
        List<String> keys = new ArrayList<>(meta.keySet());
        keys.add("seq_len");
        switch (data.consumeInt(0, 3)) {
            case 0 -> meta.put(data.pickValue(keys), data.consumeString(12));
            case 1 -> {
                if (names.isEmpty()) return;
                int rank = data.consumeInt(0, 3);
                long[] shape = new long[rank];
                for (int i = 0; i < rank; i++) shape[i] = data.consumeInt(0, 48);
                Tensor t = Tensor.zeros(data.consumeBoolean() ? DType.FLOAT32 : DType.FLOAT64, shape);
                owned.add(t);
                for (long i = 0; i < t.numel() && data.remainingBytes() > 0; i++) t.setFlat(i, data.consumeRegularDouble(-1e3, 1e3));
                tensors.put(data.pickValue(names), t);
            }
            case 2 -> {
                if (!names.isEmpty()) tensors.remove(data.pickValue(names));
            }
            default -> {
                if (names.isEmpty()) return;
                String from = data.pickValue(names);
                tensors.put(data.consumeString(24), tensors.remove(from));
            }
        }
    }
}
