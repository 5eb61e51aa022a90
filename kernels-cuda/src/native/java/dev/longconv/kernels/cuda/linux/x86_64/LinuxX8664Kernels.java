package dev.longconv.kernels.cuda.linux.x86_64;

import dev.longconv.kernels.cuda.NativeKernels;

import java.net.URL;

/** The Linux x86-64 build of longconv's CUDA kernels, carried by this artifact. */
public final class LinuxX8664Kernels implements NativeKernels {
    /** For {@link java.util.ServiceLoader}. */
    public LinuxX8664Kernels() {}

    @Override
    public String platform() {
        return "linux-x86_64";
    }

    @Override
    public URL library() {
        return LinuxX8664Kernels.class.getClassLoader().getResource(String.format(RESOURCE_FORMAT, platform()));
    }
}
