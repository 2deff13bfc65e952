package dev.ember.tensor;

import static dev.ember.tensor.TestTensors.ALL;
import static dev.ember.tensor.TestTensors.FLOATS;
import static dev.ember.tensor.TestTensors.isFloat;
import static dev.ember.tensor.TestTensors.randomShape;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ember.tensor.TestTensors.Domain;
import dev.ember.tensor.TestTensors.Layout;
import dev.ember.tensor.TestTensors.Rng;
import dev.ember.tensor.TestTensors.TT;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every reduction against plain float64 (or exact long) loops written here, on fresh random
 * inputs of random shapes (0-d and zero-size included) in random layouts (permuted, sliced with
 * steps, expanded), for every dtype the op supports, over random dims (negative, several, none
 * meaning all) with and without keepdim. Special values (NaN, inf) appear in a share of the
 * floating inputs, so NaN propagation is checked, never passed over.
 */
@ExtendWith(TestTensors.Scoped.class)
class ReductionsTest {
    private static final int TRIALS = 60;

    /** An Ember reduction over {@code dims} (empty: all). */
    interface Op {
        Tensor apply(Tensor t, int[] dims, boolean keepdim);
    }

    /** A reference over the elements of one output, row-major over the reduced dims. */
    interface Ref {
        double apply(double[] xs);
    }

    /** An exact reference for integer and bool inputs. */
    interface LongRef {
        long apply(long[] xs);
    }

    /** Which dims an op takes: a list, one dim (or none for all), or only all. */
    enum Dims { MANY, ONE, NONE }

    /**
     * @param scale the magnitude the tolerance is relative to (sum |x| for sums, whose result may
     *              cancel to near 0); null for the result's own magnitude
     */
    record Case(String name, Op op, Dims dims, DType[] dtypes, UnaryOperator<DType> result, Ref ref, LongRef exact,
                Ref scale, Domain domain) {
        @Override
        public String toString() { return name; }
    }

    static final UnaryOperator<DType> SAME = t -> t;
    static final UnaryOperator<DType> FLOATING_OR_LONG = t -> isFloat(t) ? t : DType.INT64;
    static final UnaryOperator<DType> TRUTH = t -> t == DType.UINT8 ? DType.UINT8 : DType.BOOL;
    private static final Domain VALUES = Domain.plain(-3, 3);

    static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        c.add(new Case("sum", Tensor::sum, Dims.MANY, ALL, FLOATING_OR_LONG, ReductionsTest::sum,
                xs -> Arrays.stream(xs).sum(), xs -> sum(abs(xs)), VALUES));
        c.add(new Case("mean", Tensor::mean, Dims.MANY, FLOATS, SAME, xs -> sum(xs) / xs.length, null,
                xs -> sum(abs(xs)) / xs.length, VALUES));
        c.add(new Case("prod", (t, d, k) -> d.length == 0 ? t.prod() : t.prod(d[0], k), Dims.ONE, ALL, FLOATING_OR_LONG,
                xs -> { double p = 1; for (double x : xs) p *= x; return p; },
                xs -> { long p = 1; for (long x : xs) p *= x; return p; }, null, Domain.plain(-1.3, 1.3)));
        c.add(new Case("max()", (t, d, k) -> t.max(), Dims.NONE, ALL, SAME, ReductionsTest::max,
                xs -> Arrays.stream(xs).max().orElseThrow(), null, VALUES));
        c.add(new Case("min()", (t, d, k) -> t.min(), Dims.NONE, ALL, SAME, xs -> -max(neg(xs)),
                xs -> Arrays.stream(xs).min().orElseThrow(), null, VALUES));
        c.add(new Case("any", (t, d, k) -> d.length == 0 ? t.any() : t.any(d[0], k), Dims.ONE, ALL, TRUTH,
                xs -> Arrays.stream(xs).anyMatch(x -> x != 0) ? 1 : 0, xs -> Arrays.stream(xs).anyMatch(x -> x != 0) ? 1 : 0,
                null, Domain.of(0, 0, 0, 1, -2.5)));
        c.add(new Case("all", (t, d, k) -> d.length == 0 ? t.all() : t.all(d[0], k), Dims.ONE, ALL, TRUTH,
                xs -> Arrays.stream(xs).allMatch(x -> x != 0) ? 1 : 0, xs -> Arrays.stream(xs).allMatch(x -> x != 0) ? 1 : 0,
                null, Domain.of(0, 1, 1, 1, 1, -2.5)));
        for (double correction : new double[] {1, 0, 2, 0.5}) {
            c.add(new Case("var(correction=" + correction + ")", (t, d, k) -> t.var(d, correction, k), Dims.MANY, FLOATS, SAME,
                    xs -> variance(xs, correction), null, null, VALUES));
            c.add(new Case("std(correction=" + correction + ")", (t, d, k) -> t.std(d, correction, k), Dims.MANY, FLOATS, SAME,
                    xs -> Math.sqrt(variance(xs, correction)), null, null, VALUES));
        }
        for (double p : new double[] {2, 1, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0, 3, 0.5, -1}) {
            c.add(new Case("norm(p=" + p + ")", (t, d, k) -> t.norm(p, d, k), Dims.MANY, FLOATS, SAME, xs -> norm(xs, p),
                    null, null, VALUES));
        }
        c.add(new Case("logsumexp", Tensor::logsumexp, Dims.MANY, ALL, t -> isFloat(t) ? t : DType.FLOAT32,
                ReductionsTest::logsumexp, null, xs -> 1 + Math.abs(logsumexp(xs)), VALUES));
        return c;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesReference(Case c) {
        for (int trial = 0; trial < TRIALS; trial++) {
            Rng r = Rng.fresh();
            DType type = r.pick(c.dtypes());
            long[] shape = r.chance(0.25) ? randomShape(r, 2, 40) : randomShape(r, 4, 5);
            Domain domain = isFloat(type) && r.chance(0.3) ? Domain.range(-3, 3) : c.domain();
            TT x = TestTensors.random(r, type, shape, domain);
            int[] dims = c.dims() == Dims.NONE ? new int[0] : randomDims(r, shape.length, c.dims() == Dims.ONE);
            boolean keepdim = dims.length > 0 && r.nextBoolean();
            String ctx = c + " of " + x + " dims=" + Arrays.toString(dims) + " keepdim=" + keepdim + ", " + r;
            boolean[] reduced = reducedDims(shape, dims);
            if (c.dims() == Dims.NONE && x.values().length == 0) {
                assertThrows(IllegalArgumentException.class, () -> c.op().apply(x.t(), dims, keepdim), ctx);
                continue;
            }
            double[][] slices = slices(x.values(), shape, reduced);
            long[] outShape = outShape(shape, reduced, keepdim);
            DType outType = c.result().apply(type);
            Tensor got = c.op().apply(x.t(), dims, keepdim);
            assertEquals(outType, got.dtype(), ctx + ": dtype");
            assertArrayEquals(outShape, got.shape(), ctx + ": shape");
            if (isFloat(outType)) {
                double[] expected = new double[slices.length], scale = new double[slices.length];
                for (int i = 0; i < slices.length; i++) {
                    expected[i] = c.ref().apply(slices[i]);
                    scale[i] = c.scale() == null ? Math.abs(expected[i]) : c.scale().apply(slices[i]);
                }
                assertClose(ctx, outType, expected, scale, got.toDoubleArray());
            } else {
                long[] expected = new long[slices.length];
                for (int i = 0; i < slices.length; i++) {
                    expected[i] = c.exact() != null && !isFloat(type) ? c.exact().apply(longs(slices[i])) : (long) c.ref().apply(slices[i]);
                }
                assertArrayEquals(expected, got.toLongArray(), ctx);
            }
        }
    }

    /** max/min along a dim: values exactly the extreme element, indices its first position (NaN counting as the extreme). */
    @Test
    void maxAndMinAlongADimWithIndices() {
        for (int trial = 0; trial < 4 * TRIALS; trial++) {
            Rng r = Rng.fresh();
            DType type = r.pick(ALL);
            long[] shape = r.chance(0.25) ? randomShape(r, 2, 40) : randomShape(r, 4, 5);
            boolean max = r.nextBoolean();
            TT x = TestTensors.random(r, type, shape, r.chance(0.5) ? Domain.of(-1, 0, 2, 2) : Domain.range(-3, 3));
            int dim = shape.length == 0 ? r.pick(new Integer[] {0, -1}) : r.nextInt(-shape.length, shape.length - 1);
            boolean keepdim = r.nextBoolean();
            String ctx = (max ? "max" : "min") + " of " + x + " dim=" + dim + " keepdim=" + keepdim + ", " + r;
            int wrapped = shape.length == 0 ? 0 : Math.floorMod(dim, shape.length);
            if (shape.length > 0 && shape[wrapped] == 0) {
                assertThrows(IndexOutOfBoundsException.class, () -> (max ? x.t().max(dim, keepdim) : x.t().min(dim, keepdim)).close(),
                        ctx);
                continue;
            }
            boolean[] reduced = reducedDims(shape, new int[] {dim});
            double[][] slices = slices(x.values(), shape, reduced);
            try (ValuesIndices vi = max ? x.t().max(dim, keepdim) : x.t().min(dim, keepdim)) {
                long[] outShape = outShape(shape, reduced, keepdim);
                assertArrayEquals(outShape, vi.values().shape(), ctx + ": values shape");
                assertArrayEquals(outShape, vi.indices().shape(), ctx + ": indices shape");
                assertEquals(type, vi.values().dtype(), ctx);
                assertEquals(DType.INT64, vi.indices().dtype(), ctx);
                double[] values = vi.values().toDoubleArray();
                long[] indices = vi.indices().toLongArray();
                for (int i = 0; i < slices.length; i++) {
                    int expected = extremeIndex(slices[i], max);
                    assertEquals(expected, indices[i], ctx + ": index of output " + i + " in " + Arrays.toString(slices[i]));
                    assertEquals(slices[i][expected], values[i], 0, ctx + ": value of output " + i);
                }
            }
        }
    }

    @Test
    void argmaxAndArgmin() {
        for (int trial = 0; trial < 4 * TRIALS; trial++) {
            Rng r = Rng.fresh();
            DType type = r.pick(ALL);
            long[] shape = r.chance(0.25) ? randomShape(r, 2, 40) : randomShape(r, 4, 5);
            boolean max = r.nextBoolean(), flat = r.chance(0.3), keepdim = r.nextBoolean();
            TT x = TestTensors.random(r, type, shape, r.chance(0.5) ? Domain.of(-1, 0, 2, 2) : Domain.range(-3, 3));
            int dim = shape.length == 0 ? r.pick(new Integer[] {0, -1}) : r.nextInt(-shape.length, shape.length - 1);
            String ctx = (max ? "argmax" : "argmin") + " of " + x + (flat ? "" : " dim=" + dim) + " keepdim=" + keepdim + ", " + r;
            boolean[] reduced = reducedDims(shape, flat ? new int[0] : new int[] {dim});
            boolean empty = flat ? x.values().length == 0 : shape.length > 0 && shape[Math.floorMod(dim, shape.length)] == 0;
            java.util.function.Supplier<Tensor> call = () -> flat ? (max ? x.t().argmax() : x.t().argmin())
                    : (max ? x.t().argmax(dim, keepdim) : x.t().argmin(dim, keepdim));
            if (empty) {
                assertThrows(IndexOutOfBoundsException.class, call::get, ctx);
                continue;
            }
            Tensor got = call.get();
            assertEquals(DType.INT64, got.dtype(), ctx);
            assertArrayEquals(outShape(shape, reduced, !flat && keepdim), got.shape(), ctx + ": shape");
            double[][] slices = slices(x.values(), shape, reduced);
            long[] expected = new long[slices.length];
            for (int i = 0; i < slices.length; i++) expected[i] = extremeIndex(slices[i], max);
            assertArrayEquals(expected, got.toLongArray(), ctx);
        }
    }

    /**
     * Shapes big enough for every fast path: float32 rows folded with vectors (lengths off the
     * vector width), columns folded across a contiguous kept dim, a single output split into
     * chunks, and the same data transposed or sliced so the strided paths run; six random ops
     * for each layout and choice of dims.
     */
    @Test
    void largeFloat32ThroughEveryPath() {
        long[][] shapes = {{3, 1500}, {300, 37}, {2, 70001}, {70001}, {130, 20, 33}, {129, 1030}, {5, 4000, 3}};
        List<Case> ops = cases().stream().filter(c -> c.dims() == Dims.MANY).toList();
        for (long[] shape : shapes) {
            Rng r = Rng.fresh();
            for (Layout layout : new Layout[] {Layout.CONTIGUOUS, Layout.PERMUTED, Layout.SLICED}) {
                TT x = TestTensors.random(r, DType.FLOAT32, shape, layout, r.chance(0.2) ? Domain.range(-3, 3) : VALUES);
                for (int[] dims : dimChoices(shape.length)) {
                    boolean[] reduced = reducedDims(shape, dims);
                    double[][] slices = slices(x.values(), shape, reduced);
                    for (int pick = 0; pick < 6; pick++) {
                        Case c = ops.get(r.nextInt(0, ops.size() - 1));
                        boolean keepdim = r.nextBoolean();
                        String ctx = c + " of " + x + " dims=" + Arrays.toString(dims) + ", " + r;
                        double[] expected = new double[slices.length], scale = new double[slices.length];
                        for (int i = 0; i < slices.length; i++) {
                            expected[i] = c.ref().apply(slices[i]);
                            scale[i] = c.scale() == null ? Math.abs(expected[i]) : c.scale().apply(slices[i]);
                        }
                        try (Tensor got = c.op().apply(x.t(), dims, keepdim)) {
                            assertArrayEquals(outShape(shape, reduced, keepdim), got.shape(), ctx);
                            assertClose(ctx, DType.FLOAT32, expected, scale, got.toDoubleArray());
                        }
                    }
                }
            }
        }
    }

    /** One output over more elements than one chunk: partials merged in order, for indices, integers and halves too. */
    @Test
    void largeSingleOutputsOfEveryKind() {
        Rng r = Rng.fresh();
        int n = 200_003;
        TT doubles = TestTensors.random(r, DType.FLOAT64, new long[] {n}, Layout.CONTIGUOUS, Domain.of(-1, 0, 3, 3, 2));
        assertEquals(extremeIndex(doubles.values(), true), doubles.t().argmax().itemLong(), "argmax of ties, " + r);
        assertEquals(extremeIndex(doubles.values(), false), doubles.t().argmin().itemLong(), "argmin of ties, " + r);
        TT ints = TestTensors.random(r, DType.INT32, new long[] {3, n}, Layout.SLICED, Domain.plain(-1000, 1000));
        long exact = 0, max = Long.MIN_VALUE;
        for (double v : ints.values()) {
            exact += (long) v;
            max = Math.max(max, (long) v);
        }
        assertEquals(exact, ints.t().sum().itemLong(), "int32 sum, " + r);
        assertEquals(max, ints.t().max().itemLong(), "int32 max, " + r);
        TT halves = TestTensors.random(r, DType.FLOAT16, new long[] {n}, Layout.CONTIGUOUS, Domain.plain(0, 0.5));
        double halfSum = sum(halves.values());
        assertEquals(halfSum, halves.t().sum().item(), 1e-2 * halfSum, "float16 sum, " + r);
        // a NaN in the last chunk still wins, at its index
        Tensor withNan = doubles.t().clone();
        withNan.set(Double.NaN, n - 2);
        assertEquals(n - 2, withNan.argmax().itemLong());
        assertEquals(Double.NaN, withNan.max().item());
    }

    /** Every single dim, every pair, and all. */
    static List<int[]> dimChoices(int rank) {
        List<int[]> out = new ArrayList<>();
        out.add(new int[0]);
        for (int a = 0; a < rank; a++) {
            out.add(new int[] {a});
            for (int b = a + 1; b < rank; b++) out.add(new int[] {b - rank, a});
        }
        return out;
    }

    @Test
    void knownValues() {
        Tensor x = Tensor.fromArray(new float[] {1, 5, 3, 2, 4, 0}, 2, 3);
        assertEquals(15, x.sum().item());
        assertArrayEquals(new double[] {9, 6}, x.sum(1).toDoubleArray());
        assertArrayEquals(new double[] {3, 9, 3}, x.sum(0).toDoubleArray());
        assertArrayEquals(new long[] {2, 1}, x.sum(new int[] {-1}, true).shape());
        assertEquals(2.5, x.mean().item());
        assertEquals(0, x.prod().item());
        assertEquals(5, x.max().item());
        assertEquals(1, x.argmax().itemLong());
        assertArrayEquals(new long[] {0, 2}, x.argmin(1).toLongArray());
        assertEquals(3.5, x.var().item(), 1e-6);
        assertEquals(Math.sqrt(55), x.norm().item(), 1e-5);
        assertEquals(Math.log(Math.exp(1) + Math.exp(5) + Math.exp(3)), x.logsumexp(1).toDoubleArray()[0], 1e-5);
        assertEquals(DType.BOOL, x.any().dtype());
        assertEquals(0, x.all().item());
        Tensor ints = Tensor.fromArray(new int[] {2, 3, 4});
        assertEquals(DType.INT64, ints.sum().dtype());
        assertEquals(24, ints.prod().itemLong());
        Tensor big = Tensor.fromArray(new long[] {Long.MAX_VALUE - 1, Long.MAX_VALUE});
        assertEquals(Long.MAX_VALUE, big.max().itemLong());
        assertEquals((Long.MAX_VALUE - 1) + Long.MAX_VALUE, big.sum().itemLong(), "int64 sums wrap as PyTorch's");
    }

    @Test
    void emptyAndScalarInputs() {
        Tensor empty = Tensor.zeros(3, 0);
        assertArrayEquals(new double[] {0, 0, 0}, empty.sum(1).toDoubleArray());
        assertArrayEquals(new double[] {1, 1, 1}, empty.prod(1).toDoubleArray());
        assertEquals(0, empty.sum().item());
        assertEquals(1, empty.prod().item());
        assertEquals(Double.NaN, empty.mean().item());
        assertEquals(Double.NaN, empty.var().item());
        assertEquals(0, empty.norm(Double.NEGATIVE_INFINITY).item());
        assertEquals(Double.NEGATIVE_INFINITY, empty.logsumexp(new int[] {1}, false).toDoubleArray()[0]);
        assertEquals(0, empty.any().item());
        assertEquals(1, empty.all().item());
        assertArrayEquals(new long[] {3}, Tensor.zeros(0, 3).sum(0).shape());
        assertArrayEquals(new long[] {0}, Tensor.zeros(0, 3).max(1).values().shape());
        Tensor s = Tensor.scalar(5);
        assertEquals(5, s.sum().item());
        assertEquals(0, s.sum(0).dim());
        assertEquals(0, s.sum(-1, true).dim());
        assertEquals(0, s.max(0).indices().itemLong());
        assertEquals(Double.NaN, s.var().item());
        assertEquals(0, s.var(new int[0], 0, false).item());
    }

    @Test
    void nanIsTheExtremeAndPropagates() {
        Tensor x = Tensor.fromArray(new float[] {1, Float.NaN, 3, Float.NaN});
        assertEquals(Double.NaN, x.max().item());
        assertEquals(Double.NaN, x.min().item());
        assertEquals(1, x.argmax().itemLong());
        assertEquals(1, x.argmin().itemLong());
        assertEquals(1, x.max(0).indices().itemLong());
        assertEquals(Double.NaN, x.sum().item());
        assertEquals(1, x.any().item());
        Tensor inf = Tensor.fromArray(new float[] {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY});
        assertEquals(Double.NEGATIVE_INFINITY, inf.logsumexp(0).item());
        Tensor mixed = Tensor.fromArray(new float[] {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY});
        assertEquals(Double.POSITIVE_INFINITY, mixed.logsumexp(0).item());
        // a NaN deep in a long contiguous float32 run, in the vector path, still wins
        float[] longRun = new float[5000];
        for (int i = 0; i < longRun.length; i++) longRun[i] = i % 7;
        longRun[4321] = Float.NaN;
        Tensor v = Tensor.fromArray(longRun, 2, 2500);
        assertArrayEquals(new double[] {6, Double.NaN}, v.max(1).values().toDoubleArray());
        assertArrayEquals(new double[] {6, Double.NaN}, v.norm(Double.POSITIVE_INFINITY, new int[] {1}, false).toDoubleArray());
        assertEquals(Double.NaN, v.max().item());
        assertEquals(Double.NaN, v.min().item());
        assertArrayEquals(new double[] {0, Double.NaN}, v.min(1).values().toDoubleArray());
        assertArrayEquals(new long[] {6, 1821}, v.argmax(1).toLongArray());
    }

    // ---------------------------------------------------------------- references

    static double sum(double[] xs) {
        double s = 0;
        for (double x : xs) s += x;
        return s;
    }

    static double[] abs(double[] xs) {
        return Arrays.stream(xs).map(Math::abs).toArray();
    }

    static double[] neg(double[] xs) {
        return Arrays.stream(xs).map(x -> -x).toArray();
    }

    /** The maximum; NaN if any element is NaN, as PyTorch. */
    static double max(double[] xs) {
        double m = Double.NEGATIVE_INFINITY;
        for (double x : xs) {
            if (Double.isNaN(x)) return Double.NaN;
            m = Math.max(m, x);
        }
        return m;
    }

    static double variance(double[] xs, double correction) {
        double mean = sum(xs) / xs.length, ss = 0;
        for (double x : xs) ss += (x - mean) * (x - mean);
        return ss / Math.max(0, xs.length - correction);
    }

    static double norm(double[] xs, double p) {
        if (xs.length == 0) return 0;
        double[] a = abs(xs);
        if (p == Double.POSITIVE_INFINITY) return max(a);
        if (p == Double.NEGATIVE_INFINITY) return -max(neg(a));
        if (p == 0) return Arrays.stream(xs).filter(x -> x != 0).count();
        double s = 0;
        for (double x : a) s += Math.pow(x, p);
        return Math.pow(s, 1 / p);
    }

    /** log(sum(exp(x - m))) + m with m the maximum, or 0 where that is infinite (PyTorch's formula). */
    static double logsumexp(double[] xs) {
        double m = max(xs);
        if (Double.isInfinite(m)) m = 0;
        double s = 0;
        for (double x : xs) s += Math.exp(x - m);
        return Math.log(s) + m;
    }

    /** The first position of the largest (or smallest) element, a NaN beating every number. */
    static int extremeIndex(double[] xs, boolean max) {
        int best = 0;
        for (int i = 1; i < xs.length; i++) {
            double x = xs[i], b = xs[best];
            if (Double.isNaN(b)) break;
            if (Double.isNaN(x) || (max ? x > b : x < b)) best = i;
        }
        return best;
    }

    static long[] longs(double[] xs) {
        long[] out = new long[xs.length];
        for (int i = 0; i < xs.length; i++) out[i] = (long) xs[i];
        return out;
    }

    // ---------------------------------------------------------------- dims and slices

    /** Random dims: usually a random subset (negated now and then, in random order); with {@code one}, one dim or none. */
    static int[] randomDims(Rng r, int rank, boolean one) {
        if (rank == 0) return r.nextBoolean() ? new int[0] : new int[] {r.nextBoolean() ? 0 : -1};
        if (one) return r.chance(0.2) ? new int[0] : new int[] {r.nextInt(-rank, rank - 1)};
        if (r.chance(0.15)) return new int[0];
        List<Integer> dims = new ArrayList<>();
        for (int d : r.permutation(rank)) if (r.nextBoolean()) dims.add(r.nextBoolean() ? d : d - rank);
        if (dims.isEmpty()) dims.add(r.nextInt(0, rank - 1));
        return dims.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The reduced-dims mask: no dims means all. */
    static boolean[] reducedDims(long[] shape, int[] dims) {
        boolean[] reduced = new boolean[shape.length];
        if (dims.length == 0) Arrays.fill(reduced, true);
        for (int d : dims) if (shape.length > 0) reduced[Math.floorMod(d, shape.length)] = true;
        return reduced;
    }

    static long[] outShape(long[] shape, boolean[] reduced, boolean keepdim) {
        List<Long> out = new ArrayList<>();
        for (int d = 0; d < shape.length; d++) {
            if (!reduced[d]) out.add(shape[d]);
            else if (keepdim) out.add(1L);
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    /**
     * The elements folded into each output (outputs row-major over the kept dims), each list
     * row-major over the reduced dims.
     */
    static double[][] slices(double[] values, long[] shape, boolean[] reduced) {
        long[] kept = outShape(shape, reduced, true);
        int outputs = Math.toIntExact(TestTensors.numel(kept));
        int count = outputs == 0 ? 0 : values.length / outputs;
        if (outputs > 0 && values.length == 0) count = 0;
        double[][] out = new double[outputs][count];
        int[] filled = new int[outputs];
        for (int i = 0; i < values.length; i++) {
            long[] idx = TestTensors.unravel(i, shape);
            long o = 0;
            for (int d = 0; d < shape.length; d++) o = o * kept[d] + (reduced[d] ? 0 : idx[d]);
            out[(int) o][filled[(int) o]++] = values[i];
        }
        return out;
    }

    /**
     * Each value within the dtype's tolerance of the reference rounded to that dtype, relative to
     * the larger of its magnitude and {@code scale}; NaN only where NaN is expected, infinities
     * exactly.
     */
    static void assertClose(String ctx, DType type, double[] expected, double[] scale, double[] got) {
        assertEquals(expected.length, got.length, ctx + ": numel");
        double rtol = TestTensors.rtol(type), atol = TestTensors.atol(type);
        for (int i = 0; i < got.length; i++) {
            double e = TestTensors.roundTo(type, expected[i]), g = got[i];
            boolean ok;
            if (Double.isNaN(e) || Double.isNaN(g)) ok = Double.isNaN(e) && Double.isNaN(g);
            else if (Double.isInfinite(e) || Double.isInfinite(g)) ok = e == g;
            else ok = Math.abs(g - e) <= atol + rtol * Math.max(Math.abs(e), scale[i]);
            if (!ok) fail(ctx + ": output " + i + " expected " + expected[i] + " but got " + g);
        }
    }
}
