package dev.longconv.cli;

import dev.longconv.LongConvException;
import dev.longconv.cuda.CudaProbe;
import dev.longconv.ops.Backends;
import dev.longconv.simd.VectorInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** {@code longconv info}: what this machine offers and which backend runs. */
@Command(name = "info", description = "Show JDK, Vector API, cores, backends (and why one is unavailable), CUDA devices.")
final class InfoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Runtime.Version v = Runtime.version();
        out.printf("longconv     %s (commit %s)%n", BuildInfo.version(), BuildInfo.commit());
        out.printf("JDK          %s (%s), %s%n", v, System.getProperty("java.vendor"), System.getProperty("java.home"));
        out.printf("OS / arch    %s %s / %s%n", System.getProperty("os.name"), System.getProperty("os.version"), System.getProperty("os.arch"));
        out.printf("cores        %d%n", Runtime.getRuntime().availableProcessors());
        out.printf("Vector API   %s%n", VectorInfo.detect().describe());
        var cuda = CudaProbe.status();
        out.printf("CUDA         %s%n", cuda.available() ? "available" : "not available: " + cuda.reason());
        if (cuda.runtimeVersion() > 0) out.printf("  runtime    %s (%s)%n", version(cuda.runtimeVersion()), cuda.cudartPath());
        if (cuda.driverVersion() > 0) out.printf("  driver     %s%n", version(cuda.driverVersion()));
        for (var d : cuda.devices()) {
            out.printf("  device %d   %s, compute capability %d.%d, %.1f GiB%n", d.index(), d.name(), d.ccMajor(), d.ccMinor(),
                    d.totalMemoryBytes() / (1024.0 * 1024 * 1024));
        }
        out.printf("  cuFFT      %s%n", cuda.cufft());
        out.printf("  cuBLAS     %s%n", cuda.cublas());
        out.printf("  kernels    %s%n", cuda.kernelsLibrary() == null ? "not packaged (built without nvcc)"
                : cuda.kernelsLibrary() + (cuda.kernelsAbiVersion() > 0 ? " (ABI " + cuda.kernelsAbiVersion() + ")" : ""));
        out.println("backends");
        for (Backends.Status s : Backends.statuses()) {
            out.printf("  %-8s %s%n", s.name(), (s.available() ? "available: " : "unavailable: ") + s.reason());
        }
        try {
            out.printf("selected     %s%s%n", Backends.selected().name(),
                    System.getProperty(Backends.PROPERTY) != null ? " (forced by -D" + Backends.PROPERTY + ")" : "");
        } catch (LongConvException e) {
            out.println("selected     none (see the error)");
            out.flush();
            throw e; // a property that cannot be honoured: the one-line error and exit 2
        }
        out.flush();
        return 0;
    }

    private static String version(int v) {
        return (v / 1000) + "." + (v % 1000) / 10;
    }
}
