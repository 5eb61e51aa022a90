package dev.longconv.cli;

import dev.longconv.LongConvException;
import org.openjdk.jmh.runner.BenchmarkList;
import org.openjdk.jmh.runner.BenchmarkListEntry;
import org.openjdk.jmh.runner.NoBenchmarksException;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.VerboseMode;
import org.openjdk.jmh.results.format.ResultFormatType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code longconv bench [JMH options] [--chart OUT.png]}: the JMH runner over the benchmarks in this jar. Every argument
 * after {@code bench} goes to JMH ({@code -h}, {@code -l}, {@code -f 1}, {@code -wi 3}, {@code -p length=1024}, a
 * benchmark regexp, ...), except {@code --chart FILE}, which also writes the results as JSON next to FILE and draws
 * them ({@link Charts#jmh}), and {@code --help}, which prints this usage and JMH's. A {@code -p NAME=...} that no
 * selected benchmark has is refused (JMH itself ignores it silently).
 *
 * <p>Not run through picocli: {@link Main} hands the arguments here unparsed. The annotations only describe the
 * command in {@code longconv --help}.
 */
@Command(name = "bench", description = "Run the JMH benchmarks in this jar: every argument goes to JMH (bench -h, bench -l, "
        + "bench CausalConvBench -f 1 -p length=1024); --chart OUT.png also draws the results.")
final class BenchCommand {
    @Parameters(arity = "0..*", paramLabel = "JMH_ARGS", description = "JMH's options and benchmark regexps.")
    String[] args = new String[0];

    private BenchCommand() {}

    /** Runs JMH with {@code args}; returns the exit code (2 for arguments JMH or longconv refuse). */
    static int run(PrintWriter out, PrintWriter err, List<String> args) throws Exception {
        List<String> jmh = new ArrayList<>();
        Path chart = null;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--verbose")) continue;
            if (a.equals("--help")) {
                out.println("Usage: longconv bench [JMH options] [REGEXP...] [--chart OUT.png]");
                out.println("Runs the JMH benchmarks in this jar; every argument goes to JMH. --chart OUT.png also writes the");
                out.println("results as OUT.json and draws them (time per call against the numeric parameter, one line per");
                out.println("method; longconv chart redraws a JSON file). The benchmarks: longconv bench -l (with parameters: -lp).");
                out.println();
                out.flush();
                jmh = List.of("-h");
                break;
            }
            if (a.equals("--chart") || a.startsWith("--chart=")) {
                String v = a.startsWith("--chart=") ? a.substring("--chart=".length()) : (i + 1 < args.size() ? args.get(++i) : null);
                if (v == null || v.isBlank()) throw new LongConvException("bench", "--chart", "a PNG file name", "nothing");
                chart = Path.of(v);
                continue;
            }
            jmh.add(a);
        }
        CommandLineOptions options;
        try {
            options = new CommandLineOptions(jmh.toArray(String[]::new));
        } catch (CommandLineOptionException e) {
            throw new LongConvException("bench", "options", "JMH options (longconv bench -h lists them)", e.getMessage());
        }
        PrintStream stdout = System.out;
        if (options.shouldHelp()) {
            options.showHelp();
            return 0;
        }
        if (options.shouldListProfilers()) {
            options.listProfilers();
            return 0;
        }
        if (options.shouldListResultFormats()) {
            options.listResultFormats();
            return 0;
        }
        Runner runner = new Runner(options);
        if (options.shouldList()) {
            runner.list();
            return 0;
        }
        if (options.shouldListWithParams()) {
            runner.listWithParams(options);
            return 0;
        }
        checkParameterNames(options, parameterNames(jmh));
        Path json = null;
        if (chart != null) {
            if (options.getResultFormat().hasValue() && options.getResultFormat().get() != ResultFormatType.JSON) {
                throw new LongConvException("bench", "--chart", "JSON results (leave -rf out, or -rf json)", "-rf " + options.getResultFormat().get());
            }
            json = options.getResult().hasValue() ? Path.of(options.getResult().get()) : Charts.jsonBeside(chart);
            List<String> withJson = new ArrayList<>(jmh);
            withJson.addAll(List.of("-rf", "json", "-rff", json.toString()));
            options = new CommandLineOptions(withJson.toArray(String[]::new));
            runner = new Runner(options);
        }
        try {
            runner.run();
        } catch (NoBenchmarksException e) {
            throw new LongConvException("bench", "regexp", "a regexp matching a benchmark (longconv bench -l lists them)",
                    "no match for " + options.getIncludes());
        } catch (RunnerException e) {
            err.println("longconv: bench: " + e.getMessage());
            err.flush();
            return 1;
        }
        stdout.flush();
        if (chart != null) {
            Charts.jmh(json, chart, null);
            out.println("chart: " + chart + " (results: " + json + ")");
            out.flush();
        }
        return 0;
    }

    /**
     * Refuses {@code -p NAME=...} when no benchmark the run selects has a parameter NAME, naming the parameters they
     * have: JMH would run with the defaults and say nothing.
     */
    static void checkParameterNames(CommandLineOptions options, Set<String> asked) {
        if (asked.isEmpty()) return;
        List<String> includes = options.getIncludes().isEmpty() ? List.of(".*") : options.getIncludes();
        Set<String> known = new TreeSet<>();
        var format = OutputFormatFactory.createFormatInstance(new PrintStream(PrintStream.nullOutputStream()), VerboseMode.SILENT);
        for (BenchmarkListEntry e : BenchmarkList.defaultList().find(format, includes, options.getExcludes())) {
            if (e.getParams().hasValue()) known.addAll(e.getParams().get().keySet());
        }
        for (String name : asked) {
            if (!known.contains(name)) {
                throw new LongConvException("bench", "-p " + name, known.isEmpty() ? "no -p: the selected benchmarks take no parameters"
                        : "one of the selected benchmarks' parameters: " + String.join(", ", known), "'" + name + "'");
            }
        }
    }

    /** The NAMEs of {@code -p NAME=VALUES} (also {@code -pNAME=VALUES}) in JMH arguments. */
    static Set<String> parameterNames(List<String> jmh) {
        Set<String> names = new TreeSet<>();
        for (int i = 0; i < jmh.size(); i++) {
            String a = jmh.get(i);
            String spec = a.equals("-p") && i + 1 < jmh.size() ? jmh.get(++i) : a.startsWith("-p") && a.length() > 2 && a.contains("=") ? a.substring(2) : null;
            if (spec != null && spec.contains("=")) names.add(spec.substring(0, spec.indexOf('=')).strip());
        }
        return names;
    }

    /** For tests: the parameters each benchmark class declares, by simple class name. */
    static Map<String, Set<String>> parametersByBenchmark() {
        Map<String, Set<String>> m = new java.util.TreeMap<>();
        var format = OutputFormatFactory.createFormatInstance(new PrintStream(PrintStream.nullOutputStream()), VerboseMode.SILENT);
        for (BenchmarkListEntry e : BenchmarkList.defaultList().find(format, List.of(".*"), List.of())) {
            String cls = e.getUserClassQName().substring(e.getUserClassQName().lastIndexOf('.') + 1);
            m.computeIfAbsent(cls.contains("$") ? cls.substring(0, cls.indexOf('$')) : cls, k -> new TreeSet<>())
                    .addAll(e.getParams().hasValue() ? e.getParams().get().keySet() : Set.of());
        }
        return m;
    }
}
