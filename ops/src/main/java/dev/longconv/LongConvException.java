package dev.longconv;

/**
 * Bad input to an op: names the op, the argument, and what was expected against what arrived.
 * The message is one line, fit to print as is (the CLI does).
 */
public class LongConvException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String op;
    private final String argument;

    public LongConvException(String op, String argument, String expected, String actual) {
        super(op + ": argument " + argument + ": expected " + expected + ", got " + actual);
        this.op = op;
        this.argument = argument;
    }

    public LongConvException(String op, String argument, String problem) {
        super(op + ": argument " + argument + ": " + problem);
        this.op = op;
        this.argument = argument;
    }

    public String op() {
        return op;
    }

    public String argument() {
        return argument;
    }
}
