package dev.longconv.cli;

import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** {@code longconv completion bash|zsh}: a completion script for the shell, generated from the commands themselves. */
@Command(name = "completion", description = {"Print a shell completion script for longconv.",
        "bash: source <(longconv completion bash)   zsh: source <(longconv completion zsh)  (or save it in your completion folder)"})
final class CompletionCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "SHELL", description = "bash or zsh.")
    String shell;

    @Override
    public Integer call() {
        if (!shell.equals("bash") && !shell.equals("zsh")) {
            throw new dev.longconv.LongConvException("completion", "SHELL", "bash or zsh", "'" + shell + "'");
        }
        PrintWriter out = spec.commandLine().getOut();
        // picocli's script is bash; under zsh it runs through bashcompinit, which the script's own preamble loads.
        out.print(AutoComplete.bash("longconv", Main.commandLine(new PrintWriter(PrintWriter.nullWriter()),
                new PrintWriter(PrintWriter.nullWriter()))));
        out.flush();
        return 0;
    }
}
