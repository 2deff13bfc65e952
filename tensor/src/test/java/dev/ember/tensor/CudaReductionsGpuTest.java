package dev.ember.tensor;

import static dev.ember.tensor.TestTensors.ALL;
import static dev.ember.tensor.TestTensors.FLOATS;
import static dev.ember.tensor.TestTensors.isFloat;
import static dev.ember.tensor.TestTensors.randomShape;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ember.ffi.Cuda;
import dev.ember.tensor.ReductionsTest.Case;
import dev.ember.tensor.ReductionsTest.Dims;
import dev.ember.tensor.TestTensors.Domain;
import dev.ember.tensor.TestTensors.Layout;
import dev.ember.tensor.TestTensors.Rng;
import dev.ember.tensor.TestTensors.TT;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The reductions of {@link ReductionsTest} (the same case declarations), max/min with indices,
 * argmax/argmin, softmax and logSoftmax (and their fused backward) and cumsum on CUDA tensors:
 * random shapes and layouts (strided device views, expanded, 0-d and zero-size tensors), every
 * dtype the CPU runs, random dims with and without keepdim, compared with the CPU backend on the
 * same inputs (which ReductionsTest and ReductionSoftmaxTest check against float64 references).
 * Shapes large enough for every launch schedule of reduce.cu and softmax.cu run too: long rows,
 * tiles, reductions and scans split across blocks with their finish passes, softmax rows cached
 * in shared memory and rows too long for it. Every result is computed twice and must come out
 * bit for bit the same. Skipped without a CUDA driver and device.
 *
 * <p>The CPU accumulates floats in float64 and the GPU float32 in float32 (as PyTorch's CUDA
 * reductions), so float32 results are compared at 5e-5 of the larger of their magnitude and the
 * case's scale (sum |x| for sums, which may cancel).
 */
@Tag("gpu")
@ExtendWith(TestTensors.Scoped.class)
class CudaReductionsGpuTest {
    private static final int TRIALS = 8;

    @BeforeEach
    void needsCuda() {
        assumeTrue(Cuda.isAvailable(), Cuda::unavailableReason);
    }

    static List<Case> cases() { return ReductionsTest.cases(); }

    // ---------------------------------------------------------------- reductions over dims

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void reductionsMatchTheCpuForEveryDtype(Case c) {
        for (DType type : c.dtypes()) {
            for (int trial = 0; trial < TRIALS; trial++) {
                Rng r = Rng.fresh();
                long[] shape = r.chance(0.25) ? randomShape(r, 2, 40) : randomShape(r, 4, 5);
                Domain domain = isFloat(type) && r.chance(0.3) ? Domain.range(-3, 3) : c.domain();
                TT x = TestTensors.random(r, type, shape, domain);
                int[] dims = c.dims() == Dims.NONE ? new int[0] : ReductionsTest.randomDims(r, shape.length, c.dims() == Dims.ONE);
                boolean keepdim = dims.length > 0 && r.nextBoolean();
                checkReduction(c + " of " + x + " dims=" + Arrays.toString(dims) + " keepdim=" + keepdim + ", " + r, c, x, dims,
                        keepdim);
            }
        }
    }

    /**
     * Long rows (split across blocks, then the finish pass), tiles over many outputs, columns
     * split along r, in contiguous, permuted (copied first) and sliced layouts, over every single
     * dim, every pair and all.
     */
    @Test
    void largeShapesThroughEveryReductionSchedule() {
        long[][] shapes = {{3, 1500}, {300, 37}, {2, 70001}, {70001}, {130, 20, 33}, {129, 1030}, {5, 4000, 3}, {100000, 4},
                {3, 300000}, {20000, 40}};
        List<Case> ops = cases();
        for (long[] shape : shapes) {
            Rng r = Rng.fresh();
            for (Layout layout : new Layout[] {Layout.CONTIGUOUS, Layout.PERMUTED, Layout.SLICED}) {
                for (int[] dims : ReductionsTest.dimChoices(shape.length)) {
                    for (int pick = 0; pick < 3; pick++) {
                        Case c = ops.get(r.nextInt(0, ops.size() - 1));
                        if (c.dims() == Dims.NONE && dims.length > 0 || c.dims() == Dims.ONE && dims.length > 1) continue;
                        DType type = r.chance(0.6) ? DType.FLOAT32 : r.pick(c.dtypes());
                        TT x = TestTensors.random(r, type, shape, layout, c.domain());
                        boolean keepdim = r.nextBoolean();
                        checkReduction(c + " of " + x + " dims=" + Arrays.toString(dims) + ", " + r, c, x, dims, keepdim);
                    }
                }
            }
        }
    }

    /** One output over 2^25 elements: the largest split count the rule gives (2048), then one finish block. */
    @Test
    void oneHugeSumSplitsTheMostAndRepeatsItsBits() {
        Rng r = Rng.fresh();
        TT x = TestTensors.random(r, DType.FLOAT32, new long[] {1L << 25}, Layout.CONTIGUOUS, Domain.plain(-1, 1));
        Tensor device = x.t().cuda();
        double scale = ReductionsTest.sum(ReductionsTest.abs(x.values()));
        Tensor got = device.sum();
        assertMatchesCpu("sum of 2^25, " + r, x.t().sum(), got, new double[] {scale});
        assertSameBits("sum of 2^25, " + r, got, device.sum());
        assertMatchesCpu("max of 2^25, " + r, x.t().max(), device.max(), new double[1]);
        assertEquals(x.t().argmin().itemLong(), device.argmin().itemLong(), "argmin of 2^25, " + r);
    }

    private static void checkReduction(String ctx, Case c, TT x, int[] dims, boolean keepdim) {
        Tensor device = CudaElementwiseGpuTest.onCuda(x);
        Tensor expected;
        try {
            expected = c.op().apply(x.t(), dims, keepdim);
        } catch (RuntimeException e) {
            assertSameFailure(ctx, e, () -> c.op().apply(device, dims, keepdim));
            return;
        }
        Tensor got = c.op().apply(device, dims, keepdim);
        double[][] slices = ReductionsTest.slices(x.values(), x.shape(), ReductionsTest.reducedDims(x.shape(), dims));
        double[] scale = new double[slices.length];
        if (c.scale() != null) for (int i = 0; i < slices.length; i++) scale[i] = c.scale().apply(slices[i]);
        assertMatchesCpu(ctx, expected, got, scale);
        assertSameBits(ctx, got, c.op().apply(device, dims, keepdim));
    }

    // ---------------------------------------------------------------- max/min with indices, argmax/argmin

    @Test
    void extremesWithIndicesAndArgExtremesMatchTheCpu() {
        for (int trial = 0; trial < 200; trial++) {
            Rng r = Rng.fresh();
            DType type = r.pick(ALL);
            long[] shape = r.chance(0.25) ? randomShape(r, 2, 40) : randomShape(r, 4, 5);
            TT x = TestTensors.random(r, type, shape, r.chance(0.5) ? Domain.of(-1, 0, 2, 2) : Domain.range(-3, 3));
            int dim = ReductionSoftmaxTest.randomDim(r, shape.length);
            checkExtremes(x + " dim=" + dim + ", " + r, x, dim, r.nextBoolean());
        }
    }

    /** Ties and NaNs over long rows and split columns: the first extreme wins across blocks and splits too. */
    @Test
    void largeExtremesKeepTheFirstIndex() {
        long[][] shapes = {{2, 70001}, {70001}, {3, 300000}, {100000, 4}, {129, 1030}};
        for (long[] shape : shapes) {
            Rng r = Rng.fresh();
            for (Layout layout : new Layout[] {Layout.CONTIGUOUS, Layout.PERMUTED, Layout.SLICED}) {
                DType type = r.pick(ALL);
                Domain ties = isFloat(type) && r.nextBoolean() ? Domain.of(-1, 0, 3, 3, 2, Double.NaN) : Domain.of(-1, 0, 3, 3, 2);
                TT x = TestTensors.random(r, type, shape, layout, ties);
                for (int dim = 0; dim < shape.length; dim++) checkExtremes(x + " dim=" + dim + ", " + r, x, dim, r.nextBoolean());
            }
        }
    }

    private static void checkExtremes(String ctx, TT x, int dim, boolean keepdim) {
        Tensor device = CudaElementwiseGpuTest.onCuda(x);
        for (boolean max : new boolean[] {true, false}) {
            String name = (max ? "max" : "min") + " of " + ctx + " keepdim=" + keepdim;
            compareOrSameFailure(name, () -> max ? x.t().max(dim, keepdim) : x.t().min(dim, keepdim),
                    () -> max ? device.max(dim, keepdim) : device.min(dim, keepdim), (e, g) -> {
                        assertMatchesCpu(name + ": values", e.values(), g.values(), new double[0]);
                        assertMatchesCpu(name + ": indices", e.indices(), g.indices(), new double[0]);
                    });
            compareOrSameFailure("arg" + name, () -> max ? x.t().argmax(dim, keepdim) : x.t().argmin(dim, keepdim),
                    () -> max ? device.argmax(dim, keepdim) : device.argmin(dim, keepdim),
                    (e, g) -> assertMatchesCpu("arg" + name, e, g, new double[0]));
            compareOrSameFailure("flat arg" + name, () -> max ? x.t().argmax() : x.t().argmin(),
                    () -> max ? device.argmax() : device.argmin(), (e, g) -> assertMatchesCpu("flat arg" + name, e, g, new double[0]));
        }
    }

    // ---------------------------------------------------------------- softmax

    @Test
    void softmaxAndLogSoftmaxMatchTheCpu() {
        for (boolean log : new boolean[] {false, true}) {
            for (int trial = 0; trial < 100; trial++) {
                Rng r = Rng.fresh();
                DType type = r.pick(FLOATS);
                long[] shape = r.chance(0.3) ? randomShape(r, 2, 70) : randomShape(r, 4, 5);
                TT x = TestTensors.random(r, type, shape, r.chance(0.3) ? Domain.range(-8, 8) : Domain.plain(-8, 8));
                int dim = ReductionSoftmaxTest.randomDim(r, shape.length);
                checkSoftmax((log ? "logSoftmax" : "softmax") + " of " + x + " dim=" + dim + ", " + r, x, dim, log);
            }
        }
    }

    /** Tiles, rows per block cached in shared memory, and rows too long to cache (32 KiB), in every float dtype. */
    @Test
    void longRowsAndColumnsOfSoftmax() {
        long[][] shapes = {{4096, 40}, {64, 3000}, {3, 17}, {2, 5, 1031}, {4, 9000}, {2, 20000}, {8, 1025}, {3000, 3}};
        for (long[] shape : shapes) {
            Rng r = Rng.fresh();
            for (Layout layout : new Layout[] {Layout.CONTIGUOUS, Layout.PERMUTED, Layout.SLICED}) {
                DType type = r.chance(0.5) ? DType.FLOAT32 : r.pick(FLOATS);
                TT x = TestTensors.random(r, type, shape, layout, Domain.plain(-20, 20));
                for (boolean log : new boolean[] {false, true}) {
                    for (int dim : new int[] {-1, 0}) {
                        checkSoftmax((log ? "logSoftmax" : "softmax") + " of " + x + " dim=" + dim + ", " + r, x, dim, log);
                    }
                }
            }
        }
    }

    @Test
    void softmaxEdgeCasesAreTheCpus() {
        float inf = Float.POSITIVE_INFINITY;
        float[][] lines = {{-inf, -inf, -inf}, {inf, 1}, {0, -inf}, {1000, 1000}, {Float.NaN, 1, 2}, {3}};
        for (float[] line : lines) {
            Tensor x = Tensor.fromArray(line);
            for (boolean log : new boolean[] {false, true}) {
                String ctx = (log ? "logSoftmax of " : "softmax of ") + Arrays.toString(line);
                Tensor expected = log ? x.logSoftmax(0) : x.softmax(0);
                Tensor got = log ? x.cuda().logSoftmax(0) : x.cuda().softmax(0);
                assertMatchesCpu(ctx, expected, got, new double[0]);
            }
        }
        Tensor scalar = Tensor.scalar(3);
        assertMatchesCpu("softmax of a 0-d tensor", scalar.softmax(0), scalar.cuda().softmax(0), new double[0]);
        assertArrayEquals(new long[] {3, 0}, Tensor.zeros(3, 0).cuda().softmax(1).shape());
    }

    private static void checkSoftmax(String ctx, TT x, int dim, boolean log) {
        Tensor device = CudaElementwiseGpuTest.onCuda(x);
        Tensor expected = log ? x.t().logSoftmax(dim) : x.t().softmax(dim);
        Tensor got = log ? device.logSoftmax(dim) : device.softmax(dim);
        double[] scale = new double[(int) expected.numel()];
        Arrays.fill(scale, log ? 1 : 0);
        assertMatchesCpu(ctx, expected, got, scale);
        assertSameBits(ctx, got, log ? device.logSoftmax(dim) : device.softmax(dim));
    }

    /**
     * The fused backward kernels (what a backward pass without create_graph runs on CUDA) against
     * the backward composed of ops that the CPU runs, for upstream gradients in any layout
     * (expanded ones, as a sum's backward makes, included).
     */
    @Test
    void fusedSoftmaxBackwardMatchesTheComposedOne() {
        for (boolean log : new boolean[] {false, true}) {
            for (int trial = 0; trial < 80; trial++) {
                Rng r = Rng.fresh();
                DType type = r.pick(FLOATS);
                long[] shape = r.chance(0.3) ? new long[] {r.nextInt(1, 4), r.nextInt(1000, 3000)}
                        : r.chance(0.5) ? randomShape(r, 2, 70) : randomShape(r, 4, 5);
                int dim = ReductionSoftmaxTest.randomDim(r, shape.length);
                TT x = TestTensors.random(r, type, shape, Domain.plain(-4, 4));
                TT g = TestTensors.random(r, type, shape, Domain.plain(-3, 3));
                String ctx = (log ? "logSoftmax" : "softmax") + " backward of " + x + " with " + g + " dim=" + dim + ", " + r;
                Tensor y = log ? x.t().logSoftmax(dim) : x.t().softmax(dim);
                Tensor expected = Reductions.softmaxBackward(g.t(), y, dim, log);
                Tensor yDevice = y.cuda(), gDevice = CudaElementwiseGpuTest.onCuda(g);
                Tensor got, again;
                try (var off = Ember.noGrad()) {
                    got = Reductions.softmaxBackward(gDevice, yDevice, dim, log);
                    again = Reductions.softmaxBackward(gDevice, yDevice, dim, log);
                }
                double[] scale = ReductionSoftmaxTest.alongLines(g.values(), shape, dim, line -> {
                    double s = 1;
                    for (double v : line) s += Math.abs(v);
                    double[] out = new double[line.length];
                    Arrays.fill(out, s);
                    return out;
                });
                assertMatchesCpu(ctx, expected, got, scale);
                assertSameBits(ctx, got, again);
            }
        }
    }

    // ---------------------------------------------------------------- cumsum

    @Test
    void cumsumMatchesTheCpuForEveryDtype() {
        for (int trial = 0; trial < 160; trial++) {
            Rng r = Rng.fresh();
            DType type = ALL[trial % ALL.length];
            long[] shape = r.chance(0.3) ? randomShape(r, 2, 70) : randomShape(r, 4, 5);
            TT x = TestTensors.random(r, type, shape, isFloat(type) && r.chance(0.3) ? Domain.range(-3, 3) : Domain.plain(-3, 3));
            int dim = ReductionSoftmaxTest.randomDim(r, shape.length);
            checkCumsum("cumsum of " + x + " dim=" + dim + ", " + r, x, dim);
        }
    }

    /** A block per line, split lines (the three-phase scan), a warp per line and a thread per line. */
    @Test
    void cumsumThroughEveryScanSchedule() {
        long[][] shapes = {{3, 5000}, {2, 100000}, {5000, 3}, {40, 100}, {100, 40, 7}, {1 << 20}, {7, 3, 2100}};
        for (long[] shape : shapes) {
            Rng r = Rng.fresh();
            for (Layout layout : new Layout[] {Layout.CONTIGUOUS, Layout.PERMUTED, Layout.SLICED}) {
                DType type = r.pick(new DType[] {DType.FLOAT32, DType.FLOAT64, DType.INT64, DType.INT32, DType.FLOAT16, DType.BOOL});
                TT x = TestTensors.random(r, type, shape, layout, Domain.plain(-3, 3));
                for (int dim = 0; dim < shape.length; dim++) checkCumsum("cumsum of " + x + " dim=" + dim + ", " + r, x, dim);
            }
        }
    }

    private static void checkCumsum(String ctx, TT x, int dim) {
        Tensor device = CudaElementwiseGpuTest.onCuda(x);
        Tensor expected = x.t().cumsum(dim);
        Tensor got = device.cumsum(dim);
        double[] scale = ReductionSoftmaxTest.alongLines(x.values(), x.shape(), dim, line -> {
            double[] out = new double[line.length];
            double s = 0;
            for (int i = 0; i < line.length; i++) out[i] = s += Math.abs(line[i]);
            return out;
        });
        assertMatchesCpu(ctx, expected, got, scale);
        assertSameBits(ctx, got, device.cumsum(dim));
    }

    // ---------------------------------------------------------------- checks

    /** The checks run before the backends part, so a CUDA tensor gets the CPU's exception and message. */
    @Test
    void badArgumentsGetTheCpusMessages() {
        List<Function<Tensor, Object>> emptyOps = List.of(Tensor::max, Tensor::min, Tensor::argmax, Tensor::argmin);
        for (Function<Tensor, Object> op : emptyOps) sameFailureOnBoth(Tensor.zeros(0), op);
        List<Function<Tensor, Object>> rowOps = List.of(t -> t.max(1), t -> t.min(-1, true), t -> t.argmax(1), t -> t.argmin(1));
        for (Function<Tensor, Object> op : rowOps) sameFailureOnBoth(Tensor.zeros(3, 0), op);
        List<Function<Tensor, Object>> longOps = List.of(Tensor::mean, Tensor::var, Tensor::std, Tensor::norm, t -> t.softmax(0),
                t -> t.logSoftmax(-1));
        for (Function<Tensor, Object> op : longOps) sameFailureOnBoth(Tensor.arange(6), op);
        List<Function<Tensor, Object>> dimOps = List.of(t -> t.sum(2), t -> t.sum(new int[] {1, 1}, false), t -> t.softmax(2),
                t -> t.cumsum(2), t -> t.logsumexp(-3), t -> t.var(new int[] {1, -1}, 1, false));
        for (Function<Tensor, Object> op : dimOps) sameFailureOnBoth(Tensor.zeros(3, 4), op);
        sameFailureOnBoth(Tensor.zeros(DType.INT32, 2, 3), t -> t.softmax(0));
    }

    private static void sameFailureOnBoth(Tensor host, Function<Tensor, Object> op) {
        RuntimeException e = assertThrows(RuntimeException.class, () -> op.apply(host), "the CPU accepted it");
        Tensor device = host.cuda();
        assertSameFailure(e.getMessage(), e, () -> op.apply(device));
    }

    // ---------------------------------------------------------------- comparisons

    private static <T> void compareOrSameFailure(String ctx, Supplier<T> cpu, Supplier<T> gpu, java.util.function.BiConsumer<T, T> compare) {
        T expected;
        try {
            expected = cpu.get();
        } catch (RuntimeException e) {
            assertSameFailure(ctx, e, gpu::get);
            return;
        }
        T got = gpu.get();
        compare.accept(expected, got);
        T again = gpu.get();
        if (got instanceof ValuesIndices a && again instanceof ValuesIndices b) {
            assertSameBits(ctx, a.values(), b.values());
            assertSameBits(ctx, a.indices(), b.indices());
        } else {
            assertSameBits(ctx, (Tensor) got, (Tensor) again);
        }
    }

    private static void assertSameFailure(String ctx, RuntimeException cpu, Supplier<?> gpu) {
        RuntimeException e = assertThrows(RuntimeException.class, gpu::get, ctx + ": the CPU threw " + cpu);
        assertEquals(cpu.getClass(), e.getClass(), ctx);
        assertEquals(cpu.getMessage(), e.getMessage(), ctx);
    }

    /**
     * A CUDA result against the CPU's: dtype, shape, then integers and bool exactly; floats NaN
     * where NaN, infinities exactly, else within the dtype's tolerance of the larger of the CPU
     * value's magnitude and {@code scale[i]} (no scale when the array is shorter).
     */
    static void assertMatchesCpu(String ctx, Tensor expected, Tensor got, double[] scale) {
        assertTrue(got.isCuda(), ctx + ": the result is on " + got.device());
        assertEquals(expected.dtype(), got.dtype(), ctx + ": dtype");
        assertArrayEquals(expected.shape(), got.shape(), ctx + ": shape");
        if (!isFloat(expected.dtype())) {
            assertArrayEquals(expected.toLongArray(), got.toLongArray(), ctx);
            return;
        }
        double[] e = expected.toDoubleArray(), g = got.toDoubleArray();
        double rtol = switch (expected.dtype()) {
            case FLOAT64 -> 1e-10;
            case FLOAT32 -> 5e-5;
            default -> 1e-2;
        };
        double atol = expected.dtype() == DType.FLOAT64 ? 1e-12 : expected.dtype() == DType.FLOAT32 ? 1e-6 : 1e-3;
        for (int i = 0; i < e.length; i++) {
            boolean ok;
            if (Double.isNaN(e[i]) || Double.isNaN(g[i])) ok = Double.isNaN(e[i]) && Double.isNaN(g[i]);
            else if (Double.isInfinite(e[i]) || Double.isInfinite(g[i])) ok = e[i] == g[i];
            else ok = Math.abs(g[i] - e[i]) <= atol + rtol * Math.max(Math.abs(e[i]), i < scale.length ? scale[i] : 0);
            if (!ok) fail(ctx + ": output " + i + " is " + g[i] + " on CUDA, " + e[i] + " on the CPU");
        }
    }

    /** Two runs of one op: the same bits (NaN payloads aside), element by element. */
    static void assertSameBits(String ctx, Tensor first, Tensor second) {
        if (isFloat(first.dtype())) {
            assertArrayEquals(first.toDoubleArray(), second.toDoubleArray(), ctx + ": a second run gave other bits");
        } else {
            assertArrayEquals(first.toLongArray(), second.toLongArray(), ctx + ": a second run gave other values");
        }
    }
}
