package dev.longconv.bench;

import dev.longconv.DType;
import dev.longconv.Tensor;
import dev.longconv.layers.Gtu;
import dev.longconv.layers.Tno;
import dev.longconv.ops.Backend;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The small serving shapes, float32 with seeded random weights: a GTU at B = 1, L = 512, E = 32, heads = 2 and a TNO at
 * H = 2, L = 1024, dim = 16 (tnn_anchor.py --time-small times the same in torch), with one input each.
 */
final class SmallLayers implements AutoCloseable {
    static final int GTU_LENGTH = 512, TNO_LENGTH = 1024;

    final Map<String, Tensor> gtuState = new LinkedHashMap<>(), tnoState = new LinkedHashMap<>();
    final Gtu gtu;
    final Tno tno;
    final Tensor gtuX, tnoX;

    SmallLayers() {
        Gtu.Config gc = Gtu.Config.defaults(32, 2);
        long seed = 1;
        for (Map.Entry<String, long[]> e : Gtu.shapes(gc).entrySet()) gtuState.put(e.getKey(), Tensor.random(DType.FLOAT32, seed++, e.getValue()));
        gtu = new Gtu(gc, gtuState);
        gtuX = Tensor.random(DType.FLOAT32, 7, 1, GTU_LENGTH, 32);
        Tno.Config tc = Tno.Config.defaults(2, 16, 32);
        for (Map.Entry<String, long[]> e : Tno.shapes(tc, "").entrySet()) tnoState.put(e.getKey(), Tensor.random(DType.FLOAT32, seed++, e.getValue()));
        tno = new Tno(tc, tnoState);
        tnoX = Tensor.random(DType.FLOAT32, 8, 1, 2, TNO_LENGTH, 16);
    }

    /** The GTU's one-call forward on its input (the result closed again: what a benchmark returns is its handle). */
    Tensor gtuForward(Backend be) {
        try (Tensor y = gtu.forward(be, gtuX)) {
            return y;
        }
    }

    /** The TNO's one-call forward on its input, as {@link #gtuForward}. */
    Tensor tnoForward(Backend be) {
        try (Tensor y = tno.forward(be, tnoX)) {
            return y;
        }
    }

    @Override
    public void close() {
        gtuX.close();
        tnoX.close();
        gtuState.values().forEach(Tensor::close);
        tnoState.values().forEach(Tensor::close);
    }
}
