package dev.longconv.io;

import dev.longconv.DType;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;

/**
 * NumPy .npy files (format versions 1.0, 2.0 and 3.0) holding little-endian float32 ('&lt;f4') or
 * float64 ('&lt;f8') arrays in C order. Everything else is rejected with a {@link NpyFormatException}
 * that names the file and the problem; no byte content makes the reader read outside the file.
 */
public final class Npy {
    /** Files with at least this many data bytes are memory-mapped instead of copied. */
    public static final long MAP_THRESHOLD = 1 << 20;

    /** Headers larger than this are refused: numpy writes a few hundred bytes, so more is damage. */
    static final long MAX_HEADER = 1 << 20;

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Set<String> KEYS = Set.of("descr", "fortran_order", "shape");

    private Npy() {}

    /**
     * Reads {@code file} into {@code arena}: data of at least {@link #MAP_THRESHOLD} bytes is mapped
     * read-only (so reading a large file costs no copy and cannot change it), smaller data is copied.
     */
    public static NpyArray read(Path file, Arena arena) throws IOException {
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new NpyFormatException(file, "no such file");
        } catch (IOException e) {
            throw new IOException(file + ": cannot open: " + e.getMessage(), e);
        }
        try (ch) {
            long size = ch.size();
            ByteBuffer pre = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, pre, 0);
            if (pre.position() < 10 || !Arrays.equals(Arrays.copyOf(pre.array(), 6), MAGIC)) {
                throw new NpyFormatException(file, "not a .npy file (no \\x93NUMPY magic)");
            }
            int major = pre.get(6), minor = pre.get(7);
            if (!(minor == 0 && (major == 1 || major == 2 || major == 3))) {
                throw new NpyFormatException(file, "unsupported .npy format version " + major + "." + minor + "; longconv reads 1.0, 2.0 and 3.0");
            }
            int prefix = major == 1 ? 10 : 12;
            if (pre.position() < prefix) throw new NpyFormatException(file, "file ends inside the .npy preamble");
            long headerLen = major == 1 ? Short.toUnsignedInt(pre.getShort(8)) : Integer.toUnsignedLong(pre.getInt(8));
            if (headerLen > MAX_HEADER) throw new NpyFormatException(file, "header length " + headerLen + " is implausibly large");
            if (prefix + headerLen > size) {
                throw new NpyFormatException(file, "header length " + headerLen + " runs past the end of the file (" + size + " bytes)");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            readFully(ch, hb, prefix);
            String header = new String(hb.array(), major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);

            Map<String, Object> dict;
            try {
                dict = NpyHeader.parse(header);
            } catch (NpyHeader.Malformed e) {
                throw new NpyFormatException(file, e.getMessage());
            }
            if (!dict.keySet().equals(KEYS)) {
                throw new NpyFormatException(file, "header keys are " + dict.keySet() + ", expected descr, fortran_order and shape");
            }
            if (!(dict.get("descr") instanceof String descr)) throw new NpyFormatException(file, "'descr' is not a string");
            if (!(dict.get("fortran_order") instanceof Boolean fortran)) throw new NpyFormatException(file, "'fortran_order' is not True or False");
            if (!(dict.get("shape") instanceof long[] shape)) throw new NpyFormatException(file, "'shape' is not a tuple");
            DType dtype = dtype(file, descr);
            if (fortran) throw new NpyFormatException(file, "Fortran-order arrays are not supported; save with numpy.ascontiguousarray");

            long count = 1, bytes;
            try {
                for (long d : shape) count = Math.multiplyExact(count, d);
                bytes = Math.multiplyExact(count, (long) dtype.byteSize());
            } catch (ArithmeticException e) {
                throw new NpyFormatException(file, "shape " + Arrays.toString(shape) + " has more elements than fit in memory");
            }
            long dataOff = prefix + headerLen, available = size - dataOff;
            if (available < bytes) {
                throw new NpyFormatException(file, "truncated: header promises " + bytes + " bytes of data, file has " + available);
            }
            if (available > bytes) {
                throw new NpyFormatException(file, (available - bytes) + " bytes after the data that the header's shape "
                        + Arrays.toString(shape) + " does not account for");
            }
            MemorySegment data;
            if (bytes >= MAP_THRESHOLD) {
                data = ch.map(FileChannel.MapMode.READ_ONLY, dataOff, bytes, arena);
            } else {
                data = arena.allocate(Math.max(bytes, 1), 64).asSlice(0, bytes);
                ByteBuffer buf = data.asByteBuffer();
                readFully(ch, buf, dataOff);
                if (buf.hasRemaining()) throw new NpyFormatException(file, "truncated while reading the data");
            }
            return new NpyArray(dtype, shape, data);
        }
    }

    private static DType dtype(Path file, String descr) throws NpyFormatException {
        return switch (descr) {
            case "<f4" -> DType.FLOAT32;
            case "<f8" -> DType.FLOAT64;
            case ">f4", ">f8" -> throw new NpyFormatException(file, "unsupported dtype '" + descr
                    + "' (big-endian); longconv reads '<f4' and '<f8' (use arr.astype('<f4'))");
            default -> throw new NpyFormatException(file, "unsupported dtype '" + descr + "'; longconv reads '<f4' (float32) and '<f8' (float64)");
        };
    }

    /** Reads until {@code buf} is full or the file ends. */
    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long p = position;
        while (buf.hasRemaining()) {
            int r = ch.read(buf, p);
            if (r < 0) return;
            p += r;
        }
    }

    /**
     * Writes a version 1.0 file (2.0 if the header needs it) with descr '&lt;f4' or '&lt;f8',
     * fortran_order False and {@code shape}; {@code data} holds the elements in C order, little-endian.
     */
    public static void write(Path file, DType dtype, long[] shape, MemorySegment data) throws IOException {
        long count = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            count = Math.multiplyExact(count, d);
        }
        long bytes = Math.multiplyExact(count, (long) dtype.byteSize());
        if (data.byteSize() != bytes) {
            throw new IllegalArgumentException("data has " + data.byteSize() + " bytes, " + dtype + Arrays.toString(shape) + " needs " + bytes);
        }
        StringBuilder dims = new StringBuilder();
        for (int i = 0; i < shape.length; i++) dims.append(i > 0 ? ", " : "").append(shape[i]);
        if (shape.length == 1) dims.append(',');
        String dict = "{'descr': '" + (dtype == DType.FLOAT32 ? "<f4" : "<f8") + "', 'fortran_order': False, 'shape': (" + dims + "), }";
        int version = dict.length() + 11 > 65535 ? 2 : 1;
        int prefix = version == 1 ? 10 : 12;
        int total = prefix + dict.length() + 1;
        int padded = (total + 63) / 64 * 64; // numpy aligns the data to 64 bytes
        String header = dict + " ".repeat(padded - total) + "\n";
        ByteBuffer head = ByteBuffer.allocate(prefix + header.length()).order(ByteOrder.LITTLE_ENDIAN);
        head.put(MAGIC).put((byte) version).put((byte) 0);
        if (version == 1) head.putShort((short) header.length());
        else head.putInt(header.length());
        head.put(header.getBytes(StandardCharsets.ISO_8859_1)).flip();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (head.hasRemaining()) ch.write(head);
            // asByteBuffer is limited to 2 GiB, so larger arrays go out in slices.
            final long chunk = 1L << 30;
            for (long off = 0; off < bytes; off += chunk) {
                ByteBuffer b = data.asSlice(off, Math.min(chunk, bytes - off)).asByteBuffer();
                while (b.hasRemaining()) ch.write(b);
            }
        }
    }
}
