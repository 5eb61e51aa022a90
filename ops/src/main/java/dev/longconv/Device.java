package dev.longconv;

/**
 * Where a tensor's storage lives: the host ({@link #CPU}) or a CUDA device, whose memory the longconv-cuda module
 * allocates (see {@link DeviceMemory}).
 */
public record Device(Kind kind, int index) {
    public enum Kind { CPU, CUDA }

    public static final Device CPU = new Device(Kind.CPU, 0);

    public Device {
        if (kind == null) throw new LongConvException("device", "kind", "cpu or cuda", "null");
        if (index < 0) throw new LongConvException("device", "index", "an index >= 0", String.valueOf(index));
        if (kind == Kind.CPU && index != 0) throw new LongConvException("device", "index", "0 for the cpu", String.valueOf(index));
    }

    public static Device cuda(int index) {
        return new Device(Kind.CUDA, index);
    }

    @Override
    public String toString() {
        return kind == Kind.CPU ? "cpu" : "cuda:" + index;
    }
}
