package dev.longconv.io;

import dev.longconv.LongConvException;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file whose bytes are not a valid safetensors file. The message is {@code "<file>: <problem>"}, or
 * {@code "<file>: tensor '<name>': <problem>"} when one tensor's entry is at fault, on one line, fit to
 * show a user as is.
 */
public final class SafetensorsFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception for a problem with the file as a whole.
     *
     * @param file    the file that was being read
     * @param problem what is wrong with it, in words
     */
    public SafetensorsFormatException(Path file, String problem) {
        super(LongConvException.printable(file + ": " + problem));
    }

    /**
     * Creates the exception for a problem with one tensor's header entry.
     *
     * @param file    the file that was being read
     * @param tensor  the name of the tensor whose entry is at fault
     * @param problem what is wrong with it, in words
     */
    public SafetensorsFormatException(Path file, String tensor, String problem) {
        super(LongConvException.printable(file + ": tensor " + SafetensorsJson.quote(tensor) + ": " + problem));
    }
}
