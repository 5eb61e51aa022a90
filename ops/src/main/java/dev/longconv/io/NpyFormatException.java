package dev.longconv.io;

import dev.longconv.LongConvException;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file whose bytes are not a .npy array longconv reads. The message is {@code "<file>: <problem>"} on
 * one line, fit to show a user as is.
 */
public final class NpyFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception for {@code file}.
     *
     * @param file    the file that was being read
     * @param problem what is wrong with it, in words
     */
    public NpyFormatException(Path file, String problem) {
        super(oneLine(file + ": " + problem));
    }

    /**
     * Parts of the message come from the file (a dtype string, a key) or its name, and either may hold
     * control characters; escaping them keeps the promise of one printable line.
     */
    static String oneLine(String s) {
        return LongConvException.printable(s);
    }
}
