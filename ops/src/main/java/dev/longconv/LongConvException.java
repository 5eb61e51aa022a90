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
        super(printable(op) + ": argument " + printable(argument) + ": " + printable(problem));
        this.op = printable(op);
        this.argument = printable(argument);
        this.problem = printable(problem);
    }

    /**
     * {@code text} on one printable line: newline, carriage return and tab as {@code \n \r \t}, every other
     * control character (C0, DEL, C1) and the Unicode line and paragraph separators as a backslash, 'u' and
     * four hex digits. Messages
     * quote file names, metadata values and tensor names, any of which may hold escape sequences or line breaks;
     * this keeps such a message one line that cannot drive a terminal. Every message of this library passes
     * through it; callers building their own messages from file content may use it too.
     */
    public static String printable(String text) {
        if (text == null) return "null";
        StringBuilder b = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            String esc = switch (c) {
                case '\n' -> "\\n";
                case '\r' -> "\\r";
                case '\t' -> "\\t";
                default -> Character.isISOControl(c) || c == '\u2028' || c == '\u2029' ? String.format("\\u%04x", (int) c) : null;
            };
            if (esc != null && b == null) b = new StringBuilder(text.length() + 8).append(text, 0, i);
            if (b != null) {
                if (esc != null) b.append(esc);
                else b.append(c);
            }
        }
        return b == null ? text : b.toString();
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
