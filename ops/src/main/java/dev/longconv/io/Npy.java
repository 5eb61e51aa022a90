package dev.longconv.io;

import dev.longconv.DType;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;

/**
 * NumPy .npy files (format versions 1.0, 2.0 and 3.0) holding little-endian float32 ({@code '<f4'}) or
 * float64 ({@code '<f8'}) arrays in C order.
 *
 * <p>{@link #read} rejects every other file with an {@link NpyFormatException} whose one-line message
 * names the file and the problem; no byte content makes it read outside the file or fail any other way.
 * Failures of the file system itself (a missing file, no permission) are plain {@link IOException}s
 * whose message also names the file.
 */
public final class Npy {
    /** numpy writes headers of a few hundred bytes; far more means damage, and must not cost a huge allocation. */
    static final int MAX_HEADER = 1 << 20;

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** Data offset alignment current numpy writes (older writers used 16; reading accepts any). */
    private static final int ALIGN = 64;
    /** numpy leaves room for axis 0 to grow to this many digits so appenders can rewrite the header in place. */
    private static final int GROWTH_AXIS_MAX_DIGITS = 21;
    /** {@link MemorySegment#asByteBuffer} stops at 2 GiB, so data goes to the channel in slices. */
    private static final long WRITE_CHUNK = 1 << 30;

    private Npy() {}

    /**
     * Reads a .npy file into a tensor that owns a copy of its data (closing it frees the memory). The convenience
     * form of {@link #read(Path, Arena)}: the file may change or vanish afterwards without affecting the tensor.
     *
     * @throws NpyFormatException if the file is not a .npy file longconv reads (see {@link #read(Path, Arena)})
     * @throws IOException        if the file cannot be opened or read (the message names the file)
     */
    public static Tensor load(Path file) throws IOException {
        return toTensor(file, false);
    }

    /**
     * Maps a .npy file read-only into a tensor that owns the mapping (closing it unmaps): no copy, for large
     * read-only inputs. <b>Risk:</b> the tensor reads the file itself, so a file truncated or rewritten in place
     * while the tensor is in use (numpy.save does exactly that: it opens the same path with "wb") makes the next
     * read fault, which can abort the whole JVM once the reading code is compiled. Map only files nobody rewrites;
     * {@link #load} is the safe default.
     */
    public static Tensor loadMapped(Path file) throws IOException {
        return toTensor(file, true);
    }

    private static Tensor toTensor(Path file, boolean mapped) throws IOException {
        if (!mapped) {
            // memory the collector frees, like every tensor longconv makes (see Tensor.zeros)
            NpyArray a = read(file, Arena.ofAuto());
            return Tensor.owning(null, a.data(), a.dtype(), a.shape());
        }
        Arena arena = Arena.ofShared();
        try {
            NpyArray a = map(file, arena);
            return Tensor.owning(arena, a.data(), a.dtype(), a.shape());
        } catch (IOException | RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /** Writes {@code tensor} (any strides) as a .npy file in C order; see {@link #write(Path, DType, long[], MemorySegment)}. */
    public static void save(Tensor tensor, Path file) throws IOException {
        Objects.requireNonNull(tensor, "tensor");
        try (Tensor c = tensor.contiguous()) {
            write(file, c.dtype(), c.shape(), c.segment());
        }
    }

    /**
     * Reads {@code file}: its data is copied into {@code arena.allocate}, so later changes to the file do not reach
     * the array. The data lives until the arena is closed.
     *
     * @param file  the .npy file
     * @param arena owns the returned data
     * @return the array, its data exactly {@code elementCount * dtype.byteSize()} bytes
     * @throws NpyFormatException if the file is not a version 1.0, 2.0 or 3.0 .npy file holding a C-order
     *                            '&lt;f4' or '&lt;f8' array whose size matches the file exactly
     * @throws IOException        if the file cannot be opened or read (the message names the file)
     */
    public static NpyArray read(Path file, Arena arena) throws IOException {
        return open(file, arena, false);
    }

    /**
     * Maps {@code file}'s data read-only into {@code arena} ({@code FileChannel.map(READ_ONLY, offset, length,
     * arena)}): no copy, and the array cannot be changed through it. The same checks as {@link #read}; the same
     * risk as {@link #loadMapped}: a file truncated or rewritten in place while mapped faults the reader.
     */
    public static NpyArray map(Path file, Arena arena) throws IOException {
        return open(file, arena, true);
    }

    private static NpyArray open(Path file, Arena arena, boolean mapped) throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(arena, "arena");
        FileReplacement.requireRegularForRead(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return read(file, ch, arena, mapped);
        } catch (NpyFormatException e) {
            throw e;
        } catch (IOException e) {
            throw IoFailure.of(file, "read", e);
        }
    }

    private static NpyArray read(Path file, FileChannel ch, Arena arena, boolean mapped) throws IOException {
        long size = ch.size();
        ByteBuffer pre = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        int got = readFully(ch, pre, 0);
        if (got < MAGIC.length || !Arrays.equals(pre.array(), 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new NpyFormatException(file, "not a .npy file: it does not start with the \\x93NUMPY magic");
        }
        if (got < 8) throw new NpyFormatException(file, "file ends inside the .npy preamble (" + size + " bytes)");
        int major = Byte.toUnsignedInt(pre.get(6)), minor = Byte.toUnsignedInt(pre.get(7));
        if (minor != 0 || major < 1 || major > 3) {
            throw new NpyFormatException(file, "unsupported .npy format version " + major + "." + minor
                    + "; longconv reads versions 1.0, 2.0 and 3.0");
        }
        int prefix = major == 1 ? 10 : 12;
        if (got < prefix) throw new NpyFormatException(file, "file ends inside the .npy preamble (" + size + " bytes)");
        long headerLen = major == 1 ? Short.toUnsignedInt(pre.getShort(8)) : Integer.toUnsignedLong(pre.getInt(8));
        if (headerLen > size - prefix) {
            throw new NpyFormatException(file, "header length " + headerLen + " runs past the end of the file ("
                    + size + " bytes)");
        }
        if (headerLen > MAX_HEADER) {
            throw new NpyFormatException(file, "header length " + headerLen + " is implausibly large (over " + MAX_HEADER + " bytes)");
        }
        ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
        if (readFully(ch, hb, prefix) < headerLen) {
            throw new NpyFormatException(file, "file ends inside the header (it shrank while being read)");
        }
        String text = decode(file, hb.flip(), major);

        Map<String, Object> dict;
        try {
            dict = NpyHeader.parse(text, major <= 2);
        } catch (NpyHeader.Malformed e) {
            throw new NpyFormatException(file, e.getMessage());
        }
        checkKeys(file, dict);
        DType dtype = dtype(file, dict.get("descr"));
        if (!(dict.get("fortran_order") instanceof Boolean fortran)) {
            throw new NpyFormatException(file, "'fortran_order' is " + show(dict.get("fortran_order")) + ", not True or False");
        }
        if (fortran) {
            throw new NpyFormatException(file, "fortran_order True is not supported; longconv reads C-order arrays "
                    + "(save numpy.ascontiguousarray(a))");
        }
        long[] shape = shape(file, dict.get("shape"));

        long bytes;
        try {
            bytes = NpyArray.byteCount(shape, dtype);
        } catch (ArithmeticException e) {
            throw new NpyFormatException(file, "the size of a " + dtype + " array of shape " + tuple(shape) + " overflows a long");
        }
        long dataOff = prefix + headerLen, available = size - dataOff;
        if (available < bytes) {
            throw new NpyFormatException(file, "truncated: header promises " + bytes + " bytes of data, file has " + available);
        }
        if (available > bytes) {
            // A header that undercounts would silently drop data, so the file is refused rather than guessed at.
            throw new NpyFormatException(file, (available - bytes) + " trailing bytes after the data: header promises "
                    + bytes + " bytes of data (" + dtype + " " + tuple(shape) + "), file has " + available);
        }
        MemorySegment data;
        if (mapped && bytes > 0) {
            data = ch.map(FileChannel.MapMode.READ_ONLY, dataOff, bytes, arena);
        } else {
            data = arena.allocate(Math.max(bytes, 1), ALIGN).asSlice(0, bytes);
            if (readAll(ch, data, dataOff) < bytes) {
                throw new NpyFormatException(file, "truncated: header promises " + bytes
                        + " bytes of data, file shrank while being read");
            }
        }
        return new NpyArray(dtype, shape, data);
    }

    /** Version 3.0 exists to allow UTF-8; a header that is not valid UTF-8 is damage, not text to guess at. */
    private static String decode(Path file, ByteBuffer header, int major) throws NpyFormatException {
        if (major < 3) return StandardCharsets.ISO_8859_1.decode(header).toString();
        try {
            CharBuffer cb = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(header);
            return cb.toString();
        } catch (CharacterCodingException e) {
            throw new NpyFormatException(file, "version 3.0 header is not valid UTF-8");
        }
    }

    private static void checkKeys(Path file, Map<String, Object> dict) throws NpyFormatException {
        for (String key : dict.keySet()) {
            if (!key.equals("descr") && !key.equals("fortran_order") && !key.equals("shape")) {
                throw new NpyFormatException(file, "header has unexpected key " + NpyHeader.quote(key)
                        + "; a .npy header has exactly 'descr', 'fortran_order' and 'shape'");
            }
        }
        for (String key : new String[] {"descr", "fortran_order", "shape"}) {
            if (!dict.containsKey(key)) throw new NpyFormatException(file, "header is missing key '" + key + "'");
        }
    }

    private static DType dtype(Path file, Object descr) throws NpyFormatException {
        if (!(descr instanceof String d)) {
            throw new NpyFormatException(file, "'descr' is " + show(descr) + ", not a dtype string; longconv reads '<f4' and '<f8'");
        }
        return switch (d) {
            case "<f4" -> DType.FLOAT32;
            case "<f8" -> DType.FLOAT64;
            case ">f4", ">f8" -> throw new NpyFormatException(file, "unsupported dtype '" + d
                    + "' (big-endian); longconv reads '<f4' and '<f8' (save a.astype('<" + d.substring(1) + "'))");
            default -> throw new NpyFormatException(file, "unsupported dtype " + NpyHeader.quote(d)
                    + "; longconv reads '<f4' (float32) and '<f8' (float64)");
        };
    }

    private static long[] shape(Path file, Object value) throws NpyFormatException {
        if (value instanceof Long n) {
            throw new NpyFormatException(file, "'shape' is the integer " + n + ", not a tuple (a one-element tuple is written (" + n + ",))");
        }
        if (!(value instanceof NpyHeader.Tuple(long[] shape))) {
            throw new NpyFormatException(file, "'shape' is " + show(value) + ", not a tuple of integers");
        }
        for (long d : shape) {
            if (d < 0) throw new NpyFormatException(file, "negative dimension " + d + " in shape " + tuple(shape));
        }
        return shape;
    }

    private static String show(Object v) {
        return switch (v) {
            case String s -> "the string " + NpyHeader.quote(s);
            case Boolean b -> b ? "True" : "False";
            case Long n -> "the integer " + n;
            case NpyHeader.Tuple(long[] t) -> "the tuple " + tuple(t);
            default -> String.valueOf(v);
        };
    }

    /** Python's spelling, so messages quote the shape as it appears in the header. */
    private static String tuple(long[] shape) {
        StringBuilder b = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) b.append(i > 0 ? ", " : "").append(shape[i]);
        return b.append(shape.length == 1 ? ",)" : ")").toString();
    }

    /** Reads from {@code position} until {@code data} is full or the file ends, in slices a ByteBuffer can view; returns the bytes read. */
    static long readAll(FileChannel ch, MemorySegment data, long position) throws IOException {
        long done = 0, total = data.byteSize();
        while (done < total) {
            long n = Math.min(total - done, WRITE_CHUNK);
            int got = readFully(ch, data.asSlice(done, n).asByteBuffer(), position + done);
            done += got;
            if (got < n) break;
        }
        return done;
    }

    /** Reads from {@code position} until {@code buf} is full or the file ends; returns the bytes read. */
    private static int readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        int start = buf.position();
        long p = position;
        while (buf.hasRemaining()) {
            int r = ch.read(buf, p);
            if (r < 0) break;
            p += r;
        }
        return buf.position() - start;
    }

    /**
     * Writes {@code data} as a .npy file: version 1.0 (2.0 if the header outgrows 1.0's 64 KiB) with descr
     * '&lt;f4' or '&lt;f8', fortran_order False and {@code shape}, the data 64-byte aligned. The header is
     * byte for byte what {@code numpy.save} writes for the same array.
     *
     * <p>An existing regular file is replaced atomically (written beside it, then renamed over it: a failed write
     * leaves the old file, a reader that has it mapped keeps its contents) and keeps its permissions and owner; a
     * symbolic link's target is replaced; directories, device nodes and FIFOs are refused.
     *
     * @param file  where to write; replaced if it exists
     * @param dtype element type, written as descr '&lt;f4' or '&lt;f8'
     * @param shape dimensions, outermost first; empty for a scalar
     * @param data  {@code elementCount * dtype.byteSize()} bytes, the elements in C order, little-endian
     * @throws IllegalArgumentException if a dimension is negative, the size overflows a long, or {@code data}
     *                                  does not have exactly that many bytes
     * @throws IOException              if the file cannot be written (the message names the file)
     */
    public static void write(Path file, DType dtype, long[] shape, MemorySegment data) throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(data, "data");
        long[] s = Objects.requireNonNull(shape, "shape").clone();
        long bytes;
        try {
            bytes = NpyArray.byteCount(s, dtype);
        } catch (ArithmeticException e) {
            throw new LongConvException("npy", "shape", "a byte size that fits a long", dtype + Arrays.toString(s));
        }
        if (data.byteSize() != bytes) {
            throw new LongConvException("npy", "data", bytes + " bytes for " + dtype + Arrays.toString(s), data.byteSize() + " bytes");
        }
        ByteBuffer head = ByteBuffer.wrap(header(dtype, s));
        FileReplacement.write(file, ch -> {
            FileReplacement.writeAll(ch, head);
            writeData(ch, data);
        });
    }

    private static void writeData(FileChannel ch, MemorySegment data) throws IOException {
        long bytes = data.byteSize();
        // Only native (and mapped) segments, and heap segments over byte[], have a ByteBuffer view;
        // anything else (say a segment over a float[]) goes through a bounce buffer.
        byte[] bounce = data.isNative() || data.heapBase().orElse(null) instanceof byte[]
                ? null : new byte[(int) Math.min(bytes, 1 << 20)];
        long chunk = bounce == null ? WRITE_CHUNK : bounce.length;
        for (long off = 0; off < bytes; off += chunk) {
            long len = Math.min(chunk, bytes - off);
            ByteBuffer b;
            if (bounce == null) {
                b = data.asSlice(off, len).asByteBuffer();
            } else {
                MemorySegment.copy(data, off, MemorySegment.ofArray(bounce), 0, len);
                b = ByteBuffer.wrap(bounce, 0, (int) len);
            }
            while (b.hasRemaining()) ch.write(b);
        }
    }

    /** The preamble and header numpy.save writes for a C-order '&lt;f4'/'&lt;f8' array of this shape. */
    static byte[] header(DType dtype, long[] shape) {
        StringBuilder dict = new StringBuilder("{'descr': '").append(dtype == DType.FLOAT32 ? "<f4" : "<f8")
                .append("', 'fortran_order': False, 'shape': ").append(tuple(shape)).append(", }");
        if (shape.length > 0) dict.append(" ".repeat(GROWTH_AXIS_MAX_DIGITS - Long.toString(shape[0]).length()));
        int hlen = dict.length() + 1; // + '\n'
        for (int major = 1; major <= 2; major++) {
            int prefix = major == 1 ? 10 : 12;
            // As numpy: a full ALIGN of padding when already aligned, so the output matches byte for byte.
            int padded = hlen + ALIGN - (prefix + hlen) % ALIGN;
            if (major == 1 && padded > 0xFFFF) continue;
            if (padded > MAX_HEADER) {
                throw new IllegalArgumentException("a shape of " + shape.length + " dimensions does not fit a .npy header");
            }
            ByteBuffer b = ByteBuffer.allocate(prefix + padded).order(ByteOrder.LITTLE_ENDIAN);
            b.put(MAGIC).put((byte) major).put((byte) 0);
            if (major == 1) b.putShort((short) padded);
            else b.putInt(padded);
            b.put(dict.toString().getBytes(StandardCharsets.ISO_8859_1));
            while (b.position() < b.limit() - 1) b.put((byte) ' ');
            b.put((byte) '\n');
            return b.array();
        }
        throw new AssertionError("unreachable: version 2.0 takes any header up to MAX_HEADER");
    }
}
