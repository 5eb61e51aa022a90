package dev.longconv.layers;

import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import dev.longconv.io.Safetensors;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * Weights read from a safetensors file exported from PyTorch ({@code safetensors.torch.save_file(
 * module.state_dict(), path, metadata=...)}): {@link #open} reads the file into memory this object owns
 * (a file rewritten on disk afterwards changes nothing), F32 and F64 tensors are read-only views of that memory,
 * F16 and BF16 are widened to float32. Closing frees it; layers built from it must not be used after.
 */
public final class SafetensorsWeights implements Weights, AutoCloseable {
    private final Safetensors file;

    private SafetensorsWeights(Safetensors file) {
        this.file = file;
    }

    /** Opens and checks the file; a malformed one throws {@link dev.longconv.io.SafetensorsFormatException}. */
    public static SafetensorsWeights open(Path path) throws IOException {
        return new SafetensorsWeights(Safetensors.open(path));
    }

    @Override
    public String source() {
        return file.file().toString();
    }

    @Override
    public Map<String, String> metadata() {
        return file.metadata();
    }

    @Override
    public Set<String> names() {
        return file.names();
    }

    @Override
    public Tensor tensor(String name) {
        if (!file.contains(name)) throw new LongConvException("weights", name, "tensor '" + name + "' is missing from " + source());
        return file.tensor(name);
    }

    @Override
    public void close() {
        file.close();
    }
}
