package dev.longconv;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Cleaner;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An n-dimensional array of {@link DType} elements in off-heap memory.
 *
 * <p>Ownership: every tensor made by a factory without an {@link Arena} argument owns its storage
 * and releases it on {@link #close()} (large tensors' memory is freed at once, small ones' by the collector soon
 * after: see {@link #zeros(DType, long...)}). Views ({@link #reshape}, {@link #transpose}, {@link #slice},
 * {@link #contiguous()} of an already contiguous tensor) share the storage and do not own it:
 * closing a view does nothing, and a view of a closed tensor throws {@link IllegalStateException}.
 * Factories that take an Arena allocate in it; the arena's owner frees the memory.
 *
 * <p>Strides are in elements. Storage is little-endian. Tensors are not thread-safe for writes;
 * concurrent reads are fine (owned storage uses a shared arena).
 *
 * <p>Device tensors ({@link #zeros(Device, DType, long...)}, {@link #to(Device)}) keep their elements in
 * device memory, owned by a {@link DeviceMemory} from the device backend's {@link DeviceMemory.Allocator}: that
 * backend reads and writes them in place.
 * Views work as on the host; element access, {@link #segment()} and copies between layouts need host
 * memory, so bring such a tensor back with {@code to(Device.CPU)} first.
 */
public final class Tensor implements AutoCloseable {
    private static final long ALIGNMENT = 64;

    private final DType dtype;
    private final long[] shape;
    private final long[] strides;
    private final long offset;
    private final Storage storage;
    private boolean owner;

    /** One allocation: host memory, or memory on a device. */
    private sealed interface Storage permits Host, OnDevice {
        Device device();

        boolean alive();
    }

    /**
     * Host memory and the arena that frees it (null when someone else's arena owns it, or when the garbage collector
     * frees it: see {@link #zeros(DType, long...)}). {@code closed} is set once by close().
     */
    private record Host(MemorySegment segment, Arena arena, AtomicBoolean closed) implements Storage {
        Host(MemorySegment segment, Arena arena) {
            this(segment, arena, new AtomicBoolean());
        }

        @Override
        public Device device() {
            return Device.CPU;
        }

        @Override
        public boolean alive() {
            return !closed.get() && segment.scope().isAlive();
        }
    }

    /** Memory on a device, freed by closing it. */
    private record OnDevice(DeviceMemory memory) implements Storage {
        @Override
        public Device device() {
            return memory.device();
        }

        @Override
        public boolean alive() {
            return !memory.isClosed();
        }
    }

    private Tensor(DType dtype, long[] shape, long[] strides, long offset, Storage storage, boolean owner) {
        this.dtype = dtype;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
        this.storage = storage;
        this.owner = owner;
    }

    // ---------------------------------------------------------------- factories

    /**
     * Owned host memory is released by the garbage collector after close ({@link Arena#ofAuto()}), never by closing a
     * shared arena: that close costs a handshake with every thread (tens of microseconds, more than a small op's
     * arithmetic), and when it races with an op on the tensor the JVM delivers the failure to the reading thread as an
     * asynchronous exception that also sets its interrupt flag (a later file write then fails with
     * ClosedByInterruptException). With the collector, memory stays valid while anything still reads it. Bytes that
     * were closed but are not yet collected are counted; past this budget, close() asks for a collection (as NIO does
     * for direct buffers), so closed memory cannot pile up when the Java heap is quiet.
     */
    static final long RECLAIM_BUDGET = 1L << 28;
    /** Closed tensors' bytes the collector has not yet freed. */
    private static final AtomicLong CLOSED_UNRECLAIMED = new AtomicLong();
    private static final AtomicLong LAST_RECLAIM_NANOS = new AtomicLong();
    private static final Cleaner CLEANER = Cleaner.create();

    /**
     * A new zero-filled tensor that owns its memory. Close it when done: the tensor is then unusable, and its memory
     * goes back when the collector finds it unreachable (at most {@link #RECLAIM_BUDGET} bytes of closed tensors wait
     * for that before close() asks for a collection). For memory freed at a point you choose, allocate in your own
     * arena ({@link #zeros(Arena, DType, long...)}).
     */
    public static Tensor zeros(DType dtype, long... shape) {
        long[] s = checkShape(shape);
        long bytes = Math.multiplyExact(numel(s), (long) dtype.byteSize());
        MemorySegment seg = Arena.ofAuto().allocate(Math.max(bytes, 1), ALIGNMENT);
        AtomicBoolean closed = new AtomicBoolean();
        Host host = new Host(seg, null, closed);
        CLEANER.register(host, () -> {
            if (closed.get()) CLOSED_UNRECLAIMED.addAndGet(-bytes);
        });
        return new Tensor(dtype, s, contiguousStrides(s), 0, host, true);
    }

    /** Counts a closed tensor's bytes until the collector frees them, and asks for a collection past the budget. */
    private static void closedUnreclaimed(long bytes) {
        if (CLOSED_UNRECLAIMED.addAndGet(bytes) <= RECLAIM_BUDGET) return;
        long now = System.nanoTime(), last = LAST_RECLAIM_NANOS.get();
        if (now - last > 100_000_000L && LAST_RECLAIM_NANOS.compareAndSet(last, now)) System.gc();
    }

    /** A new zero-filled tensor in {@code arena}; the arena's owner frees it. */
    public static Tensor zeros(Arena arena, DType dtype, long... shape) {
        return allocate(arena, false, dtype, shape);
    }

    private static Tensor allocate(Arena arena, boolean own, DType dtype, long[] shape) {
        long[] s = checkShape(shape);
        long bytes = Math.multiplyExact(numel(s), (long) dtype.byteSize());
        MemorySegment seg = arena.allocate(Math.max(bytes, 1), ALIGNMENT); // allocate() zero-fills
        return new Tensor(dtype, s, contiguousStrides(s), 0, new Host(seg, own ? arena : null), own);
    }

    /** A new zero-filled tensor on {@code device} that owns its memory. */
    public static Tensor zeros(Device device, DType dtype, long... shape) {
        if (device.kind() == Device.Kind.CPU) return zeros(dtype, shape);
        Tensor t = empty(device, dtype, shape);
        try {
            t.deviceMemory().fill(0);
            return t;
        } catch (RuntimeException | Error e) {
            t.close();
            throw e;
        }
    }

    /**
     * A new tensor on {@code device} that owns its memory, for outputs that are about to be written in full:
     * zero-filled on the CPU, uninitialised on a device. Device memory comes from the allocator that the
     * device's backend provides ({@link DeviceMemory.Allocator}; for CUDA, the longconv-cuda module).
     *
     * @throws LongConvException     if no allocator for the device's kind is on the class or module path
     * @throws IllegalStateException if the device cannot be used (the allocator says why)
     */
    public static Tensor empty(Device device, DType dtype, long... shape) {
        if (device.kind() == Device.Kind.CPU) return zeros(dtype, shape);
        long[] s = checkShape(shape);
        long bytes = Math.multiplyExact(numel(s), (long) dtype.byteSize());
        DeviceMemory.Allocator allocator = Allocators.BY_KIND.get(device.kind());
        if (allocator == null) {
            throw new LongConvException("tensor", "device", "a device whose backend is on the class path (for " + device
                    + ": add the longconv-cuda module)", device.toString());
        }
        DeviceMemory memory = allocator.allocate(device, Math.max(bytes, ALIGNMENT));
        return new Tensor(dtype, s, contiguousStrides(s), 0, new OnDevice(memory), true);
    }

    /** The device allocators on the class or module path, by device kind; looked up once. */
    private static final class Allocators {
        static final Map<Device.Kind, DeviceMemory.Allocator> BY_KIND = load();

        private static Map<Device.Kind, DeviceMemory.Allocator> load() {
            Map<Device.Kind, DeviceMemory.Allocator> m = new EnumMap<>(Device.Kind.class);
            for (DeviceMemory.Allocator a : ServiceLoader.load(DeviceMemory.Allocator.class, Tensor.class.getClassLoader())) {
                m.putIfAbsent(a.kind(), a);
            }
            return m;
        }
    }

    /** A float32 tensor holding a copy of {@code data} (C order). */
    public static Tensor of(float[] data, long... shape) {
        Tensor t = zeros(DType.FLOAT32, shape);
        checkLength(data.length, t);
        MemorySegment.copy(data, 0, t.host().segment(), DType.FLOAT32.layout(), 0, data.length);
        return t;
    }

    /** A float64 tensor holding a copy of {@code data} (C order). */
    public static Tensor of(double[] data, long... shape) {
        Tensor t = zeros(DType.FLOAT64, shape);
        checkLength(data.length, t);
        MemorySegment.copy(data, 0, t.host().segment(), DType.FLOAT64.layout(), 0, data.length);
        return t;
    }

    private static void checkLength(int length, Tensor t) {
        if (length != t.numel()) {
            t.close();
            throw new LongConvException("tensor", "data", t.numel() + " elements for shape " + Arrays.toString(t.shape), length + " elements");
        }
    }

    /**
     * Uniform values in [-1, 1) from a seeded generator, the same for the same arguments everywhere:
     * {@code Tensor.randomUniform(DType.FLOAT32, new long[] {4, 64, 8192}, 1)}. The shape is an array and the seed
     * comes last, so neither can be read as the other (with {@link #random(DType, long, long...)} a forgotten seed
     * silently makes the first dimension the seed).
     *
     * @param dtype the element type
     * @param shape the dimensions
     * @param seed  the generator's seed
     * @return a new tensor that owns its memory
     */
    public static Tensor randomUniform(DType dtype, long[] shape, long seed) {
        return random(dtype, seed, shape);
    }

    /**
     * Uniform values in [-1, 1) from a seeded generator: the same seed and shape give the same tensor everywhere.
     * The seed comes first: {@code random(FLOAT32, 7, 4, 64)} is a [4, 64] tensor from seed 7. Code that others read
     * is clearer with {@link #randomUniform(DType, long[], long)}.
     *
     * @param dtype the element type
     * @param seed  the generator's seed
     * @param shape the dimensions
     * @return a new tensor that owns its memory
     */
    public static Tensor random(DType dtype, long seed, long... shape) {
        Tensor t = zeros(dtype, shape);
        SplittableRandom rng = new SplittableRandom(seed);
        long n = t.numel();
        for (long i = 0; i < n; i++) t.setFlat(i, rng.nextDouble(-1.0, 1.0));
        return t;
    }

    /**
     * Non-owning tensor over existing contiguous little-endian memory (C order). The caller keeps the
     * memory alive as long as the tensor is used. Memory on the heap ({@code MemorySegment.ofArray}) works with every
     * op, but the vector backend's lane loops take native memory only (so that the JIT compiles them the same whatever
     * else the JVM runs), and a heap tensor goes through its element-wise and copying paths instead: wrap memory from
     * an {@link Arena} (or a mapped file) where speed matters.
     */
    public static Tensor wrap(MemorySegment segment, DType dtype, long... shape) {
        long[] s = checkShape(shape);
        long bytes = Math.multiplyExact(numel(s), (long) dtype.byteSize());
        if (segment.byteSize() < bytes) {
            throw new LongConvException("tensor", "segment", "at least " + bytes + " bytes for " + dtype + Arrays.toString(s),
                    segment.byteSize() + " bytes");
        }
        return new Tensor(dtype, s, contiguousStrides(s), 0, new Host(segment, null), false);
    }

    /**
     * A tensor over contiguous little-endian memory (C order) that owns {@code arena}: closing the tensor closes the
     * arena. With a null arena the segment must be one the collector frees ({@link Arena#ofAuto()}): closing the
     * tensor then makes it unusable and leaves the memory to the collector, as {@link #zeros(DType, long...)} does.
     * For readers that allocate or map a tensor's data themselves (the .npy reader does).
     */
    public static Tensor owning(Arena arena, MemorySegment segment, DType dtype, long... shape) {
        Tensor t = wrap(segment, dtype, shape);
        return new Tensor(dtype, t.shape, t.strides, 0, new Host(segment, arena), true);
    }

    // ---------------------------------------------------------------- metadata

    public DType dtype() {
        return dtype;
    }

    public Device device() {
        return storage.device();
    }

    public int rank() {
        return shape.length;
    }

    public long[] shape() {
        return shape.clone();
    }

    /** Whether {@code other} has this shape; unlike comparing {@link #shape()}s, copies nothing (hot-path checks use it). */
    public boolean sameShape(Tensor other) {
        return Arrays.equals(shape, other.shape);
    }

    /** Size of dimension {@code d}; negative d counts from the end. */
    public long dim(int d) {
        return shape[axis(d)];
    }

    /** Strides in elements. */
    public long[] strides() {
        return strides.clone();
    }

    public long stride(int d) {
        return strides[axis(d)];
    }

    /** Offset of element [0, ..., 0] from the start of the storage, in elements. */
    public long offset() {
        return offset;
    }

    public long numel() {
        return numel(shape);
    }

    /** True when this tensor owns its storage (closing it releases the memory). */
    public boolean isOwner() {
        return owner;
    }

    /** True while the storage has not been freed. */
    public boolean isAlive() {
        return storage.alive();
    }

    public boolean isContiguous() {
        for (long d : shape) if (d == 0) return true; // no elements: any strides describe C order
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    /** The whole storage segment (for backends that address elements by offset and strides). */
    public MemorySegment storageSegment() {
        return host("storageSegment()").segment();
    }

    /** The memory of a tensor on a device (for its backend; element i sits at byte (offset + i * stride) * size). */
    public DeviceMemory deviceMemory() {
        checkAlive();
        if (!(storage instanceof OnDevice d)) throw new IllegalStateException("tensor " + this + " is in host memory; deviceMemory() needs a device tensor");
        return d.memory();
    }

    /** The memory of a contiguous tensor, exactly numel elements long. */
    public MemorySegment segment() {
        MemorySegment seg = host("segment()").segment();
        if (!isContiguous()) throw new IllegalStateException("segment() needs a contiguous tensor; call contiguous() first");
        return seg.asSlice(offset * dtype.byteSize(), numel() * dtype.byteSize());
    }

    // ---------------------------------------------------------------- element access

    public double get(long... index) {
        return getAt(elementOffset(index));
    }

    public void set(double value, long... index) {
        setAt(elementOffset(index), value);
    }

    /** Element {@code i} in C order of this tensor's logical shape (works for any strides). */
    public double getFlat(long i) {
        return getAt(flatOffset(i));
    }

    public void setFlat(long i, double value) {
        setAt(flatOffset(i), value);
    }

    /** Element at an absolute storage offset (in elements); for backends. */
    public double getAt(long elementOffset) {
        MemorySegment seg = host("element access").segment();
        long byteOff = elementOffset * dtype.byteSize();
        return dtype == DType.FLOAT32
                ? seg.get((ValueLayout.OfFloat) dtype.layout(), byteOff)
                : seg.get((ValueLayout.OfDouble) dtype.layout(), byteOff);
    }

    /** Stores at an absolute storage offset (in elements), rounding to this tensor's dtype; for backends. */
    public void setAt(long elementOffset, double value) {
        MemorySegment seg = host("element access").segment();
        if (seg.isReadOnly()) {
            throw new IllegalStateException("tensor " + dtype + Arrays.toString(shape) + " is a read-only mapping of a file; copy() it to write");
        }
        long byteOff = elementOffset * dtype.byteSize();
        if (dtype == DType.FLOAT32) seg.set((ValueLayout.OfFloat) dtype.layout(), byteOff, (float) value);
        else seg.set((ValueLayout.OfDouble) dtype.layout(), byteOff, value);
    }

    private long elementOffset(long[] index) {
        if (index.length != shape.length) {
            throw new IndexOutOfBoundsException("index has " + index.length + " dims, tensor has " + shape.length);
        }
        long off = offset;
        for (int i = 0; i < index.length; i++) {
            if (index[i] < 0 || index[i] >= shape[i]) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(index) + " out of bounds for shape "
                        + Arrays.toString(shape));
            }
            off += index[i] * strides[i];
        }
        return off;
    }

    private long flatOffset(long i) {
        long n = numel();
        if (i < 0 || i >= n) throw new IndexOutOfBoundsException("flat index " + i + " out of bounds for " + n + " elements");
        long off = offset;
        for (int d = shape.length - 1; d >= 0; d--) {
            long s = shape[d];
            off += (i % s) * strides[d];
            i /= s;
        }
        return off;
    }

    /** All elements in C order as doubles. */
    public double[] toDoubleArray() {
        double[] out = new double[Math.toIntExact(numel())];
        for (int i = 0; i < out.length; i++) out[i] = getFlat(i);
        return out;
    }

    /** All elements in C order as floats. */
    public float[] toFloatArray() {
        float[] out = new float[Math.toIntExact(numel())];
        for (int i = 0; i < out.length; i++) out[i] = (float) getFlat(i);
        return out;
    }

    // ---------------------------------------------------------------- views and copies

    /** A view with a new shape; one dimension may be -1. Needs a contiguous tensor (no silent copy). */
    public Tensor reshape(long... newShape) {
        checkAlive();
        long[] s = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) throw new LongConvException("reshape", "shape", "at most one dimension -1", Arrays.toString(newShape));
                infer = i;
            } else {
                if (s[i] < 0) throw new LongConvException("reshape", "shape", "dimensions >= 0 (or one -1)", Arrays.toString(newShape));
                known = Math.multiplyExact(known, s[i]);
            }
        }
        if (infer >= 0) {
            if (known == 0 || numel() % known != 0) {
                throw new LongConvException("reshape", "shape", "a shape whose -1 divides " + numel() + " elements", Arrays.toString(newShape));
            }
            s[infer] = numel() / known;
        }
        if (numel(s) != numel()) {
            throw new LongConvException("reshape", "shape", "a shape of " + numel() + " elements (from " + Arrays.toString(shape) + ")",
                    Arrays.toString(newShape));
        }
        if (!isContiguous()) {
            throw new IllegalStateException("reshape of a non-contiguous tensor " + this + " would need a copy; call contiguous() first");
        }
        return new Tensor(dtype, s, contiguousStrides(s), offset, storage, false);
    }

    /**
     * This tensor's memory under another shape, with ownership moving to the result: this tensor
     * becomes a view (closing it does nothing). Returns a reshaped temporary without a copy; needs an
     * owning, contiguous tensor.
     */
    public Tensor reshapeOwned(long... newShape) {
        if (!owner) throw new IllegalStateException("reshapeOwned needs the owning tensor; " + this + " is a view");
        Tensor r = reshape(newShape);
        owner = false;
        r.owner = true;
        return r;
    }

    /** A view with dimensions a and b swapped. */
    public Tensor transpose(int a, int b) {
        checkAlive();
        int x = axis(a), y = axis(b);
        long[] s = shape.clone(), st = strides.clone();
        s[x] = shape[y];
        s[y] = shape[x];
        st[x] = strides[y];
        st[y] = strides[x];
        return new Tensor(dtype, s, st, offset, storage, false);
    }

    /** A view of indices [start, end) along dimension {@code d}. */
    public Tensor slice(int d, long start, long end) {
        checkAlive();
        int x = axis(d);
        if (start < 0 || end > shape[x] || start > end) {
            throw new IndexOutOfBoundsException("slice [" + start + ", " + end + ") out of bounds for dimension " + x
                    + " of size " + shape[x]);
        }
        long[] s = shape.clone();
        s[x] = end - start;
        return new Tensor(dtype, s, strides.clone(), offset + start * strides[x], storage, false);
    }

    /**
     * This tensor in C order. When it already is, the result is a non-owning view (closing it does
     * nothing); otherwise a new tensor that owns a copy. Either way, closing the result is safe.
     */
    public Tensor contiguous() {
        checkAlive();
        if (isContiguous()) return new Tensor(dtype, shape.clone(), strides.clone(), offset, storage, false);
        return copy();
    }

    /** A new owning C-order copy. */
    public Tensor copy() {
        return to(dtype);
    }

    /**
     * A new owning C-order copy converted to {@code target} (float64 to float32 rounds to nearest). On a CUDA
     * device only the same-dtype copy of a contiguous tensor runs (device to device); anything else throws.
     */
    public Tensor to(DType target) {
        checkAlive();
        if (storage instanceof OnDevice d) {
            if (target != dtype || !isContiguous()) {
                throw new IllegalStateException("tensor " + this + ": on a device only a same-dtype copy of a contiguous tensor is supported"
                        + " (asked for " + target + (isContiguous() ? "" : " from a strided view") + "); copy it to(Device.CPU) first");
            }
            Tensor t = empty(d.device(), dtype, shape);
            try {
                t.deviceMemory().copyFrom(d.memory(), offset * dtype.byteSize(), 0, numel() * dtype.byteSize());
                return t;
            } catch (RuntimeException | Error e) {
                t.close();
                throw e;
            }
        }
        Tensor t = zeros(target, shape);
        long n = numel();
        if (target == dtype && isContiguous()) {
            MemorySegment.copy(host("copy").segment(), offset * dtype.byteSize(), t.host().segment(), 0, n * dtype.byteSize());
        } else {
            for (long i = 0; i < n; i++) t.setAt(i, getFlat(i));
        }
        return t;
    }

    /**
     * A copy on {@code target} that the caller owns (also when the tensor is already there). Host to device
     * and device to host copies wait until the data has arrived; strided views are copied as their logical
     * C-order contents.
     */
    public Tensor to(Device target) {
        checkAlive();
        if (target.equals(storage.device())) return copy();
        if (storage.device().kind() != Device.Kind.CPU && target.kind() != Device.Kind.CPU) {
            try (Tensor host = to(Device.CPU)) {
                return host.to(target);
            }
        }
        if (target.kind() != Device.Kind.CPU) {
            try (Tensor c = contiguous()) {
                Tensor t = empty(target, dtype, shape);
                try {
                    if (numel() > 0) t.deviceMemory().copyFromHost(c.segment(), 0);
                    return t;
                } catch (RuntimeException | Error e) {
                    t.close();
                    throw e;
                }
            }
        }
        // device to host: bring back the span of storage this view covers, then read it with the view's strides
        long first = offset, last = offset;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] == 0) return zeros(dtype, shape);
            last += (shape[i] - 1) * strides[i];
        }
        long elems = last - first + 1;
        Tensor span = zeros(dtype, elems);
        try (span) {
            deviceMemory().copyToHost(first * dtype.byteSize(), span.host().segment());
            Tensor view = new Tensor(dtype, shape.clone(), strides.clone(), 0, span.storage, false);
            return view.copy();
        }
    }

    /** Releases the storage if this tensor owns it; a no-op for views and arena-allocated tensors. Idempotent and safe from several threads. */
    @Override
    public void close() {
        if (!owner) return;
        switch (storage) {
            case OnDevice d -> d.memory().close();
            case Host h -> {
                if (!h.closed().compareAndSet(false, true)) return;
                if (h.arena() != null) h.arena().close();
                else closedUnreclaimed(h.segment().byteSize());
            }
        }
    }

    @Override
    public String toString() {
        return "Tensor[" + dtype + ", " + Arrays.toString(shape) + ", " + storage.device() + "]";
    }

    // ---------------------------------------------------------------- helpers

    private void checkAlive() {
        if (!storage.alive()) {
            throw new IllegalStateException("tensor " + dtype + Arrays.toString(shape) + " used after its storage was closed");
        }
    }

    /** The host storage of a live tensor; {@code what} names the access for the error on a device tensor. */
    private Host host(String what) {
        checkAlive();
        if (!(storage instanceof Host h)) {
            throw new IllegalStateException("tensor " + this + " is in device memory: " + what + " needs a host tensor; copy it with to(Device.CPU)");
        }
        return h;
    }

    /** The host storage of a tensor this class just made. */
    private Host host() {
        return (Host) storage;
    }

    private int axis(int d) {
        int x = d < 0 ? d + shape.length : d;
        if (x < 0 || x >= shape.length) {
            throw new IndexOutOfBoundsException("dimension " + d + " out of range for rank " + shape.length);
        }
        return x;
    }

    private static long[] checkShape(long[] shape) {
        long[] s = shape.clone();
        long n = 1;
        for (long v : s) {
            if (v < 0) throw new LongConvException("tensor", "shape", "dimensions >= 0", Arrays.toString(shape));
            n = Math.multiplyExact(n, v);
        }
        return s;
    }

    static long numel(long[] shape) {
        long n = 1;
        for (long v : shape) n = Math.multiplyExact(n, v);
        return n;
    }

    static long[] contiguousStrides(long[] shape) {
        long[] st = new long[shape.length];
        long s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            st[i] = s;
            s *= Math.max(shape[i], 1);
        }
        return st;
    }
}
