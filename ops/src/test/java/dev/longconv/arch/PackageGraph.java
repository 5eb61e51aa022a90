package dev.longconv.arch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.constantpool.ClassEntry;
import java.lang.classfile.constantpool.PoolEntry;
import java.lang.classfile.constantpool.Utf8Entry;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The package dependencies of one module's compiled classes, as jdeps -verbose:package would list them: every
 * class named in a class file's constant pool (class entries, and the descriptors and signatures in its UTF-8
 * entries), reduced to project packages ({@code dev.longconv...}). Tests assert the floor plan with it.
 */
public final class PackageGraph {
    private static final Pattern DESCRIPTOR_CLASS = Pattern.compile("L(dev/longconv/[\\w/$]+)[;<]");

    /** package -> the project packages its classes use (itself excluded). */
    private final Map<String, Set<String>> edges;

    private PackageGraph(Map<String, Set<String>> edges) {
        this.edges = edges;
    }

    /** The graph of the classes in the directory or jar {@code anyClassOfTheModule} was loaded from. */
    public static PackageGraph ofModuleOf(Class<?> anyClassOfTheModule) {
        try {
            Path root = Path.of(anyClassOfTheModule.getProtectionDomain().getCodeSource().getLocation().toURI());
            return of(root);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The graph of the class files under {@code classesDir}. */
    public static PackageGraph of(Path classesDir) {
        Map<String, Set<String>> edges = new TreeMap<>();
        try (Stream<Path> files = Files.walk(classesDir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".class") && !p.endsWith("module-info.class")).toList()) {
                ClassModel cm = ClassFile.of().parse(Files.readAllBytes(f));
                String pkg = packageOf(cm.thisClass().asInternalName());
                if (!pkg.startsWith("dev.longconv")) continue;
                Set<String> out = edges.computeIfAbsent(pkg, k -> new TreeSet<>());
                for (PoolEntry e : cm.constantPool()) {
                    if (e instanceof ClassEntry c) {
                        add(out, pkg, c.asInternalName());
                    } else if (e instanceof Utf8Entry u) {
                        Matcher m = DESCRIPTOR_CLASS.matcher(u.stringValue());
                        while (m.find()) add(out, pkg, m.group(1));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new PackageGraph(edges);
    }

    private static void add(Set<String> out, String self, String internalName) {
        String name = internalName.startsWith("[") ? internalName.replaceAll("^\\[+L?|;$", "") : internalName;
        if (!name.startsWith("dev/longconv/")) return;
        String p = packageOf(name);
        if (!p.equals(self)) out.add(p);
    }

    private static String packageOf(String internalName) {
        int i = internalName.lastIndexOf('/');
        return i < 0 ? "" : internalName.substring(0, i).replace('/', '.');
    }

    /** The project packages {@code pkg} uses. */
    public Set<String> dependenciesOf(String pkg) {
        return edges.getOrDefault(pkg, Set.of());
    }

    /** The packages of this module. */
    public Set<String> packages() {
        return edges.keySet();
    }

    /** Every package cycle among this module's packages, each as its members (Tarjan's strongly connected components). */
    public List<Set<String>> cycles() {
        List<Set<String>> out = new ArrayList<>();
        Map<String, Integer> index = new HashMap<>(), low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new TreeSet<>();
        int[] counter = {0};
        for (String p : edges.keySet()) if (!index.containsKey(p)) strongConnect(p, index, low, stack, onStack, counter, out);
        return out;
    }

    private void strongConnect(String v, Map<String, Integer> index, Map<String, Integer> low, Deque<String> stack, Set<String> onStack,
                               int[] counter, List<Set<String>> out) {
        index.put(v, counter[0]);
        low.put(v, counter[0]++);
        stack.push(v);
        onStack.add(v);
        for (String w : dependenciesOf(v)) {
            if (!edges.containsKey(w)) continue; // another module's package: no cycle through it within this module
            if (!index.containsKey(w)) {
                strongConnect(w, index, low, stack, onStack, counter, out);
                low.put(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.contains(w)) {
                low.put(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v).equals(index.get(v))) {
            Set<String> scc = new TreeSet<>();
            String w;
            do {
                w = stack.pop();
                onStack.remove(w);
                scc.add(w);
            } while (!w.equals(v));
            if (scc.size() > 1) out.add(scc);
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        edges.forEach((k, v) -> sb.append(k).append(" -> ").append(v).append('\n'));
        return sb.toString();
    }
}
