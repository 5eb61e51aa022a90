package dev.longconv.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code longconv chart RESULTS.json... OUT.png}: draws JMH results written with {@code -rf json} (or by {@code bench
 * --chart}, or by the PyTorch anchor scripts' {@code --time-json}), several files in one chart.
 */
@Command(name = "chart", description = {"Draw JMH JSON results (-rf json) as a PNG chart.", "Time per call against a numeric parameter, log-log,",
        "one line per method (and per combination of the other parameters), error bars from JMH's confidence interval."})
final class ChartCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(arity = "2..*", paramLabel = "FILE",
            description = "One or more JMH result files (-rf json -rff RESULTS.json; anchor scripts write the same layout), then OUT.png.")
    List<Path> files;

    @Option(names = "--x", paramLabel = "PARAM", description = "The parameter on the x axis (default: the numeric one with the most values).")
    String x;

    @Override
    public Integer call() throws IOException {
        Path png = files.get(files.size() - 1);
        Charts.jmh(files.subList(0, files.size() - 1), png, x);
        spec.commandLine().getOut().println("chart: " + png);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
