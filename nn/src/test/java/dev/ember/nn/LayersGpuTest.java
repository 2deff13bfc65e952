package dev.ember.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ember.ffi.Cuda;
import dev.ember.memory.Device;
import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Generator;
import dev.ember.tensor.Scope;
import dev.ember.tensor.Tensor;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every layer and loss of {@link LayersTest} and {@link LossTest} on CUDA against its CPU twin
 * (the same initial weights, the same float64 input and output gradient): the output, the
 * input's gradient, every parameter's gradient and the running statistics agree to float64
 * rounding. The CPU side is what those classes check against references. Skipped without a
 * CUDA driver and device.
 */
@Tag("gpu")
class LayersGpuTest {
    private static final double TOL = 1e-9;
    private Scope scope;

    @BeforeEach
    void open() {
        assumeTrue(Cuda.isAvailable(), Cuda::unavailableReason);
        scope = Ember.scope();
    }

    @AfterEach
    void close() {
        if (scope != null) scope.close();
    }

    private record LayerCase(String name, Supplier<Module> make, long[] inputShape, boolean training) {}

    private static LayerCase layer(String name, Supplier<Module> make, long... inputShape) {
        return new LayerCase(name, make, inputShape, true);
    }

    static Stream<LayerCase> layers() {
        return Stream.of(
                layer("Linear", () -> new Linear(5, 4, true, new Generator(1)), 3, 2, 5),
                layer("Conv2d 3x3 same", () -> new Conv2d(3, 4, 3, 1, 1), 2, 3, 7, 6),
                layer("Conv2d strided, dilated, grouped", () -> new Conv2d(4, 6, new int[] {3, 2}, new int[] {2, 1},
                        new int[] {1, 0}, new int[] {2, 1}, 2, true, new Generator(2)), 2, 4, 9, 7),
                layer("BatchNorm2d training", () -> new BatchNorm2d(3), 4, 3, 5, 5),
                new LayerCase("BatchNorm2d eval", () -> new BatchNorm2d(3), new long[] {4, 3, 5, 5}, false),
                layer("BatchNorm1d", () -> new BatchNorm1d(6), 8, 6),
                layer("MaxPool2d", () -> new MaxPool2d(2), 2, 3, 6, 8),
                layer("MaxPool2d 3 stride 2 pad 1", () -> new MaxPool2d(3, 2, 1), 2, 3, 7, 7),
                layer("AvgPool2d", () -> new AvgPool2d(3, 2, 1), 2, 3, 7, 6),
                layer("AdaptiveAvgPool2d", () -> new AdaptiveAvgPool2d(2), 2, 3, 6, 4),
                layer("ReLU", ReLU::new, 3, 7),
                layer("GELU", GELU::new, 3, 7),
                layer("GELU tanh", () -> new GELU("tanh"), 3, 7),
                layer("SiLU", SiLU::new, 3, 7),
                layer("Sigmoid", Sigmoid::new, 3, 7),
                layer("Tanh", Tanh::new, 3, 7),
                layer("Softmax", () -> new Softmax(1), 3, 7),
                layer("LogSoftmax", () -> new LogSoftmax(-1), 3, 7),
                layer("LayerNorm", () -> new LayerNorm(new long[] {4, 5}), 3, 4, 5),
                layer("Flatten", Flatten::new, 2, 3, 4),
                new LayerCase("Dropout in eval", () -> new Dropout(0.3), new long[] {3, 7}, false),
                layer("a small CNN", () -> new Sequential(new Conv2d(2, 4, 3, 1, 1), new BatchNorm2d(4), new ReLU(),
                        new MaxPool2d(2), new Flatten(), new Linear(4 * 3 * 3, 5, true, new Generator(3))), 3, 2, 6, 6));
    }

    @TestFactory
    Stream<DynamicTest> layersMatchTheirCpuTwin() {
        return layers().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            try (var s = Ember.scope()) {
                checkLayer(c);
            }
        }));
    }

    private static void checkLayer(LayerCase c) {
        Generator g = new Generator(System.nanoTime());
        Ember.manualSeed(11);
        Module cpu = c.make().get();
        Ember.manualSeed(11);
        Module gpu = c.make().get();
        try (cpu; gpu) {
            cpu.to(DType.FLOAT64);
            gpu.to(DType.FLOAT64).to(Device.cuda());
            cpu.train(c.training());
            gpu.train(c.training());
            Tensor x = Tensor.randn(g, c.inputShape()).to(DType.FLOAT64);
            Tensor xc = x.clone().requiresGrad_(), xg = x.cuda().requiresGrad_();
            Tensor yc = cpu.apply(xc), yg = gpu.apply(xg);
            String ctx = c.name();
            assertClose(ctx + " output", yc, yg);
            Tensor dy = Tensor.randn(g, yc.shape()).to(DType.FLOAT64);
            yc.backward(dy);
            yg.backward(dy.cuda());
            assertClose(ctx + " input gradient", xc.grad(), xg.grad());
            List<Tensor> pc = cpu.parameters(), pg = gpu.parameters();
            for (int i = 0; i < pc.size(); i++) {
                assertClose(ctx + " gradient of parameter " + i, pc.get(i).grad(), pg.get(i).grad());
            }
            var bc = cpu.stateDict();
            var bg = gpu.stateDict();
            for (var e : bc.entrySet()) assertClose(ctx + " state " + e.getKey(), e.getValue(), bg.get(e.getKey()));
        }
    }

    @Test
    void embeddingMatchesItsCpuTwin() {
        Embedding cpu = new Embedding(10, 4, new Generator(5)), gpu = new Embedding(10, 4, new Generator(5));
        try (cpu; gpu) {
            gpu.to(Device.cuda());
            Tensor idx = Tensor.fromArray(new long[] {1, 7, 7, 0, 9, 3}).reshape(2, 3);
            Tensor yc = cpu.apply(idx), yg = gpu.apply(idx.cuda());
            assertClose("embedding output", yc, yg);
            Tensor dy = Tensor.randn(new Generator(6), 2, 3, 4);
            yc.backward(dy);
            yg.backward(dy.cuda());
            assertClose("embedding weight gradient", cpu.weight().grad(), gpu.weight().grad(), 1e-6);
        }
    }

    private record LossCase(String name, Loss loss, boolean classTargets) {}

    @TestFactory
    Stream<DynamicTest> lossesMatchTheirCpuTwin() {
        return Stream.of(
                new LossCase("CrossEntropyLoss", new CrossEntropyLoss(), true),
                new LossCase("CrossEntropyLoss smoothing sum", new CrossEntropyLoss(null, -100, "sum", 0.1), true),
                new LossCase("NLLLoss", new NLLLoss(), true),
                new LossCase("MSELoss", new MSELoss(), false),
                new LossCase("L1Loss sum", new L1Loss("sum"), false),
                new LossCase("BCEWithLogitsLoss", new BCEWithLogitsLoss(), false)
        ).map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            try (var s = Ember.scope()) {
                Generator g = new Generator(System.nanoTime());
                Tensor x = Tensor.randn(g, 6, 5).to(DType.FLOAT64);
                Tensor target = c.classTargets() ? Tensor.randint(g, 0, 5, 6) : Tensor.rand(g, 6, 5).to(DType.FLOAT64);
                Tensor input = c.name().startsWith("NLL") ? x.logSoftmax(1) : x;
                Tensor xc = input.detach().requiresGrad_(), xg = input.detach().cuda().requiresGrad_();
                Tensor lc = c.loss().apply(xc, target), lg = c.loss().apply(xg, target.cuda());
                assertClose(c.name() + " value", lc, lg);
                lc.backward();
                lg.backward();
                assertClose(c.name() + " input gradient", xc.grad(), xg.grad());
            }
        }));
    }

    private static void assertClose(String ctx, Tensor expected, Tensor actual) { assertClose(ctx, expected, actual, TOL); }

    private static void assertClose(String ctx, Tensor expected, Tensor actual, double tol) {
        if (expected == null || actual == null) {
            assertEquals(expected == null, actual == null, ctx + ": one side has no value");
            return;
        }
        assertEquals(Device.cuda(), actual.device(), ctx);
        assertEquals(expected.dtype(), actual.dtype(), ctx);
        assertArrayEquals(expected.shape(), actual.shape(), ctx);
        double[] e = expected.toDoubleArray(), a = actual.toDoubleArray();
        for (int i = 0; i < e.length; i++) {
            if (Double.isNaN(e[i]) != Double.isNaN(a[i]) || Math.abs(e[i] - a[i]) > tol * Math.max(1, Math.abs(e[i]))) {
                fail(ctx + ": element " + i + " is " + a[i] + " on cuda, " + e[i] + " on the cpu");
            }
        }
    }
}
