package dev.longconv.cuda;

import dev.longconv.cuda.gen.cufft.cufft_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * cuFFT plans for batched 1-D transforms, made once per (n, batch, type, device) and kept until {@link #close()}.
 * Plans are made with {@code cufftCreate}, {@code cufftSetAutoAllocation(0)} and {@code cufftMakePlanMany}, so
 * cuFFT allocates no work memory of its own: all plans of a device share one work area, grown to the largest
 * plan's need. Sharing is why every plan of a cache runs on the cache's one stream: two plans executing at
 * once would overwrite each other's scratch space.
 *
 * <p>Transforms are unnormalized (an inverse after a forward multiplies by n), batches are contiguous
 * (transform {@code i} starts at element {@code i * n} of the real side and {@code i * (n/2+1)} of the complex
 * side of R2C/C2R), and C2R/Z2D overwrite their input, as cuFFT documents.
 */
public final class FftPlanCache implements AutoCloseable {
    /** The transform kinds, with the bytes one transform of length n reads and writes. */
    public enum Type {
        /** float32 real to complex, forward: n floats in, n/2+1 complex floats out. */
        R2C(4, 8, true),
        /** complex to float32 real, inverse: n/2+1 complex floats in, n floats out (the input is overwritten). */
        C2R(8, 4, true),
        /** complex float32 to complex float32, either direction: n complex floats each way. */
        C2C(8, 8, false),
        /** float64 real to complex, forward. */
        D2Z(8, 16, true),
        /** complex to float64 real, inverse (the input is overwritten). */
        Z2D(16, 8, true);

        private final int inElementBytes, outElementBytes;
        private final boolean halfComplex;

        Type(int inElementBytes, int outElementBytes, boolean halfComplex) {
            this.inElementBytes = inElementBytes;
            this.outElementBytes = outElementBytes;
            this.halfComplex = halfComplex;
        }

        /** Bytes one transform of length {@code n} reads. */
        public long inputBytes(int n) {
            return (long) inElementBytes * (halfComplex && inElementBytes > outElementBytes ? n / 2 + 1 : n);
        }

        /** Bytes one transform of length {@code n} writes. */
        public long outputBytes(int n) {
            return (long) outElementBytes * (halfComplex && outElementBytes > inElementBytes ? n / 2 + 1 : n);
        }

        private int cufftType() {
            return switch (this) {
                case R2C -> cufft_h.CUFFT_R2C();
                case C2R -> cufft_h.CUFFT_C2R();
                case C2C -> cufft_h.CUFFT_C2C();
                case D2Z -> cufft_h.CUFFT_D2Z();
                case Z2D -> cufft_h.CUFFT_Z2D();
            };
        }
    }

    /** What identifies a plan. */
    public record Key(int n, int batch, Type type, int device) {}

    private final CudaStream stream;
    private final Map<Key, Plan> plans = new HashMap<>();
    private final Map<Integer, DeviceBuffer> workAreas = new HashMap<>();
    private boolean closed;

    /**
     * An empty cache whose plans run on {@code stream}. IllegalStateException when CUDA or cuFFT is not
     * available.
     */
    public FftPlanCache(CudaStream stream) {
        Cuda.CUFFT.require("FftPlanCache");
        this.stream = Objects.requireNonNull(stream, "FftPlanCache: stream must not be null");
    }

    /** The plan for {@code batch} transforms of length {@code n} on the current device, made on first request. */
    public synchronized Plan plan(int n, int batch, Type type) {
        if (closed) throw new IllegalStateException("FftPlanCache.plan: the cache is closed");
        if (n < 1) throw new IllegalArgumentException("FftPlanCache.plan: n must be >= 1, got " + n);
        if (batch < 1) throw new IllegalArgumentException("FftPlanCache.plan: batch must be >= 1, got " + batch);
        Key key = new Key(n, batch, type, Cuda.currentDevice());
        Plan p = plans.get(key);
        if (p == null) {
            p = make(key);
            plans.put(key, p);
        }
        return p;
    }

    /** Bytes of the work area shared by this cache's plans on {@code device} (0 when none is needed yet). */
    public synchronized long workAreaBytes(int device) {
        DeviceBuffer w = workAreas.get(device);
        return w == null ? 0 : w.size();
    }

    /** How many plans the cache holds. */
    public synchronized int size() {
        return plans.size();
    }

    private Plan make(Key key) {
        int handle;
        long workSize;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment h = a.allocate(JAVA_INT);
            CudaException.checkCufft("cufftCreate", cufft_h.cufftCreate(h));
            handle = h.get(JAVA_INT, 0);
            try {
                CudaException.checkCufft("cufftSetAutoAllocation", cufft_h.cufftSetAutoAllocation(handle, 0));
                MemorySegment n = a.allocateFrom(JAVA_INT, key.n());
                MemorySegment ws = a.allocate(JAVA_LONG);
                // null embeds: the basic contiguous layout, so the strides and distances are ignored
                CudaException.checkCufft("cufftMakePlanMany(n=" + key.n() + ", batch=" + key.batch() + ", " + key.type() + ")",
                        cufft_h.cufftMakePlanMany(handle, 1, n, MemorySegment.NULL, 1, 0, MemorySegment.NULL, 1, 0, key.type().cufftType(),
                                key.batch(), ws));
                workSize = ws.get(JAVA_LONG, 0);
                CudaException.checkCufft("cufftSetStream", cufft_h.cufftSetStream(handle, stream.handle()));
            } catch (RuntimeException e) {
                cufft_h.cufftDestroy(handle);
                throw e;
            }
        }
        Plan plan = new Plan(key, handle, workSize);
        try {
            attachWorkArea(plan);
        } catch (RuntimeException e) {
            cufft_h.cufftDestroy(handle);
            throw e;
        }
        return plan;
    }

    /** Gives the plan the device's shared work area, growing it (and re-pointing the other plans) when too small. */
    private void attachWorkArea(Plan plan) {
        int device = plan.key.device();
        DeviceBuffer area = workAreas.get(device);
        if (plan.workSize > 0 && (area == null || area.size() < plan.workSize)) {
            DeviceBuffer bigger = DeviceBuffer.allocate(plan.workSize);
            List<Plan> same = new ArrayList<>();
            for (Plan p : plans.values()) if (p.key.device() == device) same.add(p);
            // queued transforms may still use the old area: let them finish before it goes
            stream.synchronize();
            for (Plan p : same) CudaException.checkCufft("cufftSetWorkArea", cufft_h.cufftSetWorkArea(p.handle, bigger.pointer()));
            if (area != null) area.close();
            workAreas.put(device, area = bigger);
        }
        if (area != null) CudaException.checkCufft("cufftSetWorkArea", cufft_h.cufftSetWorkArea(plan.handle, area.pointer()));
    }

    /** Destroys every plan and frees the work areas. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        RuntimeException first = null;
        for (Plan p : plans.values()) {
            int err = cufft_h.cufftDestroy(p.handle);
            if (err != 0 && first == null) first = new CudaException("cufftDestroy", err, CufftResults.name(err), CufftResults.description(err));
        }
        plans.clear();
        for (DeviceBuffer w : workAreas.values()) {
            try {
                w.close();
            } catch (RuntimeException e) {
                if (first == null) first = e;
            }
        }
        workAreas.clear();
        if (first != null) throw first;
    }

    /** One cached plan; owned by the cache, valid until the cache closes. */
    public final class Plan {
        private final Key key;
        private final int handle;
        private final long workSize;

        private Plan(Key key, int handle, long workSize) {
            this.key = key;
            this.handle = handle;
            this.workSize = workSize;
        }

        /** What this plan transforms: length, batch, type and device. */
        public Key key() {
            return key;
        }

        /** The work area bytes this plan needs (held in the cache's shared area). */
        public long workSize() {
            return workSize;
        }

        /**
         * Queues the transform of a real type (R2C, D2Z forward; C2R, Z2D inverse) on the cache's stream.
         * {@code in} and {@code out} may be the same buffer when it is large enough for both sides.
         */
        public void execute(DeviceBuffer in, DeviceBuffer out) {
            execute(in, 0, out, 0);
        }

        /**
         * As {@link #execute(DeviceBuffer, DeviceBuffer)} with the batch starting {@code inOffset} and {@code outOffset} bytes into
         * the buffers (tensor views); complex sides must stay 8-byte aligned, as cuFFT requires.
         */
        public void execute(DeviceBuffer in, long inOffset, DeviceBuffer out, long outOffset) {
            if (key.type() == Type.C2C) {
                throw new IllegalArgumentException("FftPlanCache.Plan.execute: a C2C plan needs a direction, use executeC2C");
            }
            check(in, inOffset, out, outOffset);
            String call = "cufftExec" + key.type();
            MemorySegment i = in.pointer(inOffset), o = out.pointer(outOffset);
            int err = switch (key.type()) {
                case R2C -> cufft_h.cufftExecR2C(handle, i, o);
                case C2R -> cufft_h.cufftExecC2R(handle, i, o);
                case D2Z -> cufft_h.cufftExecD2Z(handle, i, o);
                case Z2D -> cufft_h.cufftExecZ2D(handle, i, o);
                case C2C -> throw new AssertionError("rejected above");
            };
            CudaException.checkCufft(call, err);
        }

        /** Queues a C2C transform on the cache's stream: forward (e^{-2 pi i jk/n}) or inverse (unnormalized). */
        public void executeC2C(DeviceBuffer in, DeviceBuffer out, boolean inverse) {
            if (key.type() != Type.C2C) {
                throw new IllegalArgumentException("FftPlanCache.Plan.executeC2C: plan type must be C2C, got " + key.type());
            }
            check(in, 0, out, 0);
            CudaException.checkCufft("cufftExecC2C", cufft_h.cufftExecC2C(handle, in.pointer(), out.pointer(),
                    inverse ? cufft_h.CUFFT_INVERSE() : cufft_h.CUFFT_FORWARD()));
        }

        private void check(DeviceBuffer in, long inOffset, DeviceBuffer out, long outOffset) {
            synchronized (FftPlanCache.this) {
                if (closed) throw new IllegalStateException("FftPlanCache.Plan: the cache is closed");
            }
            long inBytes = key.type().inputBytes(key.n()) * key.batch(), outBytes = key.type().outputBytes(key.n()) * key.batch();
            if (inOffset < 0 || inOffset % 8 != 0 && key.type() != Type.R2C && key.type() != Type.D2Z || in.size() - inOffset < inBytes) {
                throw new IllegalArgumentException("FftPlanCache.Plan " + key + ": in must hold >= " + inBytes + " bytes from offset " + inOffset
                        + " (complex data 8-byte aligned), got " + in.size() + " bytes");
            }
            if (outOffset < 0 || outOffset % 8 != 0 && key.type() != Type.C2R && key.type() != Type.Z2D || out.size() - outOffset < outBytes) {
                throw new IllegalArgumentException("FftPlanCache.Plan " + key + ": out must hold >= " + outBytes + " bytes from offset "
                        + outOffset + " (complex data 8-byte aligned), got " + out.size() + " bytes");
            }
            if (in.device() != key.device() || out.device() != key.device()) {
                throw new IllegalArgumentException("FftPlanCache.Plan " + key + ": buffers must be on device " + key.device() + ", got in on "
                        + in.device() + " and out on " + out.device());
            }
        }
    }
}
