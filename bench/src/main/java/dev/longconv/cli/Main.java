package dev.longconv.cli;

import dev.longconv.LongConvException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** The {@code longconv} command-line tool. */
@Command(name = "longconv", mixinStandardHelpOptions = true, version = "longconv 0.1.0",
        description = "Long-convolution kernels (STU, TNN) on the JVM: inspect the machine, run ops on .npy files, demo every op.",
        subcommands = {InfoCommand.class, RunCommand.class, StreamCommand.class, DemoCommand.class, BenchCommand.class})
public final class Main {
    /** Exit code for bad input (files, shapes, dtypes, arguments). */
    public static final int EXIT_BAD_INPUT = 2;

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Print stack traces with errors.")
    boolean verbose;

    public static void main(String[] args) {
        relaunchWithVectorModule(args);
        System.exit(execute(args));
    }

    /** Runs the tool in this JVM and returns its exit code. */
    public static int execute(String... args) {
        return execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /** Runs the tool in this JVM with the given streams (tests read them) and returns its exit code. */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            boolean verbose = parsed.matchedOption("--verbose") != null || hasVerbose(parsed);
            boolean badInput = isBadInput(ex);
            String msg = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
            cmd.getErr().println("longconv: " + (badInput ? "" : "internal error: " + ex.getClass().getName() + ": ")
                    + msg.replace('\n', ' ') + (badInput || verbose ? "" : " (a bug in longconv: --verbose prints the stack trace)"));
            if (verbose) ex.printStackTrace(cmd.getErr());
            cmd.getErr().flush();
            return badInput ? EXIT_BAD_INPUT : 1;
        });
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError e) {
            err.println("longconv: too large for this machine: the JVM ran out of memory (" + e.getMessage() + "; max heap "
                    + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB): use smaller inputs or raise -Xmx");
            err.flush();
            return EXIT_BAD_INPUT;
        } catch (Error e) {
            String msg = e.getMessage() == null ? "" : ": " + e.getMessage().replace('\n', ' ');
            err.println("longconv: internal error: " + e.getClass().getName() + msg
                    + (Arrays.asList(args).contains("--verbose") ? "" : " (--verbose prints the stack trace)"));
            if (Arrays.asList(args).contains("--verbose")) e.printStackTrace(err);
            err.flush();
            return 1;
        }
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
     * start the same command once more with the flag, so that `java -jar longconv.jar` needs none.
     */
    private static void relaunchWithVectorModule(String[] args) {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent() || Boolean.getBoolean("longconv.relaunched")) {
            return;
        }
        Optional<String> java = ProcessHandle.current().info().command();
        if (java.isEmpty()) return;
        List<String> cmd = new ArrayList<>(List.of(java.get(), "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Dlongconv.relaunched=true"));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("--add-modules") && !a.startsWith("--enable-native-access")) cmd.add(a);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).inheritIO().start();
            System.exit(p.waitFor());
        } catch (IOException | InterruptedException e) {
            System.err.println("longconv: could not restart with " + "--add-modules jdk.incubator.vector (" + e.getMessage()
                    + "); continuing without the Vector API");
        }
    }
}
