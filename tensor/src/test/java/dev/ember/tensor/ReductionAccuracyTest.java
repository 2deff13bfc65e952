package dev.ember.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * float32 sums of 16M elements within 1e-6 (relative) of the float64 sum, and results that do
 * not depend on the thread count: the same bits with one thread and two, every time. (Ops built
 * on exp are left out of the bitwise check: the JIT's vector exp and the interpreter's differ in
 * the last bit, so their results can change once code is compiled.)
 */
@ExtendWith(TestTensors.Scoped.class)
class ReductionAccuracyTest {
    private static final int N = 1 << 24;

    @Test
    void sumOf16MUniformFloats() {
        long seed = System.nanoTime();
        Tensor x = Tensor.rand(new Generator(seed), N);
        assertAccurate("rand, seed=" + seed, x);
    }

    @Test
    void sumOf16MNormalFloats() {
        long seed = System.nanoTime();
        Tensor x = Tensor.randn(new Generator(seed), N);
        assertAccurate("randn, seed=" + seed, x);
    }

    /** sum, mean and the sum over rows and columns of a [4096, 4096] view, each against float64. */
    private static void assertAccurate(String ctx, Tensor x) {
        double[] v = x.toDoubleArray();
        double exact = 0, magnitude = 0;
        for (double d : v) {
            exact += d;
            magnitude += Math.abs(d);
        }
        double sum = x.sum().item();
        assertTrue(Math.abs(sum - exact) <= 1e-6 * Math.abs(exact), ctx + ": sum " + sum + " vs float64 " + exact);
        double mean = x.mean().item();
        assertTrue(Math.abs(mean - exact / N) <= 1e-6 * Math.abs(exact / N), ctx + ": mean " + mean + " vs " + exact / N);
        // the row and column schedules fold 4096 values per output; each output within float32 tolerance
        Tensor m = x.view(4096, 4096);
        checkEach(ctx + " rows", m.sum(1).toDoubleArray(), v, 4096, 1, 4096);
        checkEach(ctx + " columns", m.sum(0).toDoubleArray(), v, 1, 4096, 4096);
        assertTrue(magnitude > 0, ctx);
    }

    private static void checkEach(String ctx, double[] got, double[] v, int outStride, int elemStride, int count) {
        for (int o = 0; o < got.length; o++) {
            double exact = 0, magnitude = 0;
            for (int i = 0; i < count; i++) {
                double d = v[o * outStride + i * elemStride];
                exact += d;
                magnitude += Math.abs(d);
            }
            assertEquals(exact, got[o], 1e-6 * magnitude + 1e-30, ctx + " output " + o);
        }
    }

    @Test
    void deterministicAcrossThreadCounts() {
        int before = Ember.numThreads();
        int most = Math.min(2, Runtime.getRuntime().availableProcessors());
        long seed = System.nanoTime();
        Tensor f32 = Tensor.randn(new Generator(seed), N);
        Tensor f64 = f32.slice(0, 0, N / 4).to(DType.FLOAT64);
        Tensor strided = f32.view(4096, 4096).t();
        try {
            for (UnaryOperator<Tensor> op : java.util.List.<UnaryOperator<Tensor>>of(
                    t -> f32.sum(), t -> f32.mean(), t -> f32.norm(), t -> f64.sum(), t -> strided.sum(),
                    t -> f32.view(4096, 4096).sum(0), t -> f32.view(4096, 4096).var(1), t -> f32.view(4096, 4096).max(1).values())) {
                Ember.setNumThreads(1);
                double[] one = op.apply(null).toDoubleArray();
                Ember.setNumThreads(most);
                double[] two = op.apply(null).toDoubleArray();
                double[] again = op.apply(null).toDoubleArray();
                for (int i = 0; i < one.length; i++) {
                    assertEquals(Double.doubleToRawLongBits(one[i]), Double.doubleToRawLongBits(two[i]), "seed=" + seed + " output " + i);
                    assertEquals(Double.doubleToRawLongBits(two[i]), Double.doubleToRawLongBits(again[i]), "seed=" + seed + " output " + i);
                }
            }
        } finally {
            Ember.setNumThreads(before);
        }
    }
}
