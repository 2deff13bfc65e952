package dev.ember.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ember.autograd.GradCheck;
import dev.ember.ffi.Cuda;
import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Scope;
import dev.ember.tensor.Tensor;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Cross-entropy and NLL with class-index targets on CUDA tensors (the fused loss.cu kernels)
 * against the CPU's composed definition on the same inputs: every reduction, class weights,
 * ignore_index, label smoothing, batched, spatial [N, C, d1, d2] and unbatched inputs, few and
 * many classes (a warp or a block per row), every float dtype; the gradients too, and float64
 * gradchecks through the device. Out-of-range targets get the CPU's message. Skipped without a
 * CUDA driver and device.
 */
@Tag("gpu")
class CudaLossGpuTest {
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

    private record Setup(long[] input, long classes, long ignoreIndex, boolean weighted, double smoothing, String reduction) {
        @Override
        public String toString() {
            return "input " + Arrays.toString(input) + " ignore_index " + ignoreIndex + (weighted ? " weighted" : "")
                    + " smoothing " + smoothing + " reduction " + reduction;
        }
    }

    @Test
    void crossEntropyAndNllMatchTheCpuWithTheirGradients() {
        long seed = System.nanoTime();
        SplittableRandom r = new SplittableRandom(seed);
        long[][] inputs = {{7, 5}, {64, 37}, {3, 1500}, {1, 1}, {3, 4, 2, 5}, {6}, {0, 4}, {33, 1025}};
        for (DType type : new DType[] {DType.FLOAT64, DType.FLOAT32, DType.FLOAT16, DType.BFLOAT16}) {
            for (long[] input : inputs) {
                for (String reduction : new String[] {"none", "sum", "mean"}) {
                    long classes = input.length == 1 ? input[0] : input[1];
                    Setup s = new Setup(input, classes, r.nextBoolean() ? -100 : r.nextLong(classes), r.nextBoolean(),
                            r.nextBoolean() ? 0 : 0.15, reduction);
                    try (var inner = Ember.scope()) {
                        check(type, s, r, true, "cross-entropy " + type + " " + s + " (seed " + seed + "L)");
                        check(type, s, r, false, "nll " + type + " " + s + " (seed " + seed + "L)");
                    }
                }
            }
        }
    }

    private static void check(DType type, Setup s, SplittableRandom r, boolean logits, String ctx) {
        Tensor x = random(r, s.input(), 3).to(type);
        if (!logits) {
            try (var off = Ember.noGrad()) {
                x = x.logSoftmax(s.input().length == 1 ? 0 : 1);
            }
        }
        Tensor target = targets(r, s);
        Tensor weight = s.weighted() ? random(r, new long[] {s.classes()}, 1).abs().add(0.25).to(type) : null;
        double smoothing = logits ? s.smoothing() : 0;

        Tensor host = x.detach().requiresGrad_();
        Tensor expected = loss(logits, host, target, weight, s, smoothing);
        Tensor device = x.detach().cuda().requiresGrad_();
        Tensor got = loss(logits, device, target.cuda(), weight == null ? null : weight.cuda(), s, smoothing);
        assertTrue(got.isCuda(), ctx);
        assertClose(ctx + ": loss", type, expected, got);
        assertArrayEquals(got.cpu().toDoubleArray(), loss(logits, device, target.cuda(), weight == null ? null : weight.cuda(), s,
                smoothing).cpu().toDoubleArray(), ctx + ": a second run gave other bits");

        // every target ignored: the mean is 0/0; the composed backward (the CPU's for float16/bfloat16) then gives NaN,
        // the kernels 0 (as PyTorch's)
        if (s.reduction().equals("mean") && Double.isNaN(expected.item())) return;
        Tensor upstream = random(r, expected.shape(), 1).to(type);
        expected.backward(upstream);
        got.backward(upstream.cuda());
        assertTrue(device.grad().isCuda(), ctx);
        assertClose(ctx + ": gradient", type, host.grad(), device.grad());
    }

    private static Tensor loss(boolean logits, Tensor x, Tensor target, Tensor weight, Setup s, double smoothing) {
        return logits ? Functional.crossEntropy(x, target, weight, s.ignoreIndex(), s.reduction(), smoothing)
                : Functional.nllLoss(x, target, weight, s.ignoreIndex(), s.reduction());
    }

    /** Class targets for the input's shape; about one in five is ignore_index. */
    private static Tensor targets(SplittableRandom r, Setup s) {
        long[] shape = s.input().length == 1 ? new long[0] : new long[s.input().length - 1];
        if (s.input().length > 1) {
            shape[0] = s.input()[0];
            for (int d = 2; d < s.input().length; d++) shape[d - 1] = s.input()[d];
        }
        int n = 1;
        for (long d : shape) n *= (int) d;
        long[] t = new long[n];
        for (int i = 0; i < n; i++) t[i] = r.nextInt(5) == 0 ? s.ignoreIndex() : r.nextLong(s.classes());
        return Tensor.fromArray(t).reshape(shape);
    }

    private static Tensor random(SplittableRandom r, long[] shape, double scale) {
        int n = 1;
        for (long d : shape) n *= (int) d;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = scale * r.nextGaussian();
        return Tensor.fromArray(v).reshape(shape);
    }

    /** Within the dtype's tolerance of the CPU value (relative, at least 1); NaN only where NaN. */
    private static void assertClose(String ctx, DType type, Tensor expected, Tensor got) {
        assertEquals(expected.dtype(), got.dtype(), ctx + ": dtype");
        assertArrayEquals(expected.shape(), got.shape(), ctx + ": shape");
        double tol = switch (type) {
            case FLOAT64 -> 1e-9;
            case FLOAT32 -> 2e-5;
            case FLOAT16 -> 1e-2;
            default -> 4e-2;
        };
        double[] e = expected.toDoubleArray(), g = got.toDoubleArray();
        for (int i = 0; i < e.length; i++) {
            boolean ok = Double.isNaN(e[i]) ? Double.isNaN(g[i]) : Math.abs(e[i] - g[i]) <= tol * Math.max(1, Math.abs(e[i]));
            if (!ok) fail(ctx + ": element " + i + " is " + g[i] + " on CUDA, " + e[i] + " on the CPU");
        }
    }

    @Test
    void everyTargetIgnoredGivesNaNMeanAndZeroSum() {
        Tensor logits = random(new SplittableRandom(1), new long[] {4, 5}, 2).to(DType.FLOAT32).cuda();
        Tensor ignored = Tensor.fromArray(new long[] {-100, -100, -100, -100}).cuda();
        assertTrue(Double.isNaN(Functional.crossEntropy(logits, ignored).item()));
        assertEquals(0.0, Functional.crossEntropy(logits, ignored, null, -100, "sum", 0).item());
        assertArrayEquals(new double[4], Functional.nllLoss(logits, ignored, null, -100, "none").cpu().toDoubleArray(), 0);
    }

    @Test
    void outOfRangeTargetsGetTheCpusMessage() {
        Tensor logits = random(new SplittableRandom(2), new long[] {6, 5}, 2);
        Tensor target = Tensor.fromArray(new long[] {1, 4, 7, 0, -3, 2});
        for (String reduction : new String[] {"none", "sum", "mean"}) {
            IndexOutOfBoundsException cpu = assertThrows(IndexOutOfBoundsException.class,
                    () -> Functional.crossEntropy(logits, target, null, -100, reduction, 0));
            assertEquals("Target 7 is out of bounds. Class indices must lie in [0, 4] for 5 classes (or equal ignore_index -100).",
                    cpu.getMessage());
            IndexOutOfBoundsException ce = assertThrows(IndexOutOfBoundsException.class,
                    () -> Functional.crossEntropy(logits.cuda(), target.cuda(), null, -100, reduction, 0.1));
            assertEquals(cpu.getMessage(), ce.getMessage());
            IndexOutOfBoundsException nll = assertThrows(IndexOutOfBoundsException.class,
                    () -> Functional.nllLoss(logits.cuda(), target.cuda(), null, -100, reduction));
            assertEquals(cpu.getMessage(), nll.getMessage());
        }
        // a spatial target: the first bad one in row-major order of [N, d1]
        Tensor spatialTarget = Tensor.fromArray(new long[] {0, 1, 2, -1, 9, 1}).reshape(2, 3);
        Tensor spatial = random(new SplittableRandom(3), new long[] {2, 4, 3}, 1);
        String expected = assertThrows(IndexOutOfBoundsException.class,
                () -> Functional.crossEntropy(spatial, spatialTarget)).getMessage();
        assertEquals(expected, assertThrows(IndexOutOfBoundsException.class,
                () -> Functional.crossEntropy(spatial.cuda(), spatialTarget.cuda())).getMessage());
    }

    @Test
    void shapeDtypeAndDeviceErrorsAreTheCpus() {
        Tensor logits = random(new SplittableRandom(4), new long[] {3, 5}, 1);
        Tensor ints = Tensor.fromArray(new int[] {1, 2, 3});
        assertEquals(assertThrows(IllegalArgumentException.class, () -> Functional.crossEntropy(logits, ints)).getMessage(),
                assertThrows(IllegalArgumentException.class, () -> Functional.crossEntropy(logits.cuda(), ints.cuda())).getMessage());
        Tensor shortTarget = Tensor.fromArray(new long[] {1, 2});
        assertEquals(assertThrows(IllegalArgumentException.class, () -> Functional.nllLoss(logits, shortTarget)).getMessage(),
                assertThrows(IllegalArgumentException.class, () -> Functional.nllLoss(logits.cuda(), shortTarget.cuda())).getMessage());
        Tensor badWeight = Tensor.ones(DType.FLOAT64, 4);
        assertEquals(assertThrows(IllegalArgumentException.class,
                        () -> Functional.crossEntropy(logits, Tensor.fromArray(new long[] {0, 1, 2}), badWeight, -100, "mean", 0)).getMessage(),
                assertThrows(IllegalArgumentException.class, () -> Functional.crossEntropy(logits.cuda(),
                        Tensor.fromArray(new long[] {0, 1, 2}).cuda(), badWeight.cuda(), -100, "mean", 0)).getMessage());
        IllegalArgumentException mixed = assertThrows(IllegalArgumentException.class,
                () -> Functional.crossEntropy(logits.cuda(), Tensor.fromArray(new long[] {0, 1, 2})));
        assertEquals("Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!", mixed.getMessage());
    }

    @Test
    void float64GradchecksThroughTheDevice() {
        SplittableRandom r = new SplittableRandom(5);
        Tensor x = NnTesting.leaf(random(r, new long[] {4, 5}, 2));
        Tensor w = Scope.escape(random(r, new long[] {5}, 1).abs().add(0.5));
        Tensor t = Tensor.fromArray(new long[] {1, 4, -100, 0}).cuda();
        Tensor withFour = Tensor.fromArray(new long[] {1, 4, 4, 0}).cuda();
        for (String reduction : new String[] {"none", "sum", "mean"}) {
            GradCheck.check(in -> Functional.crossEntropy(in[0].cuda(), t, w.cuda(), -100, reduction, 0.2).cpu(), x);
            GradCheck.check(in -> Functional.crossEntropy(in[0].cuda(), withFour, null, 4, reduction, 0.3).cpu(), x);
            GradCheck.check(in -> Functional.nllLoss(in[0].cuda(), t, w.cuda(), -100, reduction).cpu(), x);
        }
        Tensor x3 = NnTesting.leaf(random(r, new long[] {2, 3, 4}, 1));
        Tensor t3 = Tensor.fromArray(new long[] {0, 2, 1, -100, 2, 2, 0, 1}).reshape(2, 4).cuda();
        GradCheck.check(in -> Functional.crossEntropy(in[0].cuda(), t3, null, -100, "mean", 0.15).cpu(), x3);
    }
}
