package dev.longconv.cli;

import dev.longconv.LongConvException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The {@code longconv} command-line tool. Conventions: {@code --help} and {@code -h} on every command (exit 0), no
 * arguments prints the help (exit 0), {@code --version} from the build; bad input is one line on stderr and exit 2,
 * a bug one "internal error" line and exit 1 ({@code --verbose} adds the stack trace and the library's log records);
 * {@code bench} hands every argument after it to JMH.
 */
@Command(name = "longconv", mixinStandardHelpOptions = true, versionProvider = BuildInfo.class,
        description = "Long-convolution kernels (STU, TNN) on the JVM: inspect the machine, run ops and layers on .npy files, "
                + "demo every op, benchmark and chart.",
        subcommands = {InfoCommand.class, RunCommand.class, StreamCommand.class, DemoCommand.class, BenchCommand.class,
                ChartCommand.class, CompletionCommand.class})
public final class Main {
    /** Exit code for bad input (files, shapes, dtypes, arguments, properties). */
    public static final int EXIT_BAD_INPUT = 2;

    /** The line the JVM prints first on stderr whenever the Vector API module is added; the tool hides it. */
    static final String INCUBATOR_WARNING = "WARNING: Using incubator modules: jdk.incubator.vector";

    @Option(names = "--verbose", scope = ScopeType.INHERIT,
            description = "Print stack traces with errors, and the library's log records (backend choice, debug details) on stderr.")
    boolean verbose;

    /** Starts the tool: relaunches once with the Vector API module when this JVM lacks it, then exits with the tool's code. */
    public static void main(String[] args) {
        relaunchWithVectorModule(args);
        System.exit(execute(args));
    }

    /**
     * Runs the tool in this JVM and returns its exit code.
     *
     * @param args the command line, without the program name
     * @return 0 on success, 2 for bad input, 1 for a bug
     */
    public static int execute(String... args) {
        return execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /**
     * Runs the tool in this JVM with the given streams (tests read them) and returns its exit code.
     *
     * @param out  where results and help go
     * @param err  where errors, warnings and (with {@code --verbose}) log records go
     * @param args the command line, without the program name
     * @return 0 on success, 2 for bad input, 1 for a bug
     */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        boolean verbose = Arrays.asList(args).contains("--verbose");
        try (CliLogging logging = CliLogging.install(err, verbose)) {
            int bench = benchIndex(args);
            if (bench >= 0) {
                return guarded(err, verbose, () -> BenchCommand.run(out, err, List.of(args).subList(bench + 1, args.length)));
            }
            CommandLine cl = commandLine(out, err);
            return guarded(err, verbose, () -> cl.execute(args));
        }
    }

    /** The picocli model of the tool, with its conventions applied to every subcommand. */
    static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        addHelpOptions(cl);
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionStrategy(Main::runOrShowHelp);
        cl.setParameterExceptionHandler((ex, a) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("longconv: " + LongConvException.printable(ex.getMessage().replace('\n', ' ')) + " (see: " + c.getCommandSpec().qualifiedName() + " --help)");
            c.getErr().flush();
            return EXIT_BAD_INPUT;
        });
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> report(cmd.getErr(), ex, parsed.matchedOption("--verbose") != null || hasVerbose(parsed)));
        return cl;
    }

    /** A command that only groups subcommands ({@code run}, {@code stream}, the tool itself) shows its help when called alone. */
    private static int runOrShowHelp(CommandLine.ParseResult parsed) {
        CommandLine.ParseResult last = parsed;
        while (last.hasSubcommand()) last = last.subcommand();
        CommandLine cmd = last.commandSpec().commandLine();
        if (CommandLine.printHelpIfRequested(parsed)) return 0;
        Object user = last.commandSpec().userObject();
        if (!(user instanceof Runnable) && !(user instanceof java.util.concurrent.Callable<?>) && !cmd.getSubcommands().isEmpty()) {
            cmd.usage(cmd.getOut());
            return 0;
        }
        return new CommandLine.RunLast().execute(parsed);
    }

    /** {@code -h, --help} on every subcommand that does not declare them itself. */
    private static void addHelpOptions(CommandLine cl) {
        for (CommandLine sub : cl.getSubcommands().values()) {
            CommandSpec spec = sub.getCommandSpec();
            if (spec.findOption("--help") == null && spec.findOption("-h") == null) {
                spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true).description("Show this help message and exit.").build());
            }
            addHelpOptions(sub);
        }
    }

    /** Index of "bench" when it is the command (the first argument that is not the tool's own option), else -1. */
    static int benchIndex(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--verbose")) continue;
            return args[i].equals("bench") ? i : -1;
        }
        return -1;
    }

    /** A body that returns an exit code. */
    interface Body {
        int run() throws Exception;
    }

    /** Runs {@code body} under the error policy: exceptions become one line and an exit code. */
    static int guarded(PrintWriter err, boolean verbose, Body body) {
        try {
            return body.run();
        } catch (OutOfMemoryError e) {
            err.println("longconv: too large for this machine: the JVM ran out of memory (" + e.getMessage() + "; max heap "
                    + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB): use smaller inputs or raise -Xmx");
            err.flush();
            return EXIT_BAD_INPUT;
        } catch (Exception | Error e) {
            return report(err, e, verbose);
        }
    }

    /** Prints the one line for {@code ex} (and its stack trace when verbose); returns the exit code. */
    static int report(PrintWriter err, Throwable ex, boolean verbose) {
        if (ex instanceof OutOfMemoryError) {
            err.println("longconv: too large for this machine: the JVM ran out of memory (" + LongConvException.printable(ex.getMessage()) + ")");
            err.flush();
            return EXIT_BAD_INPUT;
        }
        boolean badInput = isBadInput(ex);
        String msg = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
        err.println("longconv: " + (badInput ? "" : "internal error: " + ex.getClass().getName() + ": ")
                + LongConvException.printable(msg.replace('\n', ' ')) + (badInput || verbose ? "" : " (a bug in longconv: --verbose prints the stack trace)"));
        if (verbose) ex.printStackTrace(err);
        err.flush();
        return badInput ? EXIT_BAD_INPUT : 1;
    }

    /**
     * The one error policy: bad input is a {@link LongConvException} (an op, argument, expected and actual value) or
     * an I/O or file-format exception from reading and writing files; anything else is a bug, reported as internal
     * (exit 1).
     */
    static boolean isBadInput(Throwable ex) {
        return ex instanceof LongConvException || ex instanceof IOException || ex instanceof UncheckedIOException;
    }

    private static boolean hasVerbose(CommandLine.ParseResult p) {
        for (CommandLine.ParseResult r = p; r != null; r = r.subcommand()) {
            if (r.hasMatchedOption("--verbose")) return true;
        }
        return false;
    }

    /**
     * The Vector API is an incubator module, which no jar manifest can add. When this JVM lacks it,
     * start the same command once more with the flag, so that `java -jar longconv.jar` needs none. The new JVM's
     * first stderr line, the incubator warning, is dropped; everything else passes through unchanged.
     */
    private static void relaunchWithVectorModule(String[] args) {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent() || Boolean.getBoolean("longconv.relaunched")) {
            return;
        }
        Optional<String> java = ProcessHandle.current().info().command();
        if (java.isEmpty()) return;
        List<String> cmd = new ArrayList<>(List.of(java.get(), "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Dlongconv.relaunched=true",
                // JMH (bench) uses sun.misc.Unsafe; its forks inherit these options
                "--sun-misc-unsafe-memory-access=allow"));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("--add-modules") && !a.startsWith("--enable-native-access")) cmd.add(a);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.INHERIT)
                    .redirectOutput(ProcessBuilder.Redirect.INHERIT).start();
            Thread pump = Thread.ofPlatform().daemon().start(() -> dropIncubatorWarning(p.getErrorStream(), System.err));
            int code = p.waitFor();
            pump.join(5_000);
            System.exit(code);
        } catch (IOException | InterruptedException e) {
            System.err.println("longconv: could not restart with " + "--add-modules jdk.incubator.vector (" + e.getMessage()
                    + "); continuing without the Vector API");
        }
    }

    /**
     * Copies {@code in} to {@code out} byte for byte as it arrives (progress bars redraw without newlines), except
     * a first line equal to {@link #INCUBATOR_WARNING}.
     */
    static void dropIncubatorWarning(InputStream in, OutputStream out) {
        try {
            byte[] first = INCUBATOR_WARNING.getBytes(StandardCharsets.US_ASCII);
            byte[] head = new byte[first.length + 2];
            int n = 0, b;
            // read until the first line ends or it can no longer be the warning
            while (n < head.length && (b = in.read()) >= 0) {
                head[n++] = (byte) b;
                if (b == '\n' || n > first.length + 1 || (n <= first.length && head[n - 1] != first[n - 1])) break;
            }
            String line = new String(head, 0, n, StandardCharsets.US_ASCII).stripTrailing();
            if (!(line.equals(INCUBATOR_WARNING) && n > 0 && head[n - 1] == '\n')) out.write(head, 0, n);
            out.flush();
            byte[] buf = new byte[8192];
            int r;
            while ((r = in.read(buf)) >= 0) {
                out.write(buf, 0, r);
                out.flush();
            }
        } catch (IOException e) {
            // the child's stderr closed: nothing more to copy
        } finally {
            if (out instanceof PrintStream ps) ps.flush();
        }
    }
}
