package dev.longconv.io;

import dev.longconv.LongConvException;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * File-system failures of the readers and writers here as one-line messages. The file system's exception
 * types already say what failed; this keeps the type (a caller may catch NoSuchFileException) but makes the
 * message the same "file: problem" line as format errors.
 */
final class IoFailure {
    private IoFailure() {}

    static IOException of(Path file, String doing, IOException e) {
        String name = LongConvException.printable(file.toString());
        IOException out;
        if (e instanceof NoSuchFileException) {
            out = new NoSuchFileException(name, null, doing.equals("read") ? "no such file" : "cannot write: no such directory");
        } else if (e instanceof AccessDeniedException) {
            out = new AccessDeniedException(name, null, "cannot " + doing + ": permission denied");
        } else {
            String why = e instanceof FileSystemException f ? f.getReason() : e.getMessage();
            if (why == null) why = e.getClass().getSimpleName();
            out = new IOException(name + ": cannot " + doing + ": " + LongConvException.printable(why));
        }
        out.initCause(e);
        return out;
    }
}
