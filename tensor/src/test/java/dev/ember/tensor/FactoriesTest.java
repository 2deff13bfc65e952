package dev.ember.tensor;

import static dev.ember.tensor.TestTensors.ALL;
import static dev.ember.tensor.TestTensors.randomShape;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ember.tensor.TestTensors.Rng;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Factories, random generation and fromArray. */
@ExtendWith(TestTensors.Scoped.class)
class FactoriesTest {

    @Test
    void zerosOnesFullEmptyForEveryDtypeAndShape() {
        Rng r = Rng.fresh();
        for (DType t : ALL) {
            for (int trial = 0; trial < 6; trial++) {
                long[] shape = trial == 0 ? new long[0] : trial == 1 ? new long[] {2, 0, 3} : randomShape(r, 4, 6);
                int n = (int) TestTensors.numel(shape);
                String ctx = t + Arrays.toString(shape) + ", " + r;
                double value = r.nextDouble(-100, 100);
                double[] zeros = new double[n], ones = new double[n], full = new double[n];
                Arrays.fill(ones, 1);
                Arrays.fill(full, ElementwiseTest.cast(t, value));
                check(ctx + " zeros", t, shape, zeros, Tensor.zeros(t, shape));
                check(ctx + " ones", t, shape, ones, Tensor.ones(t, shape));
                check(ctx + " full(" + value + ")", t, shape, full, Tensor.full(t, value, shape));
                Tensor e = Tensor.empty(t, shape);
                assertEquals(t, e.dtype(), ctx);
                assertArrayEquals(shape, e.shape(), ctx);
                assertTrue(e.isContiguous(), ctx);
                Tensor like = Tensor.full(t, value, shape);
                check(ctx + " zerosLike", t, shape, zeros, Tensor.zerosLike(like));
                check(ctx + " onesLike", t, shape, ones, Tensor.onesLike(like));
                assertArrayEquals(shape, Tensor.emptyLike(like).shape(), ctx);
            }
        }
        // default dtype is float32
        assertEquals(DType.FLOAT32, Tensor.zeros(2).dtype());
        assertEquals(DType.FLOAT32, Tensor.ones(2).dtype());
        assertEquals(DType.FLOAT32, Tensor.full(3.5, 2).dtype());
        assertEquals(DType.FLOAT32, Tensor.empty(2).dtype());
        assertArrayEquals(new double[] {3.5, 3.5}, Tensor.full(3.5, 2).toDoubleArray());
        Tensor s = Tensor.scalar(2.5);
        assertEquals(0, s.dim());
        assertEquals(DType.FLOAT32, s.dtype());
        assertEquals(2.5, s.item());
        assertEquals(DType.INT32, Tensor.scalar(DType.INT32, 7).dtype());
        assertEquals(7, Tensor.scalar(DType.INT32, 7.9).itemLong(), "full truncates into integer dtypes");
    }

    private static void check(String ctx, DType t, long[] shape, double[] want, Tensor got) {
        TestTensors.assertTensor(ctx, t, shape, want, got);
        assertTrue(got.isContiguous(), ctx + ": contiguous");
        assertEquals(0, got.storageOffset(), ctx);
    }

    @Test
    void arangeWithIntegers() {
        Rng r = Rng.fresh();
        for (int trial = 0; trial < 200; trial++) {
            long start = r.nextLong(-20, 20), step = r.nextLong(1, 5) * (r.nextBoolean() ? 1 : -1);
            long end = start + step * r.nextLong(0, 10) + (r.nextBoolean() ? 0 : Long.signum(step) * r.nextLong(0, Math.abs(step) - 1));
            java.util.List<Long> want = new java.util.ArrayList<>();
            for (long v = start; step > 0 ? v < end : v > end; v += step) want.add(v);
            Tensor t = Tensor.arange(start, end, step);
            String ctx = "arange(" + start + ", " + end + ", " + step + "), " + r;
            assertEquals(DType.INT64, t.dtype(), ctx);
            assertArrayEquals(want.stream().mapToLong(Long::longValue).toArray(), t.toLongArray(), ctx);
        }
        assertArrayEquals(new long[] {0, 1, 2, 3, 4}, Tensor.arange(5).toLongArray());
        assertArrayEquals(new long[] {2, 3, 4}, Tensor.arange(2, 5).toLongArray());
        assertArrayEquals(new long[0], Tensor.arange(0).toLongArray());
        assertArrayEquals(new long[0], Tensor.arange(3, 3).toLongArray());
        assertArrayEquals(new long[] {10, 7, 4, 1}, Tensor.arange(10, 0, -3).toLongArray());
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.arange(0, 10, 0));
        assertEquals("step must be nonzero", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.arange(10, 0, 1));
        assertEquals("upper bound and larger bound inconsistent with step sign", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.arange(-1));
    }

    @Test
    void arangeWithDoubles() {
        // torch.arange(0., 1., 0.3) == [0.0, 0.3, 0.6, 0.9]; float32
        Tensor a = Tensor.arange(0.0, 1.0, 0.3);
        assertEquals(DType.FLOAT32, a.dtype());
        assertArrayEquals(new float[] {0f, 0.3f, 0.6f, 0.90000004f}, a.toFloatArray(), 1e-7f);
        assertArrayEquals(new float[] {1f, 0.75f, 0.5f, 0.25f}, Tensor.arange(1.0, 0.0, -0.25).toFloatArray());
        assertEquals(10, Tensor.arange(0.0, 1.0, 0.1).numel(), "ceil((end - start) / step)");
        assertEquals(0, Tensor.arange(2.0, 2.0, 0.5).numel());
        assertEquals(3, Tensor.arange(0.5, 2.0, 0.5).numel());
        Rng r = Rng.fresh();
        for (int trial = 0; trial < 50; trial++) {
            double start = r.nextDouble(-5, 5), step = r.nextDouble(0.05, 2) * (r.nextBoolean() ? 1 : -1);
            double end = start + step * r.nextDouble(0, 30);
            long n = (long) Math.ceil((end - start) / step);
            Tensor t = Tensor.arange(start, end, step);
            String ctx = "arange(" + start + ", " + end + ", " + step + "), " + r;
            assertEquals(n, t.numel(), ctx);
            double[] v = t.toDoubleArray();
            for (int i = 0; i < n; i++) assertEquals((float) (start + i * step), v[i], 1e-5 * (1 + Math.abs(v[i])), ctx + " at " + i);
        }
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.arange(0.0, 1.0, 0.0));
        assertEquals("step must be nonzero", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.arange(1.0, 0.0, 0.5));
        assertEquals("upper bound and larger bound inconsistent with step sign", e.getMessage());
    }

    @Test
    void linspaceEndpointsAreExact() {
        Rng r = Rng.fresh();
        for (int trial = 0; trial < 100; trial++) {
            double start = r.nextDouble(-100, 100), end = r.nextDouble(-100, 100);
            int steps = r.nextInt(2, 300);
            Tensor t = Tensor.linspace(start, end, steps);
            String ctx = "linspace(" + start + ", " + end + ", " + steps + "), " + r;
            assertEquals(DType.FLOAT32, t.dtype(), ctx);
            float[] v = t.toFloatArray();
            assertEquals(steps, v.length, ctx);
            assertEquals((float) start, v[0], 0, ctx + ": first is start");
            assertEquals((float) end, v[steps - 1], 0, ctx + ": last is end");
            double step = (end - start) / (steps - 1);
            for (int i = 0; i < steps; i++) assertEquals(start + i * step, v[i], 1e-5 * (1 + Math.abs(start) + Math.abs(end)), ctx + " at " + i);
        }
        // torch.linspace(0, 10, 1) == [0.], torch.linspace(0, 10, 0) is empty
        assertArrayEquals(new float[] {0f}, Tensor.linspace(0, 10, 1).toFloatArray());
        assertEquals(0, Tensor.linspace(0, 10, 0).numel());
        assertArrayEquals(new float[] {-1f, -0.5f, 0f, 0.5f, 1f}, Tensor.linspace(-1, 1, 5).toFloatArray());
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.linspace(0, 1, -1));
        assertEquals("number of steps must be non-negative", e.getMessage());
    }

    @Test
    void eye() {
        for (int n = 0; n < 5; n++) {
            for (int m = 0; m < 5; m++) {
                double[] want = new double[n * m];
                for (int i = 0; i < Math.min(n, m); i++) want[i * m + i] = 1;
                TestTensors.assertTensor("eye(" + n + ", " + m + ")", DType.FLOAT32, new long[] {n, m}, want, Tensor.eye(n, m));
            }
            TestTensors.assertTensor("eye(" + n + ")", DType.FLOAT32, new long[] {n, n}, Tensor.eye(n, n).toDoubleArray(), Tensor.eye(n));
        }
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.eye(-1));
        assertEquals("n must be greater or equal to 0, got -1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.eye(2, -3));
        assertEquals("m must be greater or equal to 0, got -3", e.getMessage());
    }

    @Test
    void randIsUniformInTheHalfOpenUnitInterval() {
        Tensor t = Tensor.rand(100_000);
        assertEquals(DType.FLOAT32, t.dtype());
        double[] v = t.toDoubleArray();
        double sum = 0, sq = 0;
        int[] bins = new int[10];
        for (double x : v) {
            assertTrue(x >= 0 && x < 1, "rand gives [0, 1): " + x);
            sum += x;
            sq += x * x;
            bins[(int) (x * 10)]++;
        }
        double mean = sum / v.length, var = sq / v.length - mean * mean;
        assertEquals(0.5, mean, 0.01, "mean");
        assertEquals(1.0 / 12, var, 0.005, "variance");
        for (int b : bins) assertEquals(10_000, b, 600, "bins of a uniform histogram " + Arrays.toString(bins));
        assertArrayEquals(new long[] {2, 0, 3}, Tensor.rand(2, 0, 3).shape());
        assertEquals(0, Tensor.rand().dim(), "no shape: a 0-d tensor");
    }

    @Test
    void randnIsStandardNormal() {
        Tensor t = Tensor.randn(100_000);
        assertEquals(DType.FLOAT32, t.dtype());
        double[] v = t.toDoubleArray();
        double sum = 0, sq = 0;
        int within1 = 0;
        for (double x : v) {
            assertTrue(Double.isFinite(x));
            sum += x;
            sq += x * x;
            if (Math.abs(x) < 1) within1++;
        }
        double mean = sum / v.length, std = Math.sqrt(sq / v.length - mean * mean);
        assertEquals(0, mean, 0.02, "mean");
        assertEquals(1, std, 0.02, "std");
        assertEquals(0.6827, within1 / (double) v.length, 0.01, "share within one sigma");
    }

    @Test
    void randintRangeAndDtype() {
        Tensor t = Tensor.randint(-3, 4, 10_000);
        assertEquals(DType.INT64, t.dtype());
        boolean[] seen = new boolean[7];
        for (long x : t.toLongArray()) {
            assertTrue(x >= -3 && x < 4, "randint in [low, high): " + x);
            seen[(int) (x + 3)] = true;
        }
        for (boolean s : seen) assertTrue(s, "every value in range is drawn");
        assertArrayEquals(new long[] {2, 3}, Tensor.randint(0, 2, 2, 3).shape());
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.randint(5, 5, 2));
        assertEquals("random_ expects 'from' to be less than 'to', but got from=5 >= to=5", e.getMessage());
    }

    @Test
    void generatorsAreReproducible() {
        long seed = Rng.fresh().seed;
        Generator g1 = new Generator(seed), g2 = new Generator(seed), g3 = new Generator(seed + 1);
        assertArrayEquals(Tensor.rand(g1, 50).toFloatArray(), Tensor.rand(g2, 50).toFloatArray(), "same seed, same rand");
        assertArrayEquals(Tensor.randn(g1, 3, 7).toFloatArray(), Tensor.randn(g2, 3, 7).toFloatArray(), "same seed, same randn");
        assertArrayEquals(Tensor.randint(g1, 0, 1000, 64).toLongArray(), Tensor.randint(g2, 0, 1000, 64).toLongArray());
        assertFalse(Arrays.equals(Tensor.rand(g1, 50).toFloatArray(), Tensor.rand(g3, 50).toFloatArray()), "different seeds differ");
        assertFalse(Arrays.equals(Tensor.rand(g1, 50).toFloatArray(), Tensor.rand(g1, 50).toFloatArray()), "the stream moves on");
        g1.manualSeed(seed);
        Generator g4 = new Generator(seed);
        assertArrayEquals(Tensor.randn(g4, 20).toFloatArray(), Tensor.randn(g1, 20).toFloatArray(), "manualSeed restarts the stream");
        Ember.manualSeed(seed);
        float[] a = Tensor.rand(30).toFloatArray();
        Ember.manualSeed(seed);
        assertArrayEquals(a, Tensor.rand(30).toFloatArray(), "Ember.manualSeed reseeds the default generator");
        Ember.manualSeed(seed + 1);
        assertNotEquals(Arrays.toString(a), Arrays.toString(Tensor.rand(30).toFloatArray()));
    }

    @Test
    void fromArrayForEveryJavaArrayType() {
        Tensor f = Tensor.fromArray(new float[] {1.5f, -2, 3, 4, 5, 6}, 2, 3);
        assertEquals(DType.FLOAT32, f.dtype());
        assertArrayEquals(new long[] {2, 3}, f.shape());
        assertEquals(6.0, f.get(1, 2));
        Tensor d = Tensor.fromArray(new double[] {0.1, 0.2});
        assertEquals(DType.FLOAT64, d.dtype());
        assertArrayEquals(new long[] {2}, d.shape(), "no shape: 1-D");
        assertArrayEquals(new double[] {0.1, 0.2}, d.toDoubleArray());
        Tensor i = Tensor.fromArray(new int[] {1, -2, Integer.MAX_VALUE}, 3, 1);
        assertEquals(DType.INT32, i.dtype());
        assertArrayEquals(new int[] {1, -2, Integer.MAX_VALUE}, i.toIntArray());
        Tensor l = Tensor.fromArray(new long[] {Long.MIN_VALUE, 7});
        assertEquals(DType.INT64, l.dtype());
        assertArrayEquals(new long[] {Long.MIN_VALUE, 7}, l.toLongArray());
        Tensor u = Tensor.fromArray(new byte[] {(byte) 255, 0, 7});
        assertEquals(DType.UINT8, u.dtype());
        assertArrayEquals(new long[] {255, 0, 7}, u.toLongArray(), "bytes read as unsigned");
        Tensor b = Tensor.fromArray(new boolean[] {true, false, true, true}, 2, 2);
        assertEquals(DType.BOOL, b.dtype());
        assertArrayEquals(new boolean[] {true, false, true, true}, b.toBooleanArray());
        Tensor m = Tensor.fromArray(new float[][] {{1, 2, 3}, {4, 5, 6}});
        assertArrayEquals(new long[] {2, 3}, m.shape());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, m.toFloatArray());
        assertArrayEquals(new long[] {0}, Tensor.fromArray(new float[0]).shape());
        assertArrayEquals(new long[] {2, 0}, Tensor.fromArray(new float[0], 2, 0).shape());
        // the tensor owns a copy
        float[] src = {1, 2};
        Tensor c = Tensor.fromArray(src);
        src[0] = 9;
        assertEquals(1.0, c.get(0));

        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.fromArray(new float[] {1, 2, 3}, 2, 2));
        assertTrue(e.getMessage().contains("[2, 2]") && e.getMessage().contains("3"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.fromArray(new long[] {1, 2}, 3));
        assertThrows(IllegalArgumentException.class, () -> Tensor.fromArray(new boolean[] {true}, 2));
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.fromArray(new float[] {1, 2}, -1, -2));
        assertTrue(e.getMessage().contains("negative dimension"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.fromArray(new float[][] {{1, 2}, {3}}));
        assertEquals("expected sequence of length 2 at dim 1 (got 1)", e.getMessage());
    }
}
