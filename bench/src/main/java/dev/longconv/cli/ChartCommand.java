package dev.longconv.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code longconv chart RESULTS.json OUT.png}: draws JMH results written with {@code -rf json} (or by {@code bench --chart}). */
@Command(name = "chart", description = {"Draw JMH JSON results (-rf json) as a PNG chart.", "Time per call against a numeric parameter, log-log,",
        "one line per method (and per combination of the other parameters), error bars from JMH's confidence interval."})
final class ChartCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "RESULTS.json", description = "JMH results (-rf json -rff RESULTS.json).")
    Path results;

    @Parameters(index = "1", paramLabel = "OUT.png", description = "Where to write the chart.")
    Path png;

    @Option(names = "--x", paramLabel = "PARAM", description = "The parameter on the x axis (default: the numeric one with the most values).")
    String x;

    @Override
    public Integer call() throws IOException {
        Charts.jmh(results, png, x);
        spec.commandLine().getOut().println("chart: " + png);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
