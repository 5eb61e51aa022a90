package dev.longconv.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every {@code ```java} block of README.md compiles and runs: its {@code import} lines become the imports of a class
 * whose main method holds the rest, compiled against the test class path and run in a fresh JVM (with the flags the
 * README states) in a folder that holds the files the examples read ({@code tno.safetensors} and {@code x.npy}, a
 * causal tnn-pytorch Tno from the layer fixtures). Fast on purpose: a few seconds for all of them.
 */
class ReadmeExamplesTest {
    private static final Pattern JAVA_BLOCK = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);

    @TempDir
    Path dir;

    static Path readme() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("README.md")) && Files.isDirectory(p.resolve("bench"))) return p.resolve("README.md");
        }
        throw new IllegalStateException("README.md not found above " + Path.of("").toAbsolutePath());
    }

    /** The README's Java blocks, by their position (1, 2, ...). */
    static Map<Integer, String> blocks() throws IOException {
        Matcher m = JAVA_BLOCK.matcher(Files.readString(readme()));
        Map<Integer, String> out = new TreeMap<>();
        while (m.find()) out.put(out.size() + 1, m.group(1));
        return out;
    }

    /** A class {@code name} with the block's imports at the top and its statements in {@code main}. */
    static String asClass(String name, String block) {
        StringBuilder imports = new StringBuilder(), body = new StringBuilder();
        for (String line : block.split("\n")) {
            (line.startsWith("import ") ? imports : body).append(line).append('\n');
        }
        return imports + "\npublic class " + name + " {\n    public static void main(String[] args) throws Exception {\n"
                + body.toString().indent(8) + "    }\n}\n";
    }

    @Test
    void everyJavaBlockInTheReadmeCompilesAndRuns() throws Exception {
        Map<Integer, String> blocks = blocks();
        assertTrue(blocks.size() >= 3, "README's Java examples found: " + blocks.size());
        for (String f : Set.of("tno_causal_decay.safetensors:tno.safetensors", "tno_causal_decay_x.npy:x.npy")) {
            String[] fromTo = f.split(":");
            try (InputStream in = getClass().getResourceAsStream("/fixtures/layers/" + fromTo[0])) {
                Files.copy(in, dir.resolve(fromTo[1]));
            }
        }
        Path src = Files.createDirectories(dir.resolve("src")), classes = Files.createDirectories(dir.resolve("classes"));
        List<String> files = new ArrayList<>();
        for (var e : blocks.entrySet()) {
            Path file = src.resolve("ReadmeExample" + e.getKey() + ".java");
            Files.writeString(file, asClass("ReadmeExample" + e.getKey(), e.getValue()));
            files.add(file.toString());
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        List<String> args = new ArrayList<>(List.of("--add-modules", "jdk.incubator.vector", "-proc:none", "-Xlint:-incubating",
                "-cp", System.getProperty("java.class.path"), "-d", classes.toString()));
        args.addAll(files);
        int rc = javac.run(null, diagnostics, diagnostics, args.toArray(String[]::new));
        assertEquals(0, rc, "README examples do not compile:\n" + diagnostics.toString(StandardCharsets.UTF_8));

        for (int i : blocks.keySet()) {
            List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                    "-cp", classes + java.io.File.pathSeparator + System.getProperty("java.class.path"), "ReadmeExample" + i);
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "example " + i + " ran over 60 s");
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertEquals(0, p.exitValue(), "README Java block " + i + " failed:\n" + asClass("ReadmeExample" + i, blocks.get(i)) + "\n" + output);
            assertTrue(seconds < 30, "README Java block " + i + " took " + seconds + " s; examples should run in seconds");
        }
    }

    @Test
    void benchmarkParametersNamedInTheReadmeExist() throws IOException {
        // "-p NAME=VALUES" in README must name a parameter of some benchmark (JMH ignores unknown names silently).
        Set<String> known = new java.util.TreeSet<>();
        BenchCommand.parametersByBenchmark().values().forEach(known::addAll);
        Matcher m = Pattern.compile("-p ([A-Za-z_][A-Za-z0-9_]*)=").matcher(Files.readString(readme()));
        int found = 0;
        while (m.find()) {
            found++;
            assertTrue(known.contains(m.group(1)), "README names -p " + m.group(1) + "=..., but the benchmarks' parameters are " + known);
        }
        assertTrue(found > 0, "README's benchmark commands name parameters");
    }
}
