package dev.longconv;

/**
 * Bad input to an op: names the op, the argument, and what was expected against what arrived.
 * The message is one line, fit to print as is (the CLI does).
 */
public class LongConvException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String op;
    private final String argument;
    private final String problem;

    /** "op: argument ARGUMENT: expected EXPECTED, got ACTUAL". */
    public LongConvException(String op, String argument, String expected, String actual) {
        this(op, argument, "expected " + expected + ", got " + actual);
    }

    /** "op: argument ARGUMENT: PROBLEM". */
    public LongConvException(String op, String argument, String problem) {
        super(op + ": argument " + argument + ": " + problem);
        this.op = op;
        this.argument = argument;
        this.problem = problem;
    }

    public String op() {
        return op;
    }

    public String argument() {
        return argument;
    }

    /** The message after the op and argument: what was wrong with it. */
    public String problem() {
        return problem;
    }
}
