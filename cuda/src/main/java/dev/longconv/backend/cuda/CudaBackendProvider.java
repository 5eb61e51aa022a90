package dev.longconv.backend.cuda;

import dev.longconv.cuda.CudaProbe;
import dev.longconv.ops.Backend;
import dev.longconv.ops.BackendProvider;

import java.util.Locale;

/** The cuda backend as a {@link BackendProvider}: the first choice where {@link CudaProbe} finds a usable GPU. */
public final class CudaBackendProvider implements BackendProvider {
    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public int preference() {
        return 300;
    }

    @Override
    public Availability status() {
        var s = CudaProbe.status();
        return new Availability(s.available(), s.available() ? summary(s) : s.reason());
    }

    /** Device 0 of this process. */
    @Override
    public Backend create() {
        return CudaBackend.on(0);
    }

    /** "NVIDIA H100 80GB HBM3 (cc 9.0, 79.2 GiB), CUDA runtime 13.0" for the log line and info. */
    private static String summary(CudaProbe.CudaStatus s) {
        var d = s.devices().isEmpty() ? null : s.devices().get(0);
        String dev = d == null ? "device 0" : d.name() + " (cc " + d.computeCapability() + ", "
                + String.format(Locale.ROOT, "%.1f GiB", d.totalMemoryBytes() / (double) (1L << 30)) + ")";
        return dev + ", CUDA runtime " + s.runtimeVersion() / 1000 + "." + s.runtimeVersion() % 1000 / 10
                + (s.deviceCount() > 1 ? "; device 0 of " + s.deviceCount() : "");
    }
}
