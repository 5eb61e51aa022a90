package dev.longconv.io;

import dev.longconv.LongConvException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How the writers replace a file, as careful tools do: a regular file is replaced atomically (written beside it
 * under a temporary name, then renamed over it, so a failed write leaves the old file and a reader that has it
 * mapped keeps its contents) and keeps its permissions and, where permitted, its owner; a symbolic link is followed
 * and its target replaced, the link left as it is; a directory, device node, FIFO or socket is refused with one line
 * (replacing /dev/null by a regular file, say, is never what was meant). Readers refuse anything but a regular
 * file (opening a FIFO for reading blocks until someone writes).
 */
final class FileReplacement {
    private FileReplacement() {}

    /** What a writer writes into: the open temporary file. */
    @FunctionalInterface
    interface Body {
        void write(FileChannel ch) throws IOException;
    }

    /** Writes {@code file} through {@code body} as the class comment says; IOExceptions name the file. */
    static void write(Path file, Body body) throws IOException {
        Path target = target(file);
        Path name = target.getFileName();
        Path tmp = target.resolveSibling("." + name + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                body.write(ch);
            }
            keepAttributes(target, tmp);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e instanceof SpecialFileException ? e : IoFailure.of(file, "write", e);
        }
    }

    /** The path to replace: {@code file}, or the final target of the symbolic link it is; refuses non-regular files. */
    private static Path target(Path file) throws IOException {
        if (file.getFileName() == null) throw new SpecialFileException(file, "write", "not a file path");
        Path target = file;
        if (Files.isSymbolicLink(file)) {
            // follow the link chain to what it names, which may not exist yet
            for (int hops = 0; Files.isSymbolicLink(target); hops++) {
                if (hops > 40) throw new SpecialFileException(file, "write", "too many levels of symbolic links");
                Path next = Files.readSymbolicLink(target);
                target = target.resolveSibling(next);
            }
        }
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(target, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return target;
        }
        if (!a.isRegularFile()) throw new SpecialFileException(file, "write", "refusing to replace " + kind(a) + " (write to a regular file)");
        return target;
    }

    /** The permissions and owner of the file being replaced onto the new one (the owner only where the OS permits). */
    private static void keepAttributes(Path old, Path tmp) throws IOException {
        PosixFileAttributeView oldView = Files.getFileAttributeView(old, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        if (oldView == null || !Files.exists(old, LinkOption.NOFOLLOW_LINKS)) return;
        PosixFileAttributes oldAttrs;
        try {
            oldAttrs = oldView.readAttributes();
        } catch (NoSuchFileException e) {
            return;
        }
        PosixFileAttributeView view = Files.getFileAttributeView(tmp, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        view.setPermissions(oldAttrs.permissions());
        try {
            view.setOwner(oldAttrs.owner());
            view.setGroup(oldAttrs.group());
        } catch (IOException | SecurityException notPermitted) {
            // only root may give a file away: the new file stays the writer's, with the old permissions
        }
    }

    /** Refuses to read anything but a regular file (following links): a FIFO would block, a directory fail later. */
    static void requireRegularForRead(Path file) throws IOException {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (IOException e) {
            throw IoFailure.of(file, "read", e);
        }
        if (!a.isRegularFile()) throw new SpecialFileException(file, "read", "not a regular file (" + kind(a) + ")");
    }

    private static String kind(BasicFileAttributes a) {
        if (a.isDirectory()) return "a directory";
        if (a.isOther()) return "a device node, FIFO or socket";
        if (a.isSymbolicLink()) return "a symbolic link";
        return "a special file";
    }

    /** An I/O failure whose one-line message names the file; not wrapped again. */
    static final class SpecialFileException extends IOException {
        private static final long serialVersionUID = 1L;

        SpecialFileException(Path file, String doing, String why) {
            super(LongConvException.printable(file.toString()) + ": cannot " + doing + ": " + why);
        }
    }

    /** Writes all of {@code buf} at the channel's position. */
    static void writeAll(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }
}
