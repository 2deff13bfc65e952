package dev.ember.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * gather, scatter, index_select, masked_fill and one_hot against plain Java references, on fresh
 * random inputs of random shapes and layouts, for every dtype; then each bad input.
 */
class IndexingTest {
    private static final int TRIALS = 12;

    private Scope scope;
    private long liveBefore;
    private Fixtures f;

    @BeforeEach
    void open() {
        liveBefore = Ember.liveBytes();
        scope = Ember.scope();
        f = new Fixtures();
    }

    /**
     * Everything made in a test is closed with its scope, so an op that leaked a temporary shows
     * here (as more live bytes: the Cleaner may free others' leaks meanwhile, never add bytes).
     */
    @AfterEach
    void close() {
        scope.close();
        assertTrue(Ember.liveBytes() <= liveBefore, "off-heap bytes left after the test's scope closed");
    }

    // ---------------------------------------------------------------- gather

    @Test
    void gatherMatchesReference() {
        for (DType type : DType.values()) {
            for (int trial = 0; trial < TRIALS; trial++) {
                Fixtures.Gather c = f.gather(type);
                int rank = c.self().dim();
                Tensor out = c.self().gather(c.dim() - (f.rnd.nextBoolean() ? rank : 0), c.index());
                f.assertTensor(type, c.index().shape(), gather(c.self(), c.dim(), c.index()), out, "gather dim " + c.dim());
            }
        }
    }

    @Test
    void gatherOverTheLastDimOfALargeTensor() {
        Tensor self = f.tensor(DType.FLOAT32, Fixtures.Layout.CONTIGUOUS, 300, 200);
        Tensor index = f.index(200, Fixtures.Layout.CONTIGUOUS, 300, 150);
        f.assertTensor(DType.FLOAT32, new long[] {300, 150}, gather(self, 1, index), self.gather(-1, index), "large gather");
    }

    @Test
    void gatherOnZeroDimTensors() {
        Tensor self = Tensor.scalar(DType.INT32, 7);
        assertEquals(7, self.gather(0, Fixtures.scalarIndex(0)).item());
        assertArrayEquals(new long[] {0}, self.gather(0, Tensor.fromArray(new long[0])).shape());
        Tensor one = Tensor.fromArray(new double[] {2.5});
        Tensor out = one.gather(0, Fixtures.scalarIndex(0));
        assertEquals(0, out.dim());
        assertEquals(2.5, out.item());
    }

    /** out[p] = self[p with p[dim] = index[p]]. */
    private static double[] gather(Tensor self, int dim, Tensor index) {
        double[] x = self.toDoubleArray();
        long[] idx = index.toLongArray();
        double[] out = new double[idx.length];
        for (int p = 0; p < idx.length; p++) {
            long[] at = Fixtures.unravel(p, index.shape());
            at[dim] = idx[p];
            out[p] = x[Fixtures.ravel(at, self.shape())];
        }
        return out;
    }

    // ---------------------------------------------------------------- scatter

    @Test
    void scatterMatchesReference() {
        for (DType type : DType.values()) {
            for (int trial = 0; trial < TRIALS; trial++) {
                long[] selfShape = f.shape(1 + f.rnd.nextInt(4), 4);
                int dim = f.rnd.nextInt(selfShape.length);
                long[] indexShape = f.indexShape(selfShape, dim);
                Tensor self = f.writableTensor(type, selfShape);
                Tensor index = f.index(selfShape[dim], indexShape);
                Tensor src = f.tensor(type, f.srcShape(indexShape));
                double[] expected = scatter(self, dim, index, src.toDoubleArray(), src.shape());
                String what = "scatter dim " + dim;

                double[] before = self.toDoubleArray();
                Tensor copy = self.scatter(dim, index, src);
                f.assertTensor(type, selfShape, expected, copy, what);
                assertArrayEquals(before, self.toDoubleArray(), f.msg(what + ": out-of-place changed self"));

                int version = self.version();
                assertSame(self, self.scatter_(dim, index, src));
                f.assertTensor(type, selfShape, expected, self, what + " in place");
                assertTrue(self.version() > version, f.msg("scatter_ bumps the version"));
            }
        }
    }

    @Test
    void scatterValueMatchesReference() {
        for (DType type : DType.values()) {
            for (int trial = 0; trial < TRIALS; trial++) {
                long[] selfShape = f.shape(1 + f.rnd.nextInt(3), 4);
                int dim = f.rnd.nextInt(selfShape.length);
                long[] indexShape = f.indexShape(selfShape, dim);
                Tensor self = f.writableTensor(type, selfShape);
                Tensor index = f.index(selfShape[dim], indexShape);
                double value = f.value(type);
                double[] expected = scatter(self, dim, index, new double[] {value}, new long[0]);
                f.assertTensor(type, selfShape, expected, self.scatter(dim, index, value), "scatter value");
                f.assertTensor(type, selfShape, expected, self.scatter_(dim, index, value), "scatter_ value");
            }
        }
    }

    @Test
    void scatterWithDuplicateIndicesKeepsTheLastWrite() {
        Tensor self = Tensor.zeros(2, 3);
        Tensor index = Tensor.fromArray(new long[] {1, 1, 1, 0, 2, 0}, 2, 3);
        Tensor src = Tensor.fromArray(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertArrayEquals(new double[] {0, 3, 0, 6, 0, 5}, self.scatter(1, index, src).toDoubleArray());
    }

    @Test
    void scatterInPlaceReadsAnIndexThatAliasesItsTarget() {
        // self's own values are the indices: they must be read as they were before any write
        Tensor self = Tensor.fromArray(new long[] {2, 0, 1, 2});
        long[] idx = self.toLongArray();
        Tensor index = self.narrow(0, 0, 3);
        Tensor src = Tensor.fromArray(new long[] {9, 8, 7});
        long[] expected = idx.clone();
        for (int i = 0; i < 3; i++) expected[(int) idx[i]] = 9 - i;
        self.scatter_(0, index, src);
        assertArrayEquals(expected, self.toLongArray());
    }

    @Test
    void scatterOnZeroDimTensors() {
        Tensor self = Tensor.scalar(1);
        assertEquals(5, self.scatter(0, Fixtures.scalarIndex(0), 5).item());
        assertEquals(3, self.scatter(0, Tensor.fromArray(new long[] {0}), Tensor.fromArray(new float[] {3})).item());
    }

    /** self with src[p] written at p with p[dim] = index[p], in row-major order; src may be one broadcast value. */
    private static double[] scatter(Tensor self, int dim, Tensor index, double[] src, long[] srcShape) {
        double[] out = self.toDoubleArray();
        long[] idx = index.toLongArray();
        for (int p = 0; p < idx.length; p++) {
            long[] at = Fixtures.unravel(p, index.shape());
            double v = src.length == 1 && srcShape.length == 0 ? src[0] : src[Fixtures.ravel(at, srcShape)];
            at[dim] = idx[p];
            out[Fixtures.ravel(at, self.shape())] = v;
        }
        return out;
    }

    // ---------------------------------------------------------------- index_select

    @Test
    void indexSelectMatchesReference() {
        for (DType type : DType.values()) {
            for (int trial = 0; trial < TRIALS; trial++) {
                Fixtures.Gather c = f.indexSelect(type);
                long[] outShape = c.self().shape().clone();
                outShape[c.dim()] = c.index().numel();
                f.assertTensor(type, outShape, indexSelect(c.self(), c.dim(), c.index()), c.self().indexSelect(c.dim(), c.index()),
                        "index_select dim " + c.dim() + " index " + c.index().dtype());
            }
        }
    }

    @Test
    void indexSelectOfRowsOfALargeTensor() {
        Tensor self = f.tensor(DType.FLOAT32, Fixtures.Layout.CONTIGUOUS, 500, 128);
        Tensor index = f.index(500, Fixtures.Layout.CONTIGUOUS, 1000);
        f.assertTensor(DType.FLOAT32, new long[] {1000, 128}, indexSelect(self, 0, index), self.indexSelect(0, index), "rows");
    }

    @Test
    void indexSelectOnAZeroDimTensor() {
        Tensor self = Tensor.scalar(4);
        Tensor out = self.indexSelect(0, Tensor.fromArray(new long[] {0, 0}));
        assertEquals(0, out.dim());
        assertEquals(4, out.item());
        f.assertFails(IndexOutOfBoundsException.class, () -> self.indexSelect(0, Tensor.fromArray(new long[] {1})),
                "index out of range in self", "index 1 is out of bounds for dimension 0 with size 1");
    }

    private static double[] indexSelect(Tensor self, int dim, Tensor index) {
        double[] x = self.toDoubleArray();
        long[] idx = index.toLongArray();
        long[] outShape = self.shape();
        outShape[dim] = idx.length;
        double[] out = new double[Math.toIntExact(Shapes.numel(outShape))];
        for (int p = 0; p < out.length; p++) {
            long[] at = Fixtures.unravel(p, outShape);
            at[dim] = idx[(int) at[dim]];
            out[p] = x[Fixtures.ravel(at, self.shape())];
        }
        return out;
    }

    // ---------------------------------------------------------------- masked_fill

    @Test
    void maskedFillMatchesReference() {
        for (DType type : DType.values()) {
            for (int trial = 0; trial < TRIALS; trial++) {
                Fixtures.MaskedFill c = f.maskedFill(type);
                Tensor mask = c.mask();
                double value = c.value();
                long[] selfShape = c.selfShape();
                Tensor self = f.tensor(type, selfShape);
                double[] expected = maskedFill(self.toDoubleArray(), selfShape, mask, Fixtures.cast(value, type), selfShape);
                f.assertTensor(type, selfShape, expected, self.maskedFill(mask, value), "masked_fill");

                Tensor target = f.writableTensor(type, selfShape);
                expected = maskedFill(target.toDoubleArray(), selfShape, mask, Fixtures.cast(value, type), selfShape);
                int version = target.version();
                assertSame(target, target.maskedFill_(mask, value));
                f.assertTensor(type, selfShape, expected, target, "masked_fill_");
                assertTrue(target.version() > version, f.msg("masked_fill_ bumps the version"));
            }
        }
    }

    @Test
    void maskedFillBroadcastsSelfToTheMask() {
        Tensor self = f.tensor(DType.FLOAT64, 5);
        Tensor mask = f.tensor(DType.BOOL, 2, 3, 5);
        long[] shape = {2, 3, 5};
        f.assertTensor(DType.FLOAT64, shape, maskedFill(self.toDoubleArray(), self.shape(), mask, -1.5, shape),
                self.maskedFill(mask, -1.5), "broadcast self");
    }

    @Test
    void maskedFillInPlaceReadsAMaskThatAliasesItsTarget() {
        Tensor self = f.tensor(DType.BOOL, Fixtures.Layout.CONTIGUOUS, 4, 4);
        Tensor mask = self.t();
        double[] expected = maskedFill(self.toDoubleArray(), self.shape(), mask, 0, self.shape());
        f.assertTensor(DType.BOOL, self.shape(), expected, self.maskedFill_(mask, 0), "mask aliasing self");
    }

    @Test
    void maskedFillCastsTheValueAsPyTorch() {
        Tensor mask = Tensor.fromArray(new boolean[] {true, false});
        assertArrayEquals(new long[] {2, 0}, Tensor.zeros(DType.INT32, 2).maskedFill(mask, 2.7).toLongArray());
        assertArrayEquals(new long[] {255, 0}, Tensor.zeros(DType.UINT8, 2).maskedFill(mask, -1).toLongArray());
        assertArrayEquals(new boolean[] {true, false}, Tensor.zeros(DType.BOOL, 2).maskedFill(mask, 0.5).toBooleanArray());
        assertEquals(Double.POSITIVE_INFINITY, Tensor.zeros(DType.FLOAT16, 2).maskedFill(mask, Double.POSITIVE_INFINITY).get(0));
    }

    /** The value where the (broadcast) mask is set, else self (broadcast), over {@code shape}. */
    private static double[] maskedFill(double[] self, long[] selfShape, Tensor mask, double value, long[] shape) {
        boolean[] m = mask.toBooleanArray();
        double[] out = new double[Math.toIntExact(Shapes.numel(shape))];
        for (int p = 0; p < out.length; p++) {
            long[] at = Fixtures.unravel(p, shape);
            out[p] = m[Fixtures.broadcastIndex(at, mask.shape())] ? value : self[Fixtures.broadcastIndex(at, selfShape)];
        }
        return out;
    }

    // ---------------------------------------------------------------- one_hot

    @Test
    void oneHotMatchesReference() {
        for (int trial = 0; trial < 4 * TRIALS; trial++) {
            Fixtures.OneHot c = f.oneHot();
            Tensor t = c.classes();
            long[] shape = t.shape();
            long[] values = t.toLongArray();
            long n = c.numClasses() == -1 ? Arrays.stream(values).max().orElse(-1) + 1 : c.numClasses();
            double[] expected = new double[Math.toIntExact(values.length * n)];
            for (int i = 0; i < values.length; i++) expected[(int) (i * n + values[i])] = 1;
            Tensor out = t.oneHot(c.numClasses());
            long[] outShape = Arrays.copyOf(shape, shape.length + 1);
            outShape[shape.length] = n;
            f.assertTensor(DType.INT64, outShape, expected, out, "one_hot");
        }
    }

    // ---------------------------------------------------------------- bad input

    @Test
    void gatherRejectsBadInput() {
        Tensor x = f.tensor(DType.FLOAT32, 3, 5);
        f.assertFails(IllegalArgumentException.class, () -> x.gather(1, Tensor.zeros(DType.INT32, 3, 2)),
                "gather(): Expected dtype int64 for index", "int32");
        f.assertFails(IllegalArgumentException.class, () -> x.gather(1, Tensor.zeros(DType.INT64, 3)),
                "Index tensor must have the same number of dimensions as input tensor", "[3]", "[3, 5]");
        f.assertFails(IllegalArgumentException.class, () -> x.gather(1, Tensor.zeros(DType.INT64, 4, 2)),
                "Size does not match at dimension 0 expected index [4, 2] to be smaller than self [3, 5] apart from dimension 1");
        f.assertFails(IndexOutOfBoundsException.class, () -> x.gather(1, Tensor.fromArray(new long[] {0, 7}, 1, 2)),
                "index 7 is out of bounds for dimension 1 with size 5");
        f.assertFails(IndexOutOfBoundsException.class, () -> x.gather(1, Tensor.fromArray(new long[] {-1}, 1, 1)),
                "index -1 is out of bounds for dimension 1 with size 5");
        f.assertFails(IndexOutOfBoundsException.class, () -> x.gather(2, Tensor.zeros(DType.INT64, 1, 1)),
                "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
        f.assertFails(IndexOutOfBoundsException.class, () -> Tensor.zeros(3, 0).gather(1, Tensor.zeros(DType.INT64, 3, 2)),
                "index 0 is out of bounds for dimension 1 with size 0");
    }

    @Test
    void scatterRejectsBadInputBeforeWriting() {
        Tensor x = f.tensor(DType.FLOAT32, 3, 5);
        double[] before = x.toDoubleArray();
        Tensor src = f.tensor(DType.FLOAT32, 3, 5);
        f.assertFails(IllegalArgumentException.class, () -> x.scatter_(1, Tensor.zeros(DType.INT32, 1, 1), src),
                "scatter(): Expected dtype int64 for index", "int32");
        f.assertFails(IllegalArgumentException.class, () -> x.scatter_(1, Tensor.zeros(DType.INT64, 1, 1), src.to(DType.FLOAT64)),
                "scatter(): Expected self.dtype to be equal to src.dtype", "float32", "float64");
        f.assertFails(IllegalArgumentException.class, () -> x.scatter_(1, Tensor.zeros(DType.INT64, 2), src),
                "Index tensor must have the same number of dimensions as self tensor");
        f.assertFails(IllegalArgumentException.class, () -> x.scatter_(1, Tensor.zeros(DType.INT64, 2, 2), Tensor.zeros(5)),
                "Index tensor must have the same number of dimensions as src tensor");
        f.assertFails(IllegalArgumentException.class, () -> x.scatter_(1, Tensor.zeros(DType.INT64, 1, 3), Tensor.zeros(1, 2)),
                "Expected index [1, 3] to be smaller than self [3, 5] apart from dimension 1 and to be smaller size than src [1, 2]");
        f.assertFails(IllegalArgumentException.class, () -> x.scatter_(1, Tensor.zeros(DType.INT64, 4, 3), 1.0),
                "Expected index [4, 3] to be smaller than self [3, 5] apart from dimension 1");
        // the bad index comes last: nothing before it may have been written
        Tensor index = Tensor.fromArray(new long[] {0, 1, 2, 3, 4, 0, 1, 2, 3, 5}, 2, 5);
        f.assertFails(IndexOutOfBoundsException.class, () -> x.scatter_(1, index, src),
                "index 5 is out of bounds for dimension 1 with size 5");
        f.assertFails(IndexOutOfBoundsException.class, () -> x.scatter_(1, index, 9.0),
                "index 5 is out of bounds for dimension 1 with size 5");
        assertArrayEquals(before, x.toDoubleArray(), f.msg("a rejected scatter_ wrote to self"));
        f.assertFails(IllegalArgumentException.class, () -> Tensor.zeros(3).expand(2, 3).scatter_(1, Tensor.zeros(DType.INT64, 1, 1), 1),
                "more than one element of the written-to tensor refers to a single memory location");
        f.assertFails(IllegalArgumentException.class, () -> Tensor.zeros(DType.FLOAT16, 3).scatter(0, Tensor.zeros(DType.INT64, 1), 1e10),
                "value cannot be converted to type at::Half without overflow");
    }

    @Test
    void indexSelectRejectsBadInput() {
        Tensor x = f.tensor(DType.FLOAT32, 3, 5);
        f.assertFails(IllegalArgumentException.class, () -> x.indexSelect(1, Tensor.zeros(DType.FLOAT32, 2)),
                "index_select(): Expected dtype int32 or int64 for index", "float32");
        f.assertFails(IllegalArgumentException.class, () -> x.indexSelect(1, Tensor.zeros(DType.UINT8, 2)),
                "index_select(): Expected dtype int32 or int64 for index", "uint8");
        f.assertFails(IllegalArgumentException.class, () -> x.indexSelect(1, Tensor.zeros(DType.INT64, 1, 1)),
                "index_select(): Index is supposed to be a vector", "[1, 1]");
        f.assertFails(IndexOutOfBoundsException.class, () -> x.indexSelect(1, Tensor.fromArray(new int[] {0, 5})),
                "index out of range in self", "index 5 is out of bounds for dimension 1 with size 5");
        f.assertFails(IndexOutOfBoundsException.class, () -> x.indexSelect(0, Tensor.fromArray(new long[] {-1})),
                "index out of range in self", "index -1 is out of bounds for dimension 0 with size 3");
        f.assertFails(IndexOutOfBoundsException.class, () -> x.indexSelect(-3, Tensor.fromArray(new long[] {0})),
                "Dimension out of range (expected to be in range of [-2, 1], but got -3)");
    }

    @Test
    void maskedFillRejectsBadInput() {
        Tensor x = f.tensor(DType.FLOAT32, 3, 5);
        f.assertFails(IllegalArgumentException.class, () -> x.maskedFill(Tensor.ones(DType.UINT8, 3, 5), 1),
                "masked_fill_ only supports boolean masks, but got mask with dtype uint8");
        f.assertFails(IllegalArgumentException.class, () -> x.maskedFill(Tensor.ones(DType.FLOAT32, 3, 5), 1),
                "masked_fill_ only supports boolean masks, but got mask with dtype float32");
        f.assertFails(IllegalArgumentException.class, () -> x.maskedFill(Tensor.ones(DType.BOOL, 4), 1),
                "The size of tensor a (5) must match the size of tensor b (4) at non-singleton dimension 1");
        f.assertFails(IllegalArgumentException.class, () -> x.maskedFill_(Tensor.ones(DType.BOOL, 2, 3, 5), 1),
                "output with shape [3, 5] doesn't match the broadcast shape [2, 3, 5]");
        f.assertFails(IllegalArgumentException.class, () -> Tensor.zeros(3).expand(2, 3).maskedFill_(Tensor.ones(DType.BOOL, 3), 1),
                "more than one element of the written-to tensor refers to a single memory location");
        Tensor mask = Tensor.ones(DType.BOOL, 3);
        f.assertFails(IllegalArgumentException.class, () -> Tensor.zeros(DType.FLOAT16, 3).maskedFill(mask, 65520),
                "value cannot be converted to type at::Half without overflow");
        f.assertFails(IllegalArgumentException.class, () -> Tensor.zeros(DType.BFLOAT16, 3).maskedFill(mask, 1e39),
                "value cannot be converted to type at::BFloat16 without overflow");
        f.assertFails(IllegalArgumentException.class, () -> Tensor.zeros(DType.UINT8, 3).maskedFill(mask, 300),
                "value cannot be converted to type uint8_t without overflow");
        f.assertFails(IllegalArgumentException.class, () -> Tensor.zeros(DType.INT32, 3).maskedFill(mask, 1e10),
                "value cannot be converted to type int without overflow");
        f.assertFails(IllegalArgumentException.class, () -> Tensor.zeros(DType.INT64, 3).maskedFill(mask, Double.NaN),
                "value cannot be converted to type int64_t without overflow");
        f.assertFails(IllegalArgumentException.class, () -> Tensor.zeros(DType.FLOAT32, 3).maskedFill(mask, 1e300),
                "value cannot be converted to type float without overflow");
    }

    @Test
    void oneHotRejectsBadInput() {
        f.assertFails(IllegalArgumentException.class, () -> Tensor.zeros(DType.INT32, 3).oneHot(-1),
                "one_hot is only applicable to index tensor.", "int32");
        f.assertFails(IllegalArgumentException.class, () -> Tensor.fromArray(new long[] {0, 2, 1}).oneHot(2),
                "Class values must be smaller than num_classes.");
        f.assertFails(IllegalArgumentException.class, () -> Tensor.fromArray(new long[] {0, -2, 1}).oneHot(5),
                "Class values must be non-negative.");
        f.assertFails(IllegalArgumentException.class, () -> Tensor.zeros(DType.INT64, 0).oneHot(-1),
                "Can not infer total number of classes from empty tensor.");
        assertArrayEquals(new long[] {0, 3}, Tensor.zeros(DType.INT64, 0).oneHot(3).shape());
    }

    @Test
    void closedTensorsAreRefused() {
        Tensor x = Tensor.zeros(3);
        Tensor index = Tensor.zeros(DType.INT64, 2);
        index.close();
        f.assertFails(IllegalStateException.class, () -> x.gather(0, index), "used after close()");
        f.assertFails(IllegalStateException.class, () -> x.indexSelect(0, index), "used after close()");
        f.assertFails(IllegalStateException.class, () -> x.scatter(0, index, 1.0), "used after close()");
        assertFalse(x.isClosed());
    }

    // ---------------------------------------------------------------- fixtures

    /**
     * Fresh random inputs in random layouts, plain reference helpers and assertions; every
     * message carries the seed. Shared with {@link JoiningTest}.
     */
    static final class Fixtures {
        /** How a tensor's elements sit in memory: every op must give the same answer for each. */
        enum Layout { CONTIGUOUS, TRANSPOSED, STEPPED, EXPANDED }

        final long seed = System.nanoTime();
        final Random rnd = new Random(seed);

        String msg(String what) { return what + " (seed " + seed + ")"; }

        /** {@code rank} sizes in [0, max], zero now and then. */
        long[] shape(int rank, int max) {
            long[] s = new long[rank];
            for (int i = 0; i < rank; i++) s[i] = rnd.nextInt(8) == 0 ? 0 : 1 + rnd.nextInt(max);
            return s;
        }

        /** An index shape for gather/scatter: no larger than self apart from {@code dim}. */
        long[] indexShape(long[] selfShape, int dim) {
            long[] s = new long[selfShape.length];
            for (int d = 0; d < s.length; d++) {
                s[d] = d == dim ? (selfShape[d] == 0 ? 0 : rnd.nextInt(6)) : rnd.nextInt((int) selfShape[d] + 1);
            }
            return s;
        }

        /** gather's or index_select's operands: self of up to 4 dims, the dim and an index into it. */
        record Gather(Tensor self, int dim, Tensor index) {}

        /** Random gather operands of {@code type}: any index shape no larger than self off {@code dim}. */
        Gather gather(DType type) {
            long[] selfShape = shape(1 + rnd.nextInt(4), 4);
            int dim = rnd.nextInt(selfShape.length);
            return new Gather(tensor(type, selfShape), dim, index(selfShape[dim], indexShape(selfShape, dim)));
        }

        /** Random index_select operands: a 1-D (or 0-d) int64 or int32 index, sometimes into a long last dim. */
        Gather indexSelect(DType type) {
            long[] selfShape = shape(1 + rnd.nextInt(4), 4);
            // a long last dim sometimes, so whole rows are copied at once
            if (rnd.nextBoolean()) selfShape[selfShape.length - 1] = 20 + rnd.nextInt(50);
            int dim = rnd.nextInt(selfShape.length);
            Tensor index = index(selfShape[dim], rnd.nextInt(6) == 0 ? new long[0] : new long[] {rnd.nextInt(7)});
            if (selfShape[dim] == 0) index = index(1, 0);
            if (rnd.nextBoolean()) index = index.to(DType.INT32);
            return new Gather(tensor(type, selfShape), dim, index);
        }

        /** A scatter source shape: the index's, each dim sometimes one larger (scatter reads only the index's part). */
        long[] srcShape(long[] indexShape) {
            long[] s = indexShape.clone();
            for (int d = 0; d < s.length; d++) s[d] += rnd.nextInt(2);
            return s;
        }

        /** masked_fill's operands: self's shape, a bool mask broadcastable to it, a value of self's type. */
        record MaskedFill(long[] selfShape, Tensor mask, double value) {}

        MaskedFill maskedFill(DType type) {
            long[] selfShape = shape(rnd.nextInt(4), 4);
            long[] maskShape = selfShape.clone();
            for (int d = 0; d < maskShape.length; d++) if (rnd.nextInt(3) == 0) maskShape[d] = 1;
            if (maskShape.length > 0 && rnd.nextBoolean()) maskShape = Arrays.copyOfRange(maskShape, 1, maskShape.length);
            return new MaskedFill(selfShape, tensor(DType.BOOL, maskShape), value(type));
        }

        /** one_hot's operands: class indices below {@code classes}, and num_classes (-1, to infer, now and then). */
        record OneHot(Tensor classes, long numClasses) {}

        OneHot oneHot() {
            long classes = 1 + rnd.nextInt(6);
            Tensor t = index(classes, shape(rnd.nextInt(4), 4));
            return new OneHot(t, t.numel() > 0 && rnd.nextBoolean() ? -1 : classes);
        }

        /** Random values of {@code type} in a random layout. */
        Tensor tensor(DType type, long... shape) { return tensor(type, randomLayout(), shape); }

        /** As {@link #tensor(DType, long...)} but never expanded, so it can be written in place. */
        Tensor writableTensor(DType type, long... shape) {
            return tensor(type, Layout.values()[rnd.nextInt(Layout.EXPANDED.ordinal())], shape);
        }

        Tensor tensor(DType type, Layout layout, long... shape) {
            return arrange(layout, shape, s -> {
                double[] v = new double[Math.toIntExact(Shapes.numel(s))];
                for (int i = 0; i < v.length; i++) v[i] = value(type);
                return Tensor.fromArray(v).reshape(s).to(type);
            });
        }

        /** Random int64 indices in [0, bound) in a random layout. */
        Tensor index(long bound, long... shape) { return index(bound, randomLayout(), shape); }

        /** As {@link #index(long, long...)} but never expanded: the indices spread over [0, bound). */
        Tensor spreadIndex(long bound, long... shape) {
            return index(bound, Layout.values()[rnd.nextInt(Layout.EXPANDED.ordinal())], shape);
        }

        Tensor index(long bound, Layout layout, long... shape) {
            return arrange(layout, shape, s -> {
                long[] v = new long[Math.toIntExact(Shapes.numel(s))];
                for (int i = 0; i < v.length; i++) v[i] = bound == 0 ? 0 : rnd.nextLong(bound);
                return Tensor.fromArray(v).reshape(s);
            });
        }

        /** A random value that {@code type} holds exactly (halves fit float16 and bfloat16's 8 bits). */
        double value(DType type) {
            return switch (type) {
                case BOOL -> rnd.nextBoolean() ? 1 : 0;
                case UINT8 -> rnd.nextInt(256);
                case INT32, INT64 -> rnd.nextInt(-1000, 1001);
                case FLOAT16, BFLOAT16 -> rnd.nextInt(-255, 256) / 2.0;
                case FLOAT32 -> (float) (rnd.nextGaussian() * 10);
                case FLOAT64 -> rnd.nextGaussian() * 10;
            };
        }

        private Layout randomLayout() { return Layout.values()[rnd.nextInt(Layout.values().length)]; }

        /**
         * A tensor of {@code shape} in {@code layout}, its memory made by {@code make} from a
         * (contiguous) shape. A layout the shape cannot take (a transposed vector, say) falls
         * back to contiguous.
         */
        private Tensor arrange(Layout layout, long[] shape, Function<long[], Tensor> make) {
            int rank = shape.length;
            switch (layout) {
                case TRANSPOSED -> {
                    if (rank < 2) break;
                    int a = rnd.nextInt(rank), b = (a + 1 + rnd.nextInt(rank - 1)) % rank;
                    long[] s = shape.clone();
                    s[a] = shape[b];
                    s[b] = shape[a];
                    return make.apply(s).transpose(a, b);
                }
                case STEPPED -> {
                    if (rank < 1) break;
                    int k = rnd.nextInt(rank);
                    long[] s = shape.clone();
                    s[k] = 2 * shape[k] + 1;
                    return make.apply(s).slice(k, 1, s[k], 2); // every other element, from an offset
                }
                case EXPANDED -> {
                    long[] s = shape.clone();
                    boolean any = false;
                    for (int d = 0; d < rank; d++) {
                        if (shape[d] > 1 && (!any || rnd.nextBoolean())) {
                            s[d] = 1;
                            any = true;
                        }
                    }
                    if (!any) break;
                    return make.apply(s).expand(shape);
                }
                case CONTIGUOUS -> { }
            }
            return make.apply(shape);
        }

        /** Checks dtype, shape and every value exactly (the ops under test only move values). */
        void assertTensor(DType type, long[] shape, double[] expected, Tensor actual, String what) {
            assertEquals(type, actual.dtype(), msg(what + ": dtype"));
            assertArrayEquals(shape, actual.shape(), msg(what + ": shape"));
            assertArrayEquals(expected, actual.toDoubleArray(), 0.0, msg(what + ": values"));
        }

        <T extends RuntimeException> void assertFails(Class<T> type, Executable op, String... fragments) {
            T e = assertThrows(type, op, msg("expected " + type.getSimpleName()));
            for (String fragment : fragments) {
                assertTrue(e.getMessage().contains(fragment), msg("message \"" + e.getMessage() + "\" lacks \"" + fragment + "\""));
            }
        }

        /** {@code v} as a tensor of {@code type} would hold it: PyTorch's casts, written out plainly. */
        static double cast(double v, DType type) {
            return switch (type) {
                case BOOL -> v != 0 ? 1 : 0;
                case UINT8 -> (long) v & 0xFF;
                case INT32 -> (int) (long) v;
                case INT64 -> (long) v;
                case FLOAT16 -> Float.float16ToFloat(Float.floatToFloat16((float) v));
                case BFLOAT16 -> {
                    int bits = Float.floatToRawIntBits((float) v);
                    yield Float.intBitsToFloat((bits + 0x7FFF + ((bits >>> 16) & 1)) & 0xFFFF0000);
                }
                case FLOAT32 -> (float) v;
                case FLOAT64 -> v;
            };
        }

        /** A 0-d int64 tensor (owned by the test's scope). */
        static Tensor scalarIndex(long value) { return Tensor.fromArray(new long[] {value}).reshape(); }

        /** Row-major coordinates of element {@code flat} of {@code shape}. */
        static long[] unravel(long flat, long[] shape) {
            long[] at = new long[shape.length];
            for (int d = shape.length - 1; d >= 0; d--) {
                at[d] = flat % shape[d];
                flat /= shape[d];
            }
            return at;
        }

        static int ravel(long[] at, long[] shape) {
            long flat = 0;
            for (int d = 0; d < shape.length; d++) flat = flat * shape[d] + at[d];
            return Math.toIntExact(flat);
        }

        /** The row-major position in {@code shape} that coordinates {@code at} of a broadcast shape read. */
        static int broadcastIndex(long[] at, long[] shape) {
            long[] own = new long[shape.length];
            for (int d = 0; d < shape.length; d++) {
                own[d] = shape[d] == 1 ? 0 : at[at.length - shape.length + d];
            }
            return ravel(own, shape);
        }
    }
}
