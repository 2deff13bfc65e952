package dev.ember.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ember.ffi.Cuda;
import dev.ember.memory.CudaMemory;
import dev.ember.memory.Device;
import dev.ember.nn.optim.SGD;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Generator;
import dev.ember.tensor.Scope;
import dev.ember.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Training on CUDA: a model moved with {@code to(Device)} trains step for step like its CPU
 * twin (same initial weights, same batch; every derivative and the fused SGD step run on the
 * device), and a training loop holds constant device memory from its second step on.
 * Skipped without a CUDA driver and device.
 */
@Tag("gpu")
class TrainingGpuTest {
    private static final int STEPS = 12;

    @BeforeEach
    void needsCuda() {
        assumeTrue(Cuda.isAvailable(), Cuda::unavailableReason);
    }

    /** Every layer kind of the CPU smoke test except dropout, whose random numbers differ by device. */
    private static Sequential model(long seed) {
        Generator g = new Generator(seed);
        return new Sequential(
                new Conv2d(1, 4, new int[] {3}, new int[] {1}, new int[] {1}, new int[] {1}, 1, true, g), new BatchNorm2d(4),
                new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(64, 16, true, g), new GELU(),
                new LayerNorm(16), new Linear(16, 3, true, g));
    }

    private static double[] train(Sequential model, Tensor x, Tensor y, Device device) {
        double[] losses = new double[STEPS];
        CrossEntropyLoss lossFn = new CrossEntropyLoss(null, -100, "mean", 0.05);
        try (SGD opt = new SGD(model.parameters(), SGD.options(0.05).momentum(0.9).weightDecay(1e-4))) {
            for (int step = 0; step < STEPS; step++) {
                try (var s = Ember.scope()) {
                    Tensor loss = lossFn.apply(model.apply(x.to(device)), y.to(device));
                    assertEquals(device, loss.device());
                    opt.zeroGrad();
                    loss.backward();
                    for (Tensor p : model.parameters()) assertEquals(device, p.grad().device());
                    opt.step();
                    losses[step] = loss.item();
                }
            }
        }
        return losses;
    }

    @Test
    void aModelTrainsOnCudaStepForStepLikeOnTheCpu() {
        Generator g = new Generator(1);
        Tensor x = Scope.escape(Tensor.randn(g, 16, 1, 8, 8));
        Tensor y = Scope.escape(Tensor.randint(g, 0, 3, 16));
        try (x; y; Sequential cpu = model(7); Sequential gpu = model(7)) {
            gpu.to(Device.cuda());
            for (Tensor p : gpu.parameters()) assertTrue(p.isCuda() && p.isLeaf() && p.requiresGrad());
            double[] expected = train(cpu, x, y, Device.cpu());
            double[] actual = train(gpu, x, y, Device.cuda());
            for (int i = 0; i < STEPS; i++) {
                assertEquals(expected[i], actual[i], 2e-3 * Math.max(1, Math.abs(expected[i])), "loss at step " + i);
            }
            List<Tensor> pc = cpu.parameters(), pg = gpu.parameters();
            for (int i = 0; i < pc.size(); i++) {
                double[] a = pc.get(i).toDoubleArray(), b = pg.get(i).toDoubleArray();
                for (int k = 0; k < a.length; k++) {
                    assertEquals(a[k], b[k], 2e-3 * Math.max(1, Math.abs(a[k])), "parameter " + i + " element " + k);
                }
            }
        }
    }

    @Test
    void aCudaTrainingLoopHoldsConstantDeviceMemory() {
        Generator g = new Generator(2);
        Device cuda = Device.cuda();
        try (Sequential model = model(3); Tensor x = Scope.escape(Tensor.randn(g, 16, 1, 8, 8).to(cuda));
             Tensor y = Scope.escape(Tensor.randint(g, 0, 3, 16).to(cuda));
             SGD opt = new SGD(model.to(cuda).parameters(), SGD.options(0.05).momentum(0.9))) {
            CrossEntropyLoss lossFn = new CrossEntropyLoss();
            long afterSecond = 0;
            for (int step = 0; step < 20; step++) {
                try (var s = Ember.scope()) {
                    Tensor loss = lossFn.apply(model.apply(x), y);
                    opt.zeroGrad();
                    loss.backward();
                    opt.step();
                    loss.item();
                }
                long allocated = CudaMemory.allocator(cuda).stats().allocatedBytes().current();
                if (step == 1) afterSecond = allocated;
                if (step > 1) assertTrue(allocated <= afterSecond, "step " + step + ": " + allocated + " bytes on the device, "
                        + afterSecond + " after the second step");
            }
        }
    }
}
