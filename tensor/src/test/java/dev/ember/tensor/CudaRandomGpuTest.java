package dev.ember.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ember.ffi.Cuda;
import dev.ember.memory.Device;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Random numbers and dropout on CUDA (random.cu's Philox kernels): reproducible by seed, each
 * call drawing fresh numbers, independent of the launch (a shorter draw is a prefix of a longer
 * one), and statistically right over a million draws (bounds of many standard errors, so a
 * correct generator never fails them while a wrong conversion or a reused counter does).
 * Dropout keeps about 1 - p, scales by 1/(1-p) exactly as the kernel's arithmetic does, and its
 * gradient is the mask times the scale. Skipped without a CUDA driver and device.
 */
@Tag("gpu")
@ExtendWith(TestTensors.Scoped.class)
class CudaRandomGpuTest {
    private static final int N = 1 << 20;
    private static final Device CUDA = Device.cuda();

    @BeforeEach
    void needsCuda() {
        assumeTrue(Cuda.isAvailable(), Cuda::unavailableReason);
    }

    // ---------------------------------------------------------------- reproducibility

    @Test
    void aSeedReproducesTheNumbersAndEachCallDrawsNewOnes() {
        Generator a = new Generator(42), b = new Generator(42);
        float[] first = Tensor.rand(a, CUDA, 1000).cpu().toFloatArray();
        assertTrue(Tensor.rand(a, CUDA, 1000).isCuda());
        assertArrayEquals(first, Tensor.rand(b, CUDA, 1000).toFloatArray(), "same seed, same numbers");
        float[] second = Tensor.rand(b, CUDA, 1000).toFloatArray();
        assertFalse(Arrays.equals(first, second), "the next call draws new numbers");
        b.manualSeed(42);
        assertArrayEquals(first, Tensor.rand(b, CUDA, 1000).toFloatArray(), "reseeding starts over");
        assertFalse(Arrays.equals(first, Tensor.rand(new Generator(43), CUDA, 1000).toFloatArray()), "another seed");

        Ember.manualSeed(7);
        float[] n1 = Tensor.randn(CUDA, 4, 5).toFloatArray();
        Ember.manualSeed(7);
        assertArrayEquals(n1, Tensor.randn(CUDA, 4, 5).toFloatArray(), "Ember.manualSeed reseeds the device stream");
        assertArrayEquals(new long[] {4, 5}, Tensor.randn(CUDA, 4, 5).shape());
    }

    @Test
    void aValueDependsOnlyOnTheSeedTheCallAndItsPosition() {
        float[] shortDraw = Tensor.rand(new Generator(5), CUDA, 10).toFloatArray();
        float[] longDraw = Tensor.rand(new Generator(5), CUDA, 10_001).toFloatArray();
        assertArrayEquals(shortDraw, Arrays.copyOf(longDraw, 10), "a shorter draw is a prefix of a longer one");
        assertArrayEquals(longDraw, Tensor.rand(new Generator(5), CUDA, 73, 137, 1).flatten().toFloatArray(), "shape is layout only");
        float[] normal = Tensor.randn(new Generator(5), CUDA, 10_001).toFloatArray();
        assertArrayEquals(Arrays.copyOf(normal, 7), Tensor.randn(new Generator(5), CUDA, 7).toFloatArray());

        // host draws leave the device's stream where it was: every device keeps its own offset
        Generator g = new Generator(5);
        Tensor.rand(g, 100);
        Tensor.randn(g, Device.cpu(), 100);
        assertArrayEquals(shortDraw, Tensor.rand(g, CUDA, 10).toFloatArray());
        assertArrayEquals(new long[] {0, 3}, Tensor.rand(g, CUDA, 0, 3).shape());
    }

    // ---------------------------------------------------------------- distributions

    @Test
    void randIsUniformOnTheUnitInterval() {
        double[] v = Tensor.rand(new Generator(1), CUDA, N).toDoubleArray();
        Moments m = Moments.of(v);
        assertTrue(m.min >= 0 && m.max < 1, "range [" + m.min + ", " + m.max + "]");
        assertEquals(0.5, m.mean, 0.002, "mean"); // standard error 2.8e-4
        assertEquals(1.0 / 12, m.variance, 0.001, "variance"); // standard error 7.5e-5
        int[] bins = new int[10];
        for (double x : v) bins[(int) (x * 10)]++;
        for (int b = 0; b < 10; b++) assertEquals(N / 10.0, bins[b], 2000, "decile " + b); // standard deviation 307
    }

    @Test
    void randnIsStandardNormal() {
        double[] v = Tensor.randn(new Generator(2), CUDA, N).toDoubleArray();
        Moments m = Moments.of(v);
        assertTrue(Double.isFinite(m.min) && Double.isFinite(m.max), "finite");
        assertEquals(0, m.mean, 0.006, "mean"); // standard error 1e-3
        assertEquals(1, m.variance, 0.01, "variance"); // standard error 1.4e-3
        long inOneSigma = Arrays.stream(v).filter(x -> Math.abs(x) < 1).count();
        assertEquals(0.682689, inOneSigma / (double) N, 0.003, "within one standard deviation"); // standard error 4.6e-4
    }

    @Test
    void everyFloatingDtypeHasUniformAndNormalKernels() {
        Generator g = new Generator(3);
        for (DType t : TestTensors.FLOATS) {
            boolean half = t == DType.FLOAT16 || t == DType.BFLOAT16;
            try (Tensor u = Tensor.empty(CUDA, t, N); Tensor z = Tensor.empty(CUDA, t, N + 3)) {
                CudaRandom.uniform(u, -2, 3, g);
                Moments mu = Moments.of(u.toDoubleArray());
                assertTrue(mu.min >= -2 && mu.max < 3, t + " range [" + mu.min + ", " + mu.max + "]");
                assertEquals(0.5, mu.mean, half ? 0.03 : 0.01, t + " uniform mean");
                assertEquals(25.0 / 12, mu.variance, half ? 0.05 : 0.02, t + " uniform variance");
                CudaRandom.normal(z, 1.5, 2, g);
                Moments mz = Moments.of(z.toDoubleArray());
                assertEquals(1.5, mz.mean, half ? 0.03 : 0.012, t + " normal mean");
                assertEquals(4, mz.variance, half ? 0.08 : 0.04, t + " normal variance");
            }
        }
    }

    // ---------------------------------------------------------------- dropout

    @Test
    void dropoutKeepsAboutOneMinusPAndScalesTheRest() {
        double p = 0.3;
        Tensor x = Tensor.randn(new Generator(4), CUDA, N);
        Tensor y = NeuralOps.dropout(x, p, true, new Generator(9));
        assertTrue(y.isCuda());
        float[] xs = x.toFloatArray(), ys = y.toFloatArray();
        float scale = (float) (1 / (1 - p));
        long kept = 0;
        for (int i = 0; i < N; i++) {
            if (ys[i] == 0) continue;
            kept++;
            assertEquals(xs[i] * scale, ys[i], "element " + i + ": in * mask * scale in float, as the kernel");
        }
        assertEquals(1 - p, kept / (double) N, 0.003, "kept fraction"); // standard error 4.5e-4
        assertArrayEquals(ys, NeuralOps.dropout(x, p, true, new Generator(9)).toFloatArray(), "reproducible by seed");

        assertArrayEquals(xs, NeuralOps.dropout(x, p, false, new Generator(9)).toFloatArray(), "identity when evaluating");
        assertArrayEquals(xs, NeuralOps.dropout(x, 0, true, new Generator(9)).toFloatArray(), "identity for p = 0");
        float[] none = NeuralOps.dropout(x, 1, true, new Generator(9)).toFloatArray();
        for (float v : none) assertEquals(0, v, 0, "nothing kept for p = 1");
    }

    @Test
    void dropoutRunsInEveryFloatingDtypeAndOnIntegersThroughTheGeneralPath() {
        for (DType t : TestTensors.FLOATS) {
            Tensor y = NeuralOps.dropout(Tensor.ones(t, 3, 1000).cuda(), 0.5, true, new Generator(1));
            assertEquals(t, y.dtype());
            double[] v = y.toDoubleArray();
            long kept = Arrays.stream(v).filter(e -> e != 0).count();
            assertTrue(Arrays.stream(v).allMatch(e -> e == 0 || e == 2), t + ": values 0 or 1 / (1 - p)");
            assertEquals(0.5, kept / 3000.0, 0.06, t + " kept fraction");
        }
        Tensor ints = NeuralOps.dropout(Tensor.ones(DType.INT32, 1000).cuda(), 0.5, true, new Generator(1));
        assertTrue(ints.isCuda());
        assertTrue(Arrays.stream(ints.toDoubleArray()).allMatch(e -> e == 0 || e == 2));
    }

    @Test
    void dropoutsGradientIsTheMaskTimesTheScale() {
        double p = 0.25;
        Tensor x = Tensor.randn(new Generator(6), CUDA, 50, 40).requiresGrad_();
        Tensor y = NeuralOps.dropout(x, p, true, new Generator(8));
        assertEquals("NativeDropoutBackward0", y.gradFn().name());
        Tensor g = Tensor.randn(new Generator(7), CUDA, 50, 40);
        float[] ys = y.toFloatArray(), gs = g.toFloatArray();
        float scale = (float) (1 / (1 - p));
        float[] expected = new float[ys.length];
        // grad * mask * scale, as PyTorch computes it: a dropped negative gradient gives -0.0
        for (int i = 0; i < ys.length; i++) expected[i] = gs[i] * (ys[i] != 0 ? 1f : 0f) * scale;
        Tensor fused;
        try (var off = Ember.noGrad()) { // what backward() runs: the fused kernel
            fused = y.gradFn().apply(g)[0];
        }
        assertTrue(fused.isCuda());
        assertArrayEquals(expected, fused.toFloatArray());
        // with grad mode on (create_graph) the same gradient comes from differentiable ops
        assertArrayEquals(expected, y.gradFn().apply(g.t().contiguous().t())[0].toFloatArray(), 1e-6f);
        try (var off = Ember.noGrad()) {
            assertArrayEquals(expected, y.gradFn().apply(g.t().contiguous().t())[0].toFloatArray(), "a strided incoming gradient");
        }
    }

    /** min, max, mean and (population) variance of a sample. */
    private record Moments(double min, double max, double mean, double variance) {
        static Moments of(double[] v) {
            double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY, sum = 0;
            for (double x : v) {
                min = Math.min(min, x);
                max = Math.max(max, x);
                sum += x;
            }
            double mean = sum / v.length, sq = 0;
            for (double x : v) sq += (x - mean) * (x - mean);
            return new Moments(min, max, mean, sq / v.length);
        }
    }
}
