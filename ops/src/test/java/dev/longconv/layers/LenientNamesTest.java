package dev.longconv.layers;

import dev.longconv.DType;
import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Unknown act/norm names: refused by default; with lenient=true mapped as tnn-pytorch does, each logged once. */
class LenientNamesTest {
    static final Map<String, String> META = Map.of("h", "1", "dim", "2", "rpe_dim", "3", "layers", "1", "act", "swishy",
            "norm_type", "batchnorm", "act_type", "tanhh");

    static Map<String, Tensor> stateDict(Tno.Config c) {
        return TnnTestSupport.randomStateDict(Tno.shapes(c, ""), DType.FLOAT64, 4);
    }

    @Test
    void unknownNamesAreRefusedByDefault() {
        Tno.Config c = new Tno.Config(1, 2, 3, false, false, false, false, Activation.NONE, 1, 0.999, true, Activation.NONE, 1, NormType.LAYER, false);
        Map<String, Tensor> sd = stateDict(c);
        try {
            LongConvException e = assertThrows(LongConvException.class, () -> Tno.load(Weights.of("in-memory", sd, META), Map.of()));
            assertTrue(e.getMessage().startsWith("tno") && e.getMessage().contains("swishy") && e.getMessage().contains("lenient=true"), e.getMessage());
        } finally {
            TnnTestSupport.closeAll(sd);
        }
    }

    @Test
    void lenientMapsThemAsUpstreamAndLogsEachOnce() {
        Tno.Config expected = new Tno.Config(1, 2, 3, false, false, false, false, Activation.NONE, 1, 0.999, true, Activation.NONE, 1,
                NormType.LAYER, false);
        Map<String, Tensor> sd = stateDict(expected);
        List<String> messages = new ArrayList<>();
        Logger logger = Logger.getLogger("dev.longconv");
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                messages.add(java.text.MessageFormat.format(r.getMessage(), r.getParameters()));
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        logger.addHandler(h);
        try {
            for (int i = 0; i < 3; i++) {
                Tno t = Tno.load(Weights.of("in-memory", sd, META), Map.of("lenient", "true"));
                assertEquals(expected, t.config());
            }
            long act = messages.stream().filter(m -> m.contains("'swishy'") && m.contains("identity")).count();
            long norm = messages.stream().filter(m -> m.contains("'batchnorm'") && m.contains("layernorm")).count();
            long actType = messages.stream().filter(m -> m.contains("'tanhh'")).count();
            assertEquals(1, act, messages.toString());
            assertEquals(1, norm, messages.toString());
            assertEquals(1, actType, messages.toString());
        } finally {
            logger.removeHandler(h);
            TnnTestSupport.closeAll(sd);
        }
    }
}
