package dev.longconv.io;

import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Damaged files either open and read every tensor, or fail with a {@link SafetensorsFormatException}:
 * never another exception, never a read outside the file.
 */
class SafetensorsFuzzTest {
    private static final long SEED = 0x5AFE_F022L;
    private static final int CASES = 2_000;
    /** Bytes JSON gives meaning to, so that mutations reach past the tokenizer into the header checks. */
    private static final byte[] SYNTAX = "{}[]\":,-.0123456789eE\\u ntf".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    @Test
    void mutatedFilesOpenCleanlyOrFailAsFormatErrors() throws IOException {
        byte[] valid;
        try (InputStream in = SafetensorsFuzzTest.class.getResourceAsStream("/safetensors/reference.safetensors")) {
            if (in == null) throw new IllegalStateException("missing fixture reference.safetensors");
            valid = in.readAllBytes();
        }
        int headerEnd = 8 + (int) littleEndianLong(valid);
        SplittableRandom rng = new SplittableRandom(SEED);
        int opened = 0, refused = 0;
        Path f = dir.resolve("fuzz.safetensors");
        for (int i = 0; i < CASES; i++) {
            byte[] b = mutate(valid, headerEnd, rng);
            Files.write(f, b);
            String where = "seed " + SEED + " case " + i + " (" + b.length + " bytes)";
            try (Safetensors st = Safetensors.open(f)) {
                for (String name : st.names()) {
                    if (st.storedDtype(name).loadsAs().isEmpty()) {
                        try {
                            st.tensor(name);
                            fail(where + ": tensor '" + name + "' of type " + st.storedDtype(name) + " loaded");
                        } catch (LongConvException expected) {
                            // the documented refusal of a type longconv does not load
                        }
                        continue;
                    }
                    Tensor t = st.tensor(name);
                    long n = t.numel();
                    double sum = 0;
                    for (long k = 0; k < n; k++) sum += t.getFlat(k);
                    if (n != Arrays.stream(st.shape(name)).reduce(1, (x, y) -> x * y)) {
                        fail(where + ": tensor '" + name + "' has " + n + " elements, shape says otherwise (sum " + sum + ")");
                    }
                }
                opened++;
            } catch (SafetensorsFormatException e) {
                if (e.getMessage().indexOf('\n') >= 0 || !e.getMessage().startsWith(f.toString())) {
                    fail(where + ": message not one line naming the file: " + e.getMessage());
                }
                refused++;
            } catch (Throwable e) {
                throw new AssertionError(where + ": " + e, e);
            }
        }
        System.out.println("safetensors fuzz, seed " + SEED + ": " + opened + " of " + CASES + " mutated files opened and read, "
                + refused + " refused as format errors");
        // Both outcomes must occur, or the mutations did not exercise what the test claims to.
        assertTrue(opened > 20 && refused > 20, "seed " + SEED + ": opened " + opened + ", refused " + refused);
    }

    private static byte[] mutate(byte[] valid, int headerEnd, SplittableRandom rng) {
        byte[] b = valid.clone();
        int kind = rng.nextInt(7);
        switch (kind) {
            case 0 -> { // flip bits anywhere
                int flips = 1 + rng.nextInt(4);
                for (int k = 0; k < flips; k++) b[rng.nextInt(b.length)] ^= (byte) (1 << rng.nextInt(8));
            }
            case 1 -> { // flip bits in the header text
                int flips = 1 + rng.nextInt(3);
                for (int k = 0; k < flips; k++) b[8 + rng.nextInt(headerEnd - 8)] ^= (byte) (1 << rng.nextInt(8));
            }
            case 2 -> { // replace a header byte with JSON syntax, digits most often hit offsets and shapes
                int k = 1 + rng.nextInt(3);
                for (int j = 0; j < k; j++) b[8 + rng.nextInt(headerEnd - 8)] = SYNTAX[rng.nextInt(SYNTAX.length)];
            }
            case 3 -> b = Arrays.copyOf(b, rng.nextInt(b.length)); // truncate
            case 4 -> { // edit the header length: small shifts, or any 64-bit value
                long n = littleEndianLong(b);
                long edited = rng.nextBoolean() ? n + rng.nextInt(-16, 17) : rng.nextLong();
                for (int k = 0; k < 8; k++) b[k] = (byte) (edited >>> (8 * k));
            }
            case 5 -> { // delete or duplicate a span of bytes, shifting everything after it
                int at = rng.nextInt(b.length), len = 1 + rng.nextInt(Math.min(16, b.length - at));
                byte[] out = new byte[rng.nextBoolean() ? b.length - len : b.length + len];
                System.arraycopy(b, 0, out, 0, at);
                if (out.length < b.length) {
                    System.arraycopy(b, at + len, out, at, b.length - at - len);
                } else {
                    System.arraycopy(b, at, out, at, len);
                    System.arraycopy(b, at, out, at + len, b.length - at);
                }
                b = out;
            }
            default -> { // change one digit of the header: offsets and shapes stay syntactically valid
                for (int tries = 0; tries < 100; tries++) {
                    int at = 8 + rng.nextInt(headerEnd - 8);
                    if (b[at] >= '0' && b[at] <= '9') {
                        b[at] = (byte) ('0' + rng.nextInt(10));
                        break;
                    }
                }
            }
        }
        return b;
    }

    private static long littleEndianLong(byte[] b) {
        long n = 0;
        for (int k = 7; k >= 0; k--) n = (n << 8) | (b[k] & 0xff);
        return n;
    }
}
