package dev.longconv.simd;

/**
 * Decides once whether the Vector API path can run and with which width, after Lucene's
 * vectorization provider: the answer carries the reason and the exact flag when it cannot.
 * {@code -Dlongconv.vectorBits=128|256|512} forces a width (tests use it to run narrower species
 * than the hardware's; wider than the hardware is refused, since it would run emulated and slow).
 */
public final class Simd {
    /** System property that fixes the vector width: 128, 256 or 512, at most the CPU's. */
    public static final String BITS_PROPERTY = "longconv.vectorBits";

    /**
     * Whether the vector path runs, at what width, and if not, why and how to enable it.
     *
     * @param available whether the vector path can run here
     * @param bits      the vector width in bits when available, else 0
     * @param reason    what it runs on, or why it cannot run and how to enable it
     */
    public record Status(boolean available, int bits, String reason) {}

    private static final System.Logger LOG = System.getLogger("dev.longconv");

    private Simd() {}

    /** The decision, made once per JVM. */
    public static Status status() {
        return Holder.STATUS;
    }

    /**
     * One line when {@code -Dlongconv.vectorBits} holds a value this machine cannot honour (not 128, 256 or 512, or
     * wider than the CPU's vectors), else null. Backend selection turns it into an error rather than quietly running
     * without the vector backend.
     */
    public static String propertyProblem() {
        return Holder.PROPERTY_PROBLEM;
    }

    private static final class Holder {
        static final Status STATUS = detect();
        static final String PROPERTY_PROBLEM = propertyProblem(System.getProperty(BITS_PROPERTY), VectorInfo.detect());
    }

    static Status detect() {
        VectorInfo info = VectorInfo.detect();
        if (!info.moduleReadable()) {
            return new Status(false, 0, "jdk.incubator.vector is not readable; start the JVM with " + VectorInfo.FLAG);
        }
        int hw = info.preferredBits();
        if (hw < 128) {
            return new Status(false, 0, "the CPU's preferred vector species is " + hw + " bits; the vector path needs at least 128");
        }
        String forced = System.getProperty(BITS_PROPERTY);
        String problem = propertyProblem(forced, info);
        if (problem != null) return new Status(false, 0, problem);
        String c2 = c2Problem(Simd::vmOption, System.getProperty("java.vm.name", ""), System.getProperty("java.vm.info", ""));
        if (c2 != null) {
            String reason = "C2 is not available (" + c2 + "): Vector API code would run interpreted or C1-compiled, "
                    + "many times slower than the scalar backend; drop that JVM option to use the vector backend";
            LOG.log(System.Logger.Level.WARNING, "longconv: vector backend not used: " + reason);
            return new Status(false, 0, reason);
        }
        if (forced == null || forced.isBlank()) return new Status(true, hw, "preferred species " + hw + " bits (" + hw / 32 + " float lanes)");
        int bits = Integer.parseInt(forced.strip());
        return new Status(true, bits, bits + " bits (forced by -D" + BITS_PROPERTY + "; the CPU has " + hw + ")");
    }

    /** The problem with a {@code -Dlongconv.vectorBits} value on this machine, or null when it is unset or usable. */
    static String propertyProblem(String forced, VectorInfo info) {
        if (forced == null || forced.isBlank()) return null;
        int bits;
        try {
            bits = Integer.parseInt(forced.strip());
        } catch (NumberFormatException e) {
            bits = -1;
        }
        if (bits != 128 && bits != 256 && bits != 512) return "-D" + BITS_PROPERTY + "=" + forced + " is not 128, 256 or 512";
        if (info.moduleReadable() && bits > info.preferredBits()) {
            return "-D" + BITS_PROPERTY + "=" + bits + " is wider than this CPU's " + info.preferredBits() + "-bit vectors";
        }
        return null;
    }

    /**
     * Why this JVM will not compile Vector API code with C2 (after Lucene's check), or null when it will: the
     * interpreter only ({@code -Xint}), a client VM, tiered compilation stopped below level 4
     * ({@code -XX:TieredStopAtLevel=1..3}) or C1 only ({@code -XX:CompilationMode=quick-only}).
     *
     * @param option reads a HotSpot option's value (null when the JVM has no such option)
     * @param vmName {@code java.vm.name}
     * @param vmInfo {@code java.vm.info}
     */
    static String c2Problem(java.util.function.UnaryOperator<String> option, String vmName, String vmInfo) {
        if (vmInfo.contains("interpreted mode") || "false".equals(option.apply("UseCompiler"))) return "-Xint: interpreter only";
        if (vmName.contains("Client VM")) return "a client VM";
        if ("quick-only".equals(option.apply("CompilationMode"))) return "-XX:CompilationMode=quick-only";
        String level = option.apply("TieredStopAtLevel");
        if (!"false".equals(option.apply("TieredCompilation")) && level != null) {
            try {
                int l = Integer.parseInt(level.strip());
                if (l < 4) return "-XX:TieredStopAtLevel=" + l;
            } catch (NumberFormatException e) {
                // unknown format: assume the default
            }
        }
        if (vmInfo.contains("emulated-client")) return "the JVM emulates a client VM";
        return null;
    }

    /** A HotSpot VM option's value, or null on a JVM without it (not HotSpot, or an option it lacks). */
    private static String vmOption(String name) {
        try {
            var bean = java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            return bean == null ? null : bean.getVMOption(name).getValue();
        } catch (RuntimeException | LinkageError e) {
            return null;
        }
    }
}
