package dev.ember.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.ember.ffi.Cuda;
import dev.ember.nn.io.StateDictCheck;
import dev.ember.nn.io.StateDictException;
import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Generator;
import dev.ember.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModuleTest {
    /** The CNN whose names and repr PyTorch 1.13 printed for the expectations below. */
    static Sequential cnn(Generator g) {
        return new Sequential(
                new Conv2d(1, 32, new int[] {3}, new int[] {1}, new int[] {1}, new int[] {1}, 1, true, g), new ReLU(),
                new MaxPool2d(2),
                new Conv2d(32, 64, new int[] {3}, new int[] {1}, new int[] {1}, new int[] {1}, 1, true, g),
                new BatchNorm2d(64), new ReLU(), new MaxPool2d(2), new Flatten(),
                new Linear(3136, 128, true, g), new ReLU(), new Dropout(0.5, g), new Linear(128, 10, true, g));
    }

    @Test
    void stateDictNamesAndOrderMatchPyTorch() {
        try (Sequential m = cnn(new Generator(0))) {
            assertEquals(List.of("0.weight", "0.bias", "3.weight", "3.bias", "4.weight", "4.bias", "4.running_mean",
                    "4.running_var", "4.num_batches_tracked", "8.weight", "8.bias", "11.weight", "11.bias"),
                    List.copyOf(m.stateDict().keySet()));
            assertEquals(List.of("0.weight", "0.bias", "3.weight", "3.bias", "4.weight", "4.bias", "8.weight", "8.bias",
                    "11.weight", "11.bias"), List.copyOf(m.namedParameters().keySet()));
            assertEquals(List.of("", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"),
                    List.copyOf(m.namedModules().keySet()));
            assertEquals(10, m.parameters().size());
            assertEquals(List.of("4.running_mean", "4.running_var", "4.num_batches_tracked"),
                    List.copyOf(m.namedBuffers().keySet()));
            assertEquals(12, m.children().size());
        }
    }

    @Test
    void reprMatchesPyTorch() {
        try (Sequential m = cnn(new Generator(0))) {
            assertEquals("""
                    Sequential(
                      (0): Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
                      (1): ReLU()
                      (2): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
                      (3): Conv2d(32, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
                      (4): BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
                      (5): ReLU()
                      (6): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
                      (7): Flatten(start_dim=1, end_dim=-1)
                      (8): Linear(in_features=3136, out_features=128, bias=True)
                      (9): ReLU()
                      (10): Dropout(p=0.5, inplace=False)
                      (11): Linear(in_features=128, out_features=10, bias=True)
                    )""", m.toString());
        }
        assertEquals("Sequential()", new Sequential().toString());
        assertEquals("Sequential(\n  (0): Sequential(\n    (0): ReLU()\n  )\n  (1): Linear(in_features=2, out_features=2, bias=True)\n)",
                new Sequential(new Sequential(new ReLU()), new Linear(2, 2)).toString());
    }

    @Test
    void stateDictHoldsTheModulesOwnTensors() {
        try (Linear lin = new Linear(3, 2)) {
            Map<String, Tensor> sd = lin.stateDict();
            assertSame(lin.weight(), sd.get("weight"));
            assertSame(lin.bias(), sd.get("bias"));
            assertTrue(lin.weight().isLeaf());
            assertTrue(lin.weight().requiresGrad());
        }
    }

    private static Sequential small() {
        return new Sequential(new Linear(4, 10), new ReLU(), new Linear(10, 2));
    }

    @Test
    void loadStateDictListsEveryProblemAtOnceAndCopiesNothing() {
        try (Sequential m = small(); var s = Ember.scope()) {
            double[] before = ((Linear) m.get(0)).bias().toDoubleArray();
            Map<String, Tensor> sd = new LinkedHashMap<>(m.stateDict());
            sd.remove("2.weight");
            sd.put("0.weight", Tensor.zeros(10, 3));
            sd.put("0.bias", Tensor.full(7.0, 10));
            sd.put("x", Tensor.zeros(1));
            var e = assertThrows(StateDictException.class, () -> m.loadStateDict(sd));
            assertEquals("Error(s) in loading state_dict for Sequential:\n"
                    + "\tMissing key(s) in state_dict: \"2.weight\".\n"
                    + "\tUnexpected key(s) in state_dict: \"x\".\n"
                    + "\tsize mismatch for 0.weight: copying a param with shape [10, 3] from checkpoint, the shape in current"
                    + " model is [10, 4].", e.getMessage());
            assertArrayEquals(before, ((Linear) m.get(0)).bias().toDoubleArray(), "a failed load changes nothing");
        }
    }

    @Test
    void loadStateDictCopiesValuesIntoTheSameParameters() {
        try (Sequential src = small(); Sequential dst = small(); var s = Ember.scope()) {
            Tensor weightBefore = ((Linear) dst.get(2)).weight();
            StateDictCheck check = dst.loadStateDict(src.stateDict());
            assertTrue(check.missingKeys().isEmpty());
            assertSame(weightBefore, ((Linear) dst.get(2)).weight());
            assertTrue(weightBefore.requiresGrad());
            for (var e : src.stateDict().entrySet()) {
                assertArrayEquals(e.getValue().toDoubleArray(), dst.stateDict().get(e.getKey()).toDoubleArray(), e.getKey());
            }
            Tensor x = Tensor.randn(3, 4);
            assertArrayEquals(src.apply(x).toDoubleArray(), dst.apply(x).toDoubleArray());
        }
    }

    @Test
    void nonStrictLoadReportsMissingAndUnexpectedKeys() {
        try (Sequential m = small(); var s = Ember.scope()) {
            Map<String, Tensor> sd = Map.of("0.bias", Tensor.full(0.5, 10), "extra", Tensor.zeros(2));
            StateDictCheck check = m.loadStateDict(sd, false);
            assertEquals(List.of("0.weight", "2.weight", "2.bias"), check.missingKeys());
            assertEquals(List.of("extra"), check.unexpectedKeys());
            assertArrayEquals(new double[] {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5},
                    ((Linear) m.get(0)).bias().toDoubleArray());
        }
    }

    @Test
    void loadStateDictConvertsDtypes() {
        try (Linear lin = new Linear(2, 1); var s = Ember.scope()) {
            lin.loadStateDict(Map.of("weight", Tensor.fromArray(new double[] {1, 2}, 1, 2), "bias", Tensor.fromArray(new double[] {3})));
            assertEquals(DType.FLOAT32, lin.weight().dtype());
            assertArrayEquals(new float[] {1, 2}, lin.weight().toFloatArray());
        }
    }

    @Test
    void trainAndEvalReachEveryDescendant() {
        try (Sequential m = new Sequential(new Sequential(new Dropout()), new BatchNorm1d(3))) {
            assertTrue(m.isTraining());
            m.eval();
            for (Module sub : m.modules()) assertFalse(sub.isTraining());
            m.train();
            for (Module sub : m.modules()) assertTrue(sub.isTraining());
        }
    }

    @Test
    void zeroGradClearsGradients() {
        try (Linear lin = new Linear(3, 2); var s = Ember.scope()) {
            lin.apply(Tensor.randn(4, 3)).sum().backward();
            assertArrayEquals(new long[] {2, 3}, lin.weight().grad().shape());
            lin.zeroGrad();
            assertNull(lin.weight().grad());
            assertNull(lin.bias().grad());
        }
    }

    @Test
    void parametersOutliveTheScopeTheModelWasBuiltIn() {
        Linear lin;
        try (var s = Ember.scope()) {
            lin = new Linear(3, 2);
        }
        try (lin; var s = Ember.scope()) {
            assertFalse(lin.weight().isClosed());
            assertArrayEquals(new long[] {5, 2}, lin.apply(Tensor.randn(5, 3)).shape());
        }
        assertTrue(lin.weight().isClosed(), "closing the module closes its parameters");
        assertTrue(lin.bias().isClosed());
    }

    @Test
    void toDtypeConvertsFloatingParametersAndBuffersOnly() {
        Linear shared = new Linear(2, 2);
        try (Sequential m = new Sequential(shared, new BatchNorm1d(2), shared)) {
            Tensor old = shared.weight();
            m.to(DType.FLOAT64);
            assertTrue(old.isClosed());
            for (Tensor p : m.parameters()) {
                assertEquals(DType.FLOAT64, p.dtype());
                assertTrue(p.requiresGrad() && p.isLeaf());
            }
            assertEquals(DType.FLOAT64, m.stateDict().get("1.running_mean").dtype());
            assertEquals(DType.INT64, m.stateDict().get("1.num_batches_tracked").dtype());
            assertSame(m.stateDict().get("0.weight"), m.stateDict().get("2.weight"), "a shared parameter stays shared");
            assertEquals(4, m.parameters().size());
            try (var s = Ember.scope()) {
                assertEquals(DType.FLOAT64, m.apply(Tensor.randn(3, 2).to(DType.FLOAT64)).dtype());
            }
            assertThrows(IllegalArgumentException.class, () -> m.to(DType.INT64));
        }
    }

    @Test
    void toDeviceKeepsCpuTensorsAndRefusesUnknownDevices() {
        try (Linear lin = new Linear(2, 2)) {
            Tensor w = lin.parameters().get(0);
            assertSame(lin, lin.to("cpu"));
            assertSame(w, lin.parameters().get(0));
            var e = assertThrows(IllegalArgumentException.class, () -> lin.to("tpu"));
            assertTrue(e.getMessage().contains("Expected one of cpu, cuda"), e.getMessage());
        }
    }

    @Test
    void withoutCudaMovingToCudaFailsClearly() {
        assumeFalse(Cuda.isAvailable(), "CUDA is available: ModuleGpuTest moves modules");
        try (Linear lin = new Linear(2, 2)) {
            RuntimeException e = assertThrows(RuntimeException.class, () -> lin.to("cuda:0"));
            assertTrue(e.getMessage() != null && e.getMessage().toLowerCase(java.util.Locale.ROOT).contains("cuda"),
                    String.valueOf(e.getMessage()));
            assertEquals(DType.FLOAT32, lin.parameters().get(0).dtype()); // the module is left usable on the CPU
            assertTrue(lin.parameters().get(0).device().isCpu());
        }
    }

    /** A user-defined model: children registered from field initialisers, in declaration order. */
    static final class TwoLayer extends Module {
        final Linear fc1 = registerModule("fc1", new Linear(4, 8));
        final Tensor scale = registerBuffer("scale", Tensor.full(2.0, 1));
        final Tensor counter = registerBuffer("counter", Tensor.zeros(1), false);
        final Linear fc2 = registerModule("fc2", new Linear(8, 2));

        @Override
        public Tensor forward(Tensor x) { return fc2.apply(fc1.apply(x).relu()).mul(scale); }
    }

    @Test
    void customModulesNameTheirMembersAndLeaveNonPersistentBuffersOut() {
        try (TwoLayer m = new TwoLayer(); var s = Ember.scope()) {
            assertEquals(List.of("scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"), List.copyOf(m.stateDict().keySet()));
            assertEquals(List.of("scale", "counter"), List.copyOf(m.namedBuffers().keySet()));
            assertEquals("TwoLayer(\n  (fc1): Linear(in_features=4, out_features=8, bias=True)\n"
                    + "  (fc2): Linear(in_features=8, out_features=2, bias=True)\n)", m.toString());
            assertArrayEquals(new long[] {3, 2}, m.apply(Tensor.randn(3, 4)).shape());
        }
    }

    @Test
    void registrationRejectsBadOrTakenNames() {
        class Probe extends Module {
            @Override
            public Tensor forward(Tensor x) { return x; }

            void param(String name) { registerParameter(name, Tensor.zeros(1)); }

            void child(String name) { registerModule(name, new ReLU()); }
        }
        Probe p = new Probe();
        p.param("w");
        assertEquals("parameter name can't contain \".\", got: a.b",
                assertThrows(IllegalArgumentException.class, () -> p.param("a.b")).getMessage());
        assertEquals("parameter name can't be empty string \"\"",
                assertThrows(IllegalArgumentException.class, () -> p.param("")).getMessage());
        assertEquals("attribute 'w' already exists", assertThrows(IllegalArgumentException.class, () -> p.child("w")).getMessage());
        assertEquals("module name can't contain \".\", got: x.y",
                assertThrows(IllegalArgumentException.class, () -> p.child("x.y")).getMessage());
        p.close();
    }

    @Test
    void sequentialIndexesLikePython() {
        ReLU first = new ReLU();
        Tanh last = new Tanh();
        Sequential m = new Sequential(first, new Sigmoid(), last);
        assertSame(first, m.get(0));
        assertSame(last, m.get(-1));
        assertEquals(3, m.size());
        assertEquals("index 3 is out of range", assertThrows(IndexOutOfBoundsException.class, () -> m.get(3)).getMessage());
        m.append(new ReLU());
        assertEquals(List.of("0", "1", "2", "3"), List.copyOf(m.namedChildren().keySet()));
        int count = 0;
        for (Module ignored : m) count++;
        assertEquals(4, count);
    }

    @Test
    void requiresGradFreezesParameters() {
        try (Linear lin = new Linear(2, 2)) {
            lin.requiresGrad_(false);
            assertFalse(lin.weight().requiresGrad());
        }
    }
}
