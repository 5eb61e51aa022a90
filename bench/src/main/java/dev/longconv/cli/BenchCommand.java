package dev.longconv.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

/** {@code longconv bench [JMH options]}: the JMH runner over the benchmarks in this jar. */
@Command(name = "bench", description = "Run the JMH benchmarks in this jar; arguments go to JMH (try: bench -h, bench -l).")
final class BenchCommand implements Callable<Integer> {
    @Parameters(arity = "0..*", paramLabel = "JMH_ARGS")
    String[] args = new String[0];

    @Override
    public Integer call() throws Exception {
        org.openjdk.jmh.Main.main(args);
        return 0;
    }
}
