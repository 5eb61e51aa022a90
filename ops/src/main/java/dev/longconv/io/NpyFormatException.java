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
        super(LongConvException.printable(file + ": " + problem)); // file names and dtype strings may hold control characters
    }
}
