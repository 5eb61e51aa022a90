package dev.longconv.ops;

/**
 * A backend implementation as {@link Backends} finds it: with {@link java.util.ServiceLoader}, so that the
 * contract names no implementation and an optional module (longconv-cuda) adds its backend by being on the
 * class or module path. Implementations are cheap to construct; {@link #status()} may probe the machine
 * (once: callers ask it again whenever they list the backends, so a provider caches what it found).
 */
public interface BackendProvider {
    /** Whether a backend can run on this machine: when not, {@code reason} says why and how to enable it. */
    record Availability(boolean available, String reason) {}

    /** "scalar", "vector", "cuda": the name users select the backend by. */
    String name();

    /** Where the backend goes in the "fastest first" order: higher comes first. */
    int preference();

    /** Whether the backend runs here; when it does, {@code reason} describes what it runs on. */
    Availability status();

    /** The backend; only called when {@link #status()} is available. */
    Backend create();
}
