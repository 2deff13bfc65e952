package dev.ember.nn.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ember.tensor.DType;
import dev.ember.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading a state dict reports every mismatch at once, as PyTorch words it, and copies nothing unless all fit. */
class StateDictCheckTest {
    @TempDir
    Path dir;

    private final List<Tensor> made = new ArrayList<>();

    @AfterEach
    void closeTensors() {
        for (Tensor t : made) t.close();
    }

    @Test
    void strictMessageListsMissingUnexpectedAndSizeMismatches() {
        Map<String, Tensor> model = model(3136);
        Map<String, Tensor> checkpoint = new LinkedHashMap<>();
        checkpoint.put("conv.weight", keep(Tensor.ones(4, 1, 3, 3)));
        checkpoint.put("fc2.weight", keep(Tensor.ones(10, 128)));
        checkpoint.put("x", keep(Tensor.ones(1)));
        StateDictException e = assertThrows(StateDictException.class,
                () -> StateDictCheck.loadInto("Net", model, checkpoint, true));
        assertEquals("Error(s) in loading state_dict for Net:\n"
                + "\tMissing key(s) in state_dict: \"conv.bias\", \"fc2.bias\".\n"
                + "\tUnexpected key(s) in state_dict: \"x\".\n"
                + "\tsize mismatch for fc2.weight: copying a param with shape [10, 128] from checkpoint,"
                + " the shape in current model is [10, 3136].", e.getMessage());
        assertEquals(List.of("conv.bias", "fc2.bias"), e.check().missingKeys());
        assertEquals(List.of("x"), e.check().unexpectedKeys());
        assertEquals(List.of(new StateDictCheck.SizeMismatch("fc2.weight", List.of(10L, 128L), List.of(10L, 3136L))),
                e.check().sizeMismatches());
        assertEquals(0, model.get("conv.weight").sum().item(), "nothing is copied when loading fails");
    }

    @Test
    void nonStrictLoadsSharedKeysAndReportsTheRest() {
        Map<String, Tensor> model = model(8);
        Map<String, Tensor> checkpoint = new LinkedHashMap<>();
        checkpoint.put("fc2.weight", keep(Tensor.full(DType.FLOAT64, 0.5, 10, 8)));
        checkpoint.put("extra", keep(Tensor.ones(2)));
        StateDictCheck check = StateDictCheck.loadInto("Net", model, checkpoint, false);
        assertEquals(List.of("conv.weight", "conv.bias", "fc2.bias"), check.missingKeys());
        assertEquals(List.of("extra"), check.unexpectedKeys());
        assertTrue(check.isCompatible(false));
        assertEquals(40, model.get("fc2.weight").sum().item(), 1e-9, "float64 values copied into the float32 parameter");
        assertEquals(DType.FLOAT32, model.get("fc2.weight").dtype());
    }

    @Test
    void sizeMismatchFailsEvenWhenNotStrict() {
        Map<String, Tensor> model = model(8);
        StateDictException e = assertThrows(StateDictException.class,
                () -> StateDictCheck.loadInto("Net", model, Map.of("conv.bias", keep(Tensor.ones(5))), false));
        assertEquals("Error(s) in loading state_dict for Net:\n"
                + "\tsize mismatch for conv.bias: copying a param with shape [5] from checkpoint,"
                + " the shape in current model is [4].", e.getMessage());
    }

    @Test
    void savedStateDictLoadsBackIntoAFreshModel() throws IOException {
        Map<String, Tensor> trained = model(8);
        for (Tensor t : trained.values()) t.copy_(keep(Tensor.randn(t.shape())));
        Path file = dir.resolve("net.safetensors");
        Safetensors.save(trained, Map.of("epoch", "2"), file);
        Map<String, Tensor> fresh = model(8);
        try (Checkpoint c = Safetensors.loadCheckpoint(file)) {
            StateDictCheck check = StateDictCheck.loadInto("Net", fresh, c.tensors(), true);
            assertTrue(check.missingKeys().isEmpty() && check.unexpectedKeys().isEmpty());
        }
        for (String key : trained.keySet()) {
            assertTrue(trained.get(key).equal(fresh.get(key)), key);
        }
    }

    /** A small model's state dict of zeros, in registration order. */
    private Map<String, Tensor> model(long fcIn) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("conv.weight", keep(Tensor.zeros(4, 1, 3, 3)));
        m.put("conv.bias", keep(Tensor.zeros(4)));
        m.put("fc2.weight", keep(Tensor.zeros(10, fcIn)));
        m.put("fc2.bias", keep(Tensor.zeros(10)));
        return m;
    }

    private Tensor keep(Tensor t) {
        made.add(t);
        return t;
    }
}
