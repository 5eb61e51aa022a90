package example.consumer;

import dev.longconv.DType;
import dev.longconv.Layout;
import dev.longconv.Tensor;
import dev.longconv.ops.Backends;
import dev.longconv.ops.Ops;
import dev.longconv.ops.Reference;

/** Runs a causal convolution on the selected backend against the float64 reference and checks how it was loaded. */
public final class Main {
    public static void main(String[] args) {
        String mode = args[0];
        double err;
        try (Tensor x = Tensor.randomUniform(DType.FLOAT32, new long[] {2, 16, 300}, 1);
             Tensor k = Tensor.randomUniform(DType.FLOAT32, new long[] {16, 300}, 2);
             Tensor y = Ops.causalConv(x, k, Layout.BDL);
             Tensor ref = Reference.causalConv(x, k, Layout.BDL)) {
            double num = 0, den = 0;
            for (long i = 0; i < ref.numel(); i++) {
                double d = y.getFlat(i) - ref.getFlat(i);
                num += d * d;
                den += ref.getFlat(i) * ref.getFlat(i);
            }
            err = Math.sqrt(num / den);
        }
        String backend = Backends.selected().name();
        System.out.printf("%s: backend %s, relative error %.2e, module %s%n", mode, backend, err, Main.class.getModule());
        check(err < 1e-5, "error " + err);
        Backends.Status cuda = Backends.statuses().stream().filter(s -> s.name().equals("cuda")).findFirst().orElseThrow();
        System.out.println("  cuda: " + cuda.reason());
        check(!cuda.reason().contains("not on the class or module path"), "the cuda module was not found: " + cuda.reason());
        switch (mode) {
            case "modulepath" -> {
                check(Main.class.getModule().isNamed(), "not on the module path");
                check(ModuleLayer.boot().findModule("dev.longconv.backend.cuda").isPresent(), "cuda backend not bound as a service");
                check(ModuleLayer.boot().findModule("dev.longconv.kernels.cuda.linux.x86_64").isPresent(),
                        "the linux-x86_64 kernels module was not bound as a service");
                Backends.Status vector = Backends.statuses().stream().filter(s -> s.name().equals("vector")).findFirst().orElseThrow();
                check(!vector.reason().contains("not readable"), "jdk.incubator.vector did not come with dev.longconv: " + vector.reason());
            }
            case "classpath" -> check(!Main.class.getModule().isNamed(), "on the class path");
            case "classpath-no-flags" -> check(backend.equals("scalar"), "without --add-modules jdk.incubator.vector scalar runs, not " + backend);
            default -> check(false, "unknown mode " + mode);
        }
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            System.err.println("consumer check failed: " + what);
            System.exit(1);
        }
    }
}
