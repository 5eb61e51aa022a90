package dev.longconv;

/** Where a tensor's storage lives. Only {@link #CPU} holds data in this version; CUDA devices come with the cuda backend. */
public record Device(Kind kind, int index) {
    public enum Kind { CPU, CUDA }

    public static final Device CPU = new Device(Kind.CPU, 0);

    public Device {
        if (index < 0) throw new IllegalArgumentException("device index must be >= 0, got " + index);
        if (kind == Kind.CPU && index != 0) throw new IllegalArgumentException("cpu device has index 0, got " + index);
    }

    public static Device cuda(int index) {
        return new Device(Kind.CUDA, index);
    }

    @Override
    public String toString() {
        return kind == Kind.CPU ? "cpu" : "cuda:" + index;
    }
}
