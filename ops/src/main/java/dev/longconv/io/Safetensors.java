package dev.longconv.io;

import dev.longconv.DType;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A safetensors file (the format PyTorch weights are exported in by {@code safetensors.torch.save_file}),
 * read into memory ({@link #open}, the safe default) or memory-mapped read-only ({@link #map}).
 *
 * <p>{@link #open} reads the whole file into a shared arena this object owns ({@link #map} maps it there) and checks the header
 * completely before returning, so every later query is about a well-formed file: a file that is not one
 * fails with a {@link SafetensorsFormatException} naming the file and, where one is at fault, the tensor.
 * No byte content makes this class read outside the file or fail in any other way.
 *
 * <p>{@link #tensor} returns F32 and F64 tensors as zero-copy views of that memory (read-only: writing
 * to one throws {@link IllegalStateException}; {@link Tensor#copy()} it first), and F16 and BF16 tensors
 * widened exactly to float32 in memory this object owns. Other stored types are listed by
 * {@link #names()} and described by {@link #storedDtype} and {@link #shape}, but not loaded.
 *
 * <p>Lifetime: every tensor handed out is valid until this object is {@linkplain #close() closed}, and
 * closing the tensor itself does nothing; afterwards using it, or any method here but {@link #file()},
 * throws {@link IllegalStateException}. Tensors may be read from any thread; this object's methods are
 * thread-safe.
 *
 * <p>A mapping reflects the file: a file truncated or rewritten in place by another process while it is mapped
 * faults the next read, which can abort the whole JVM once the reading code is compiled. {@link #write} replaces
 * files by rename, which leaves a mapped old file intact, but other writers rewrite in place (numpy.save opens the
 * path with "wb"). So {@link #open} copies, and {@link #map} is for large weights that nobody rewrites.
 */
public final class Safetensors implements AutoCloseable {
    /** The reference implementation refuses headers larger than this; so does longconv. */
    public static final long MAX_HEADER = 100_000_000;

    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt WORD = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int ALIGN = 64;
    /** {@link MemorySegment#asByteBuffer} stops at 2 GiB, so data goes to the channel in slices. */
    private static final long WRITE_CHUNK = 1 << 30;

    private final Path file;
    private final Arena arena;
    private final MemorySegment data;
    private final SafetensorsHeader header;
    private final Set<String> names;
    /** F16 and BF16 tensors widened so far, so that asking twice costs one copy. Guarded by this. */
    private final Map<String, MemorySegment> widened = new HashMap<>();
    /** Guarded by this. */
    private boolean closed;

    private Safetensors(Path file, Arena arena, MemorySegment data, SafetensorsHeader header) {
        this.file = file;
        this.arena = arena;
        this.data = data;
        this.header = header;
        this.names = Collections.unmodifiableSet(new LinkedHashSet<>(header.entries().keySet()));
    }

    /**
     * Reads {@code file} into memory this object owns and checks its header: at most {@link #MAX_HEADER} bytes of UTF-8 JSON
     * (read strictly: no duplicate keys, nothing before the opening brace or after the closing one but
     * spaces), every tensor's dtype known, shape and data_offsets non-negative integers, each byte range
     * exactly as long as dtype and shape say, the ranges tiling the data section with no overlap, gap or
     * trailing byte, and {@code __metadata__} (if present) an object of strings.
     *
     * @param file a .safetensors file
     * @return the open file; close it to free its memory and widened tensors
     * @throws SafetensorsFormatException if the file is not a valid safetensors file
     * @throws IOException                if it cannot be opened or read (the message names the file)
     */
    public static Safetensors open(Path file) throws IOException {
        return open(file, false);
    }

    /**
     * {@link #open} without the copy: the file is mapped read-only, so opening costs no memory for the data. Only for
     * files nobody truncates or rewrites in place while this object is open (see the class comment: the JVM may abort).
     */
    public static Safetensors map(Path file) throws IOException {
        return open(file, true);
    }

    private static Safetensors open(Path file, boolean mapped) throws IOException {
        Objects.requireNonNull(file, "file");
        FileReplacement.requireRegularForRead(file);
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return open(file, ch, arena, mapped);
        } catch (SafetensorsFormatException e) {
            arena.close();
            throw e;
        } catch (IOException e) {
            arena.close();
            throw IoFailure.of(file, "read", e);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    private static Safetensors open(Path file, FileChannel ch, Arena arena, boolean mapped) throws IOException {
        long size = ch.size();
        if (size < Long.BYTES) {
            throw new SafetensorsFormatException(file, "file has " + size + " bytes, fewer than the 8 of the header length");
        }
        ByteBuffer len = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        while (len.hasRemaining()) {
            if (ch.read(len, len.position()) < 0) {
                throw new SafetensorsFormatException(file, "file ends inside the header length (it shrank while being read)");
            }
        }
        long n = len.getLong(0);
        if (n < 0 || n > MAX_HEADER) {
            throw new SafetensorsFormatException(file, "header length " + Long.toUnsignedString(n)
                    + " is implausibly large (the format allows at most " + MAX_HEADER + " bytes)");
        }
        if (n > size - Long.BYTES) {
            throw new SafetensorsFormatException(file, "header length " + n + " runs past the end of the file ("
                    + size + " bytes)");
        }
        MemorySegment map;
        if (mapped) {
            map = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        } else {
            map = arena.allocate(size, ALIGN);
            if (Npy.readAll(ch, map, 0) < size) {
                throw new SafetensorsFormatException(file, "file shrank while being read (" + size + " bytes expected)");
            }
            map = map.asReadOnly();
        }
        byte[] headerBytes = map.asSlice(Long.BYTES, n).toArray(ValueLayout.JAVA_BYTE);
        String json;
        try {
            json = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(headerBytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new SafetensorsFormatException(file, "header is not valid UTF-8");
        }
        long dataStart = Long.BYTES + n;
        SafetensorsHeader header = SafetensorsHeader.parse(file, json, size - dataStart);
        return new Safetensors(file, arena, map.asSlice(dataStart), header);
    }

    /** {@return the file this was opened from} */
    public Path file() {
        return file;
    }

    /** {@return the header's {@code __metadata__} strings in header order (empty if it has none); unmodifiable} */
    public synchronized Map<String, String> metadata() {
        checkOpen();
        return header.metadata();
    }

    /** {@return the names of all tensors, of every stored type, in header order; unmodifiable} */
    public synchronized Set<String> names() {
        checkOpen();
        return names;
    }

    /** {@return true if the file has a tensor called {@code name}} */
    public synchronized boolean contains(String name) {
        checkOpen();
        return header.entries().containsKey(name);
    }

    /**
     * {@return the element type as stored in the file}
     *
     * @throws LongConvException if there is no tensor called {@code name}
     */
    public synchronized SafetensorsDtype storedDtype(String name) {
        return entry("storedDtype", name).dtype();
    }

    /**
     * {@return the element type of the tensor {@link #tensor} returns: float32 for F32, F16 and BF16,
     * float64 for F64}
     *
     * @throws LongConvException if there is no tensor called {@code name} or longconv does not load its stored type
     */
    public synchronized DType dtype(String name) {
        return loadable("dtype", entry("dtype", name));
    }

    /**
     * {@return the tensor's dimensions, outermost first (empty for a scalar); a copy}
     *
     * @throws LongConvException if there is no tensor called {@code name}
     */
    public synchronized long[] shape(String name) {
        return entry("shape", name).shape().clone();
    }

    /**
     * The tensor called {@code name}: for F32 and F64 a read-only view of the mapped file (no copy), for
     * F16 and BF16 a float32 tensor widened exactly (every value is the same number; BF16 NaNs keep
     * their bits, F16 signalling NaNs become quiet as in {@link Float#float16ToFloat}) in memory this object owns, made on the first call and shared by later ones, so read-only
     * too. Either way the tensor is a non-owning view, valid until this object is closed.
     *
     * @throws LongConvException if there is no tensor called {@code name} or it has a type longconv does
     *                           not load (integers, booleans, 8-bit and packed floats, complex)
     */
    public synchronized Tensor tensor(String name) {
        SafetensorsHeader.Entry e = entry("tensor", name);
        DType type = loadable("tensor", e);
        MemorySegment stored = data.asSlice(e.begin(), e.byteSize());
        long[] shape = e.shape();
        return switch (e.dtype()) {
            case F32, F64 -> Tensor.wrap(stored, type, shape);
            case F16, BF16 -> Tensor.wrap(widened.computeIfAbsent(name, k -> widen(e.dtype(), stored)).asReadOnly(), type, shape);
            default -> throw new AssertionError("loadable() admitted " + e.dtype());
        };
    }

    private MemorySegment widen(SafetensorsDtype from, MemorySegment stored) {
        long n = stored.byteSize() / 2;
        MemorySegment out = arena.allocate(Math.max(4 * n, 1), ALIGN).asSlice(0, 4 * n);
        if (from == SafetensorsDtype.BF16) {
            for (long i = 0; i < n; i++) out.setAtIndex(WORD, i, bf16ToFloatBits(stored.getAtIndex(HALF, i)));
        } else {
            for (long i = 0; i < n; i++) out.setAtIndex(WORD, i, f16ToFloatBits(stored.getAtIndex(HALF, i)));
        }
        return out;
    }

    /**
     * The float32 bit pattern of the IEEE binary16 value {@code h}: the same number, as
     * {@link Float#float16ToFloat} gives it (a conversion of formats per IEEE 754, which turns a
     * signalling NaN into the quiet NaN with the same payload, as F16C hardware does too).
     */
    static int f16ToFloatBits(short h) {
        return Float.floatToRawIntBits(Float.float16ToFloat(h));
    }

    /** The float32 bit pattern of the bfloat16 value {@code b}: bfloat16 is the upper half of a float32. */
    static int bf16ToFloatBits(short b) {
        return (b & 0xffff) << 16;
    }

    private SafetensorsHeader.Entry entry(String op, String name) {
        checkOpen();
        Objects.requireNonNull(name, "name");
        SafetensorsHeader.Entry e = header.entries().get(name);
        if (e == null) {
            throw new LongConvException("Safetensors." + op, "name", "the name of a tensor in " + file + " ("
                    + names.size() + " tensors)", SafetensorsJson.quote(name));
        }
        return e;
    }

    private DType loadable(String op, SafetensorsHeader.Entry e) {
        return e.dtype().loadsAs().orElseThrow(() -> new LongConvException("Safetensors." + op, "name",
                "a tensor stored as F32, F64, F16 or BF16", "tensor " + SafetensorsJson.quote(e.name()) + " of "
                        + file + " stored as " + e.dtype()));
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException(file + ": safetensors file used after it was closed");
    }

    /** Unmaps the file and frees widened tensors; every tensor handed out becomes unusable. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        widened.clear();
        arena.close();
    }

    @Override
    public String toString() {
        return "Safetensors[" + file + "]";
    }

    // ---------------------------------------------------------------- writing

    /**
     * Writes {@code tensors} as a safetensors file laid out as the reference implementation lays it out:
     * tensors in decreasing order of stored type (F64 before F32), then by name (UTF-8 byte order); the
     * header compact JSON with {@code __metadata__} first, then each tensor's dtype, shape and
     * data_offsets, padded with spaces to a multiple of 8 bytes. For the same tensors and at most one
     * metadata entry the file is byte for byte what {@code safetensors.torch.save_file} writes; several
     * metadata entries are written sorted by key, where the reference writes them in hash order.
     *
     * <p>The file is written beside {@code file} under a temporary name and then renamed over it, so a
     * failed write leaves no partial file and a process that has {@code file} mapped keeps its old contents.
     *
     * @param file     where to write; replaced if it exists
     * @param tensors  name to tensor (float32 or float64, any strides: written in C order); not modified
     * @param metadata free-form strings stored under {@code __metadata__}; null writes no {@code __metadata__}
     * @throws LongConvException if a name is {@code __metadata__}, a tensor is closed, or the header would
     *                           exceed {@link #MAX_HEADER} bytes
     * @throws IOException       if the file cannot be written (the message names the file)
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(tensors, "tensors");
        List<Map.Entry<String, Tensor>> order = new ArrayList<>(tensors.size());
        for (Map.Entry<String, Tensor> kv : tensors.entrySet()) {
            String name = Objects.requireNonNull(kv.getKey(), "tensor name");
            Tensor t = Objects.requireNonNull(kv.getValue(), () -> "tensor " + name);
            if (name.equals(SafetensorsHeader.METADATA_KEY)) {
                throw new LongConvException("Safetensors.write", "tensors", "tensor names other than '"
                        + SafetensorsHeader.METADATA_KEY + "' (the key reserved for metadata)", "'" + name + "'");
            }
            if (!t.isAlive()) {
                throw new LongConvException("Safetensors.write", "tensors", "live tensors", "tensor '" + name + "' already closed");
            }
            order.add(Map.entry(name, t));
        }
        order.sort((a, b) -> {
            int byType = SafetensorsDtype.of(b.getValue().dtype()).compareTo(SafetensorsDtype.of(a.getValue().dtype()));
            return byType != 0 ? byType : Arrays.compareUnsigned(utf8(a.getKey()), utf8(b.getKey()));
        });
        byte[] head = header(order, metadata);
        FileReplacement.write(file, ch -> {
            FileReplacement.writeAll(ch, ByteBuffer.wrap(head));
            for (Map.Entry<String, Tensor> kv : order) {
                // An empty tensor has no bytes to write (and Tensor.segment() refuses some empty shapes, such as [2, 0]).
                if (kv.getValue().numel() == 0) continue;
                try (Tensor c = kv.getValue().contiguous()) {
                    writeData(ch, c.segment());
                }
            }
        });
    }

    /** The length prefix and the padded JSON header for tensors in file order. */
    private static byte[] header(List<Map.Entry<String, Tensor>> order, Map<String, String> metadata) {
        StringBuilder json = new StringBuilder("{");
        if (metadata != null) {
            List<Map.Entry<String, String>> meta = new ArrayList<>(metadata.entrySet());
            meta.sort((a, b) -> Arrays.compareUnsigned(utf8(a.getKey()), utf8(b.getKey())));
            json.append('"').append(SafetensorsHeader.METADATA_KEY).append("\":{");
            for (int i = 0; i < meta.size(); i++) {
                if (i > 0) json.append(',');
                SafetensorsJson.appendString(json, Objects.requireNonNull(meta.get(i).getKey(), "metadata key"));
                json.append(':');
                String key = meta.get(i).getKey();
                SafetensorsJson.appendString(json, Objects.requireNonNull(meta.get(i).getValue(), () -> "metadata value of " + key));
            }
            json.append('}');
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> kv : order) {
            Tensor t = kv.getValue();
            long bytes = Math.multiplyExact(t.numel(), (long) t.dtype().byteSize());
            if (json.length() > 1) json.append(',');
            SafetensorsJson.appendString(json, kv.getKey());
            json.append(":{\"dtype\":\"").append(SafetensorsDtype.of(t.dtype())).append("\",\"shape\":[");
            long[] shape = t.shape();
            for (int i = 0; i < shape.length; i++) json.append(i > 0 ? "," : "").append(shape[i]);
            json.append("],\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]}");
            offset += bytes;
        }
        json.append('}');
        byte[] text = json.toString().getBytes(StandardCharsets.UTF_8);
        long padded = (text.length + 7L) & ~7L;
        if (padded > MAX_HEADER) {
            throw new LongConvException("Safetensors.write", "tensors", "a header of at most " + MAX_HEADER + " bytes",
                    padded + " bytes of names, shapes and metadata");
        }
        ByteBuffer b = ByteBuffer.allocate(Long.BYTES + (int) padded).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(padded).put(text);
        while (b.hasRemaining()) b.put((byte) ' ');
        return b.array();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void writeData(FileChannel ch, MemorySegment data) throws IOException {
        long bytes = data.byteSize();
        // Only native (and mapped) segments, and heap segments over byte[], have a ByteBuffer view;
        // anything else (a segment over a float[]) goes through a bounce buffer.
        byte[] bounce = data.isNative() || data.heapBase().orElse(null) instanceof byte[]
                ? null : new byte[(int) Math.min(bytes, 1 << 20)];
        long chunk = bounce == null ? WRITE_CHUNK : Math.max(bounce.length, 1);
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
}
