package dev.longconv.cuda;

/**
 * One GPU as {@code cudaGetDeviceProperties} describes it; -1 (or the name "device N") where a query failed.
 *
 * @param index            the CUDA device ordinal
 * @param name             the marketing name, e.g. "NVIDIA H100 80GB HBM3"
 * @param ccMajor          compute capability, major part (9 for Hopper)
 * @param ccMinor          compute capability, minor part
 * @param totalMemoryBytes global memory in bytes
 */
public record DeviceInfo(int index, String name, int ccMajor, int ccMinor, long totalMemoryBytes) {
    /** "9.0" style compute capability. */
    public String computeCapability() {
        return ccMajor + "." + ccMinor;
    }
}
