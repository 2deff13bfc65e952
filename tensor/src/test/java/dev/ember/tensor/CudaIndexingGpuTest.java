package dev.ember.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ember.ffi.Cuda;
import dev.ember.memory.Device;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * gather, scatter, scatter_add, index_select, index_add, masked_fill and one_hot on CUDA
 * tensors, compared with the CPU backend on the same inputs (which {@link IndexingTest} checks
 * against plain references): {@link IndexingTest.Fixtures}' random shapes (zero-size ones
 * included), dtypes and layouts, moved to the device in the same layout. Bad indices must fail
 * with the CPU's very message, mixed devices with PyTorch's, and the derivatives must agree.
 * Skipped without a CUDA driver and device.
 */
@Tag("gpu")
@ExtendWith(TestTensors.Scoped.class)
class CudaIndexingGpuTest {
    private static final int TRIALS = 8;

    private final IndexingTest.Fixtures f = new IndexingTest.Fixtures();

    @BeforeEach
    void needsCuda() {
        assumeTrue(Cuda.isAvailable(), Cuda::unavailableReason);
    }

    // ---------------------------------------------------------------- gather

    @Test
    void gatherMatchesTheCpu() {
        for (DType type : DType.values()) {
            for (int trial = 0; trial < TRIALS; trial++) {
                IndexingTest.Fixtures.Gather c = f.gather(type);
                assertSameTensor("gather " + type + " dim " + c.dim(), c.self().gather(c.dim(), c.index()),
                        onCuda(c.self()).gather(c.dim(), onCuda(c.index())));
            }
        }
        Tensor big = f.tensor(DType.FLOAT32, IndexingTest.Fixtures.Layout.TRANSPOSED, 300, 200);
        Tensor index = f.index(200, 300, 150);
        assertSameTensor("large gather", big.gather(-1, index), onCuda(big).gather(-1, onCuda(index)));
        Tensor scalar = Tensor.scalar(DType.INT32, 7);
        Tensor zeroDim = IndexingTest.Fixtures.scalarIndex(0);
        assertSameTensor("0-d gather", scalar.gather(0, zeroDim), onCuda(scalar).gather(0, onCuda(zeroDim)));
    }

    // ---------------------------------------------------------------- scatter

    @Test
    void scatterMatchesTheCpuInEveryForm() {
        for (DType type : DType.values()) {
            for (int trial = 0; trial < TRIALS; trial++) {
                long[] selfShape = f.shape(1 + f.rnd.nextInt(4), 4);
                int dim = f.rnd.nextInt(selfShape.length);
                long[] indexShape = f.indexShape(selfShape, dim);
                indexShape[dim] = Math.min(indexShape[dim], selfShape[dim]);
                Tensor self = f.writableTensor(type, selfShape);
                // distinct indices along dim: which of two writes to one element wins is unspecified on CUDA
                Tensor index = distinctIndex(selfShape[dim], indexShape, dim);
                Tensor src = f.tensor(type, f.srcShape(indexShape));
                double value = f.value(type);
                String what = "scatter " + type + " dim " + dim;

                Tensor expected = self.scatter(dim, index, src);
                Tensor deviceSelf = onCuda(self);
                assertSameTensor(what, expected, deviceSelf.scatter(dim, onCuda(index), onCuda(src)));
                assertSameTensor(what + ": self unchanged", self, deviceSelf);
                int version = deviceSelf.version();
                assertSame(deviceSelf, deviceSelf.scatter_(dim, onCuda(index), onCuda(src)));
                assertSameTensor(what + " in place", expected, deviceSelf);
                assertTrue(deviceSelf.version() > version, f.msg("scatter_ bumps the version"));

                Tensor expectedValue = self.scatter(dim, index, value);
                assertSameTensor(what + " value", expectedValue, onCuda(self).scatter(dim, onCuda(index), value));
                Tensor target = onCuda(self);
                target.scatter_(dim, onCuda(index), value);
                assertSameTensor(what + " value in place", expectedValue, target);
            }
        }
    }

    @Test
    void scatterInPlaceReadsAnIndexThatAliasesItsTarget() {
        Tensor self = Tensor.fromArray(new long[] {2, 0, 1, 2});
        Tensor src = Tensor.fromArray(new long[] {9, 8, 7});
        Tensor expected = self.clone().scatter_(0, self.clone().narrow(0, 0, 3), src);
        Tensor device = self.cuda();
        device.scatter_(0, device.narrow(0, 0, 3), src.cuda());
        assertSameTensor("aliasing index", expected, device);
    }

    // ---------------------------------------------------------------- scatter_add, index_add

    @Test
    void scatterAddAndIndexAddAccumulateRepeatedIndicesAsTheCpu() {
        for (DType type : DType.values()) {
            for (int trial = 0; trial < TRIALS; trial++) {
                long[] selfShape = f.shape(1 + f.rnd.nextInt(4), 4);
                int dim = f.rnd.nextInt(selfShape.length);
                long[] indexShape = f.indexShape(selfShape, dim);
                // small integers: their sums are exact in every dtype, so the order of the atomics cannot show
                Tensor self = smallInts(type, selfShape);
                Tensor src = smallInts(type, indexShape);
                Tensor index = f.index(selfShape[dim], indexShape);
                String what = type + " dim " + dim;
                assertSameTensor("scatter_add " + what, self.scatterAdd(dim, index, src),
                        onCuda(self).scatterAdd(dim, onCuda(index), onCuda(src)));

                long k = f.rnd.nextInt(7);
                Tensor rows = selfShape[dim] == 0 ? f.index(1, 0) : f.index(selfShape[dim], k);
                if (f.rnd.nextBoolean()) rows = rows.to(DType.INT32);
                long[] slices = selfShape.clone();
                slices[dim] = rows.numel();
                Tensor from = smallInts(type, slices);
                assertSameTensor("index_add " + what + " " + rows.dtype(), self.indexAdd(dim, rows, from),
                        onCuda(self).indexAdd(dim, onCuda(rows), onCuda(from)));
            }
        }
    }

    @Test
    void floatingSumsOfRepeatedIndicesAgreeWithinRounding() {
        for (DType type : TestTensors.FLOATS) {
            Tensor self = f.tensor(type, 40, 30);
            // every row gets about five adds; an expanded index would send all 200 to one row, where a
            // float16/bfloat16 sum depends on the order of its atomics far beyond any useful tolerance
            Tensor index = f.spreadIndex(40, 200, 30);
            Tensor src = f.tensor(type, 200, 30);
            assertCloseTensor("scatter_add " + type, self.scatterAdd(0, index, src),
                    onCuda(self).scatterAdd(0, onCuda(index), onCuda(src)), type);
            Tensor rows = f.spreadIndex(40, 200);
            assertCloseTensor("index_add " + type, self.indexAdd(0, rows, src), onCuda(self).indexAdd(0, onCuda(rows), onCuda(src)),
                    type);
        }
    }

    // ---------------------------------------------------------------- index_select

    @Test
    void indexSelectMatchesTheCpu() {
        for (DType type : DType.values()) {
            for (int trial = 0; trial < TRIALS; trial++) {
                IndexingTest.Fixtures.Gather c = f.indexSelect(type);
                assertSameTensor("index_select " + type + " dim " + c.dim() + " " + c.index().dtype(),
                        c.self().indexSelect(c.dim(), c.index()), onCuda(c.self()).indexSelect(c.dim(), onCuda(c.index())));
            }
        }
        Tensor rows = f.tensor(DType.FLOAT32, 500, 128);
        Tensor index = f.index(500, 1000);
        assertSameTensor("rows", rows.indexSelect(0, index), onCuda(rows).indexSelect(0, onCuda(index)));
        Tensor scalar = Tensor.scalar(4);
        Tensor twice = Tensor.fromArray(new long[] {0, 0});
        Tensor out = onCuda(scalar).indexSelect(0, onCuda(twice));
        assertEquals(0, out.dim());
        assertTrue(out.isCuda());
        assertEquals(4, out.item());
    }

    // ---------------------------------------------------------------- masked_fill

    @Test
    void maskedFillMatchesTheCpu() {
        for (DType type : DType.values()) {
            for (int trial = 0; trial < TRIALS; trial++) {
                IndexingTest.Fixtures.MaskedFill c = f.maskedFill(type);
                Tensor self = f.writableTensor(type, c.selfShape()), mask = c.mask();
                double value = c.value();
                String what = "masked_fill " + type;
                Tensor expected = self.maskedFill(mask, value);
                assertSameTensor(what, expected, onCuda(self).maskedFill(onCuda(mask), value));
                Tensor target = onCuda(self);
                assertSame(target, target.maskedFill_(onCuda(mask), value));
                assertSameTensor(what + " in place", expected, target);
            }
        }
        Tensor row = f.tensor(DType.FLOAT64, 5);
        Tensor mask = f.tensor(DType.BOOL, 2, 3, 5);
        assertSameTensor("self broadcast to the mask", row.maskedFill(mask, -1.5), onCuda(row).maskedFill(onCuda(mask), -1.5));
        Tensor square = f.tensor(DType.BOOL, IndexingTest.Fixtures.Layout.CONTIGUOUS, 4, 4);
        Tensor expected = square.clone().maskedFill_(square.t(), 0);
        Tensor device = square.cuda();
        assertSameTensor("mask aliasing self", expected, device.maskedFill_(device.t(), 0));
        Tensor flags = Tensor.fromArray(new boolean[] {true, false}).cuda();
        assertArrayEquals(new long[] {255, 0}, Tensor.zeros(Device.cuda(), DType.UINT8, 2).maskedFill(flags, -1).toLongArray());
        assertEquals(Double.POSITIVE_INFINITY,
                Tensor.zeros(Device.cuda(), DType.FLOAT16, 2).maskedFill(flags, Double.POSITIVE_INFINITY).cpu().get(0));
    }

    // ---------------------------------------------------------------- one_hot

    @Test
    void oneHotMatchesTheCpu() {
        for (int trial = 0; trial < 4 * TRIALS; trial++) {
            IndexingTest.Fixtures.OneHot c = f.oneHot();
            assertSameTensor("one_hot " + c.numClasses(), c.classes().oneHot(c.numClasses()),
                    onCuda(c.classes()).oneHot(c.numClasses()));
        }
    }

    // ---------------------------------------------------------------- bad input

    @Test
    void badIndicesFailWithTheCpusMessages() {
        Tensor x = f.tensor(DType.FLOAT32, 3, 5);
        Tensor src = f.tensor(DType.FLOAT32, 3, 5);
        // several bad indices in a transposed index: the one reported is the first in row-major order
        Tensor manyBad = Tensor.fromArray(new long[] {0, 7, 9, 2, 1, 6}, 3, 2).t(); // [[0, 9, 1], [7, 2, 6]]: 9 first
        Tensor lastBad = Tensor.fromArray(new long[] {0, 1, 2, 3, 4, 0, 1, 2, 3, 5}, 2, 5);
        Tensor zeroSize = Tensor.zeros(3, 0);
        sameFailure(IndexOutOfBoundsException.class, "gather", in -> in[0].gather(1, in[1]), x, manyBad);
        sameFailure(IndexOutOfBoundsException.class, "gather -1", in -> in[0].gather(1, in[1]), x,
                Tensor.fromArray(new long[] {-1}, 1, 1));
        sameFailure(IndexOutOfBoundsException.class, "gather from size 0", in -> in[0].gather(1, in[1]), zeroSize,
                Tensor.zeros(DType.INT64, 3, 2));
        sameFailure(IndexOutOfBoundsException.class, "scatter", in -> in[0].scatter(1, in[1], in[2]), x, lastBad, src);
        sameFailure(IndexOutOfBoundsException.class, "scatter_", in -> in[0].clone().scatter_(1, in[1], in[2]), x, manyBad, src);
        sameFailure(IndexOutOfBoundsException.class, "scatter value", in -> in[0].scatter(1, in[1], 9.0), x, lastBad);
        sameFailure(IndexOutOfBoundsException.class, "scatter_add", in -> in[0].scatterAdd(1, in[1], in[2]), x, manyBad, src);
        Tensor badRow = Tensor.fromArray(new long[] {0, 4, -2, 1});
        sameFailure(IndexOutOfBoundsException.class, "index_select", in -> in[0].indexSelect(1, in[1]), x, badRow);
        sameFailure(IndexOutOfBoundsException.class, "index_select int32", in -> in[0].indexSelect(1, in[1]), x,
                Tensor.fromArray(new int[] {0, 5}));
        sameFailure(IndexOutOfBoundsException.class, "index_select dim 0", in -> in[0].indexSelect(0, in[1]), x,
                Tensor.fromArray(new long[] {1, 3, 4}).narrow(0, 1, 2));
        sameFailure(IndexOutOfBoundsException.class, "index_select from no elements", in -> in[0].indexSelect(1, in[1]),
                Tensor.zeros(0, 5), Tensor.fromArray(new long[] {2, 7}));
        sameFailure(IndexOutOfBoundsException.class, "index_select of 0-d", in -> in[0].indexSelect(0, in[1]), Tensor.scalar(4),
                Tensor.fromArray(new long[] {0, 1}));
        Tensor slices = f.tensor(DType.FLOAT32, 3, 4);
        sameFailure(IndexOutOfBoundsException.class, "index_add", in -> in[0].indexAdd(1, in[1], in[2]), x, badRow, slices);
        sameFailure(IndexOutOfBoundsException.class, "index_add int32", in -> in[0].indexAdd(1, in[1], in[2]), x,
                badRow.to(DType.INT32), slices);
        sameFailure(IllegalArgumentException.class, "one_hot too large", in -> in[0].oneHot(2), Tensor.fromArray(new long[] {0, 2, 1}));
        sameFailure(IllegalArgumentException.class, "one_hot negative", in -> in[0].oneHot(5), Tensor.fromArray(new long[] {0, -2, 9}));
        sameFailure(IllegalArgumentException.class, "one_hot infer negative", in -> in[0].oneHot(-1),
                Tensor.fromArray(new long[] {3, -1}));
        sameFailure(IllegalArgumentException.class, "one_hot 0 classes", in -> in[0].oneHot(0), Tensor.fromArray(new long[] {0, 1}));
        sameFailure(IllegalArgumentException.class, "one_hot of empty", in -> in[0].oneHot(-1), Tensor.zeros(DType.INT64, 0));
        assertArrayEquals(new long[] {0, 3}, Tensor.zeros(Device.cuda(), DType.INT64, 0).oneHot(3).shape());
    }

    @Test
    void aFailedOpLeavesTheDeviceUsable() {
        Tensor x = f.tensor(DType.FLOAT32, 3, 5).cuda();
        assertThrows(IndexOutOfBoundsException.class, () -> x.gather(1, Tensor.fromArray(new long[] {5}, 1, 1).cuda()));
        Tensor index = f.index(5, 3, 4);
        assertSameTensor("after a failure", x.cpu().gather(1, index), x.gather(1, index.cuda()));
    }

    @Test
    void mixingDevicesFailsWithPyTorchsMessage() {
        Tensor x = Tensor.zeros(3, 5);
        Tensor index = Tensor.zeros(DType.INT64, 2, 2);
        String message = "Expected all tensors to be on the same device, but found at least two devices, ";
        assertDeviceMessage(message + "cuda:0 and cpu!", () -> x.cuda().gather(1, index));
        assertDeviceMessage(message + "cpu and cuda:0!", () -> x.gather(1, index.cuda()));
        assertDeviceMessage(message + "cuda:0 and cpu!", () -> x.cuda().scatter(1, index.cuda(), x));
        assertDeviceMessage(message + "cuda:0 and cpu!", () -> x.cuda().scatter(1, index, 1.0));
        assertDeviceMessage(message + "cuda:0 and cpu!", () -> x.cuda().scatterAdd(1, index.cuda(), x));
        assertDeviceMessage(message + "cuda:0 and cpu!", () -> x.cuda().indexSelect(0, Tensor.fromArray(new long[] {0})));
        assertDeviceMessage(message + "cuda:0 and cpu!", () -> x.cuda().indexAdd(0, Tensor.fromArray(new long[] {0}).cuda(),
                Tensor.zeros(1, 5)));
        // a 0-d host mask is no exception: only elementwise ops take host scalars along
        assertDeviceMessage(message + "cuda:0 and cpu!", () -> x.cuda().maskedFill(Tensor.fromArray(new boolean[] {true}).reshape(), 1));
    }

    // ---------------------------------------------------------------- derivatives

    @Test
    void derivativesMatchTheCpu() {
        Tensor x = f.tensor(DType.FLOAT64, IndexingTest.Fixtures.Layout.CONTIGUOUS, 4, 6);
        Tensor index = f.index(6, 4, 5);
        Tensor rows = f.index(4, 7);
        Tensor src = f.tensor(DType.FLOAT64, IndexingTest.Fixtures.Layout.CONTIGUOUS, 4, 5);
        Tensor slices = f.tensor(DType.FLOAT64, IndexingTest.Fixtures.Layout.CONTIGUOUS, 7, 6);
        Tensor mask = f.tensor(DType.BOOL, 4, 6);
        Tensor distinct = distinctIndex(6, new long[] {4, 5}, 1);
        List<Function<Tensor[], Tensor>> ops = List.of(
                in -> in[0].gather(1, in[2]),
                in -> in[0].indexSelect(0, in[3]),
                in -> in[0].scatter(1, in[7], in[1]),
                in -> in[0].scatterAdd(1, in[2], in[1]),
                in -> in[0].indexAdd(0, in[3], in[4]),
                in -> in[0].maskedFill(in[5], 2.5),
                in -> in[0].scatter(1, in[7], 0.5));
        for (int i = 0; i < ops.size(); i++) {
            Tensor[] host = {leaf(x), leaf(src), index, rows, leaf(slices), mask, null, distinct};
            Tensor[] device = {leaf(x.cuda()), leaf(src.cuda()), index.cuda(), rows.cuda(), leaf(slices.cuda()), mask.cuda(), null,
                    distinct.cuda()};
            Tensor yh = ops.get(i).apply(host), yd = ops.get(i).apply(device);
            assertNotNull(yd.gradFn(), "op " + i + " records its node on CUDA");
            assertEquals(yh.gradFn().name(), yd.gradFn().name());
            Tensor g = f.tensor(DType.FLOAT64, IndexingTest.Fixtures.Layout.CONTIGUOUS, yh.shape());
            Tensor[] gh = yh.gradFn().apply(g), gd = yd.gradFn().apply(g.cuda());
            assertEquals(gh.length, gd.length);
            for (int k = 0; k < gh.length; k++) {
                if (gh[k] == null) continue;
                assertTrue(gd[k].isCuda(), "op " + i + " gradient " + k + " stays on the device");
                assertCloseTensor("op " + i + " (" + yh.gradFn().name() + ") gradient " + k, gh[k], gd[k], DType.FLOAT64);
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    /**
     * {@code t} on cuda:0 in the same layout: its whole storage copied over and viewed with t's
     * shape, strides and offset, so strided and expanded views reach the kernels as they are.
     */
    static Tensor onCuda(Tensor t) {
        long elements = t.storage.bytes() / t.dtype.itemSize();
        try (Tensor whole = t.alias(new long[] {elements}, new long[] {1}, 0); Tensor there = whole.cuda()) {
            return there.alias(t.shape.clone(), t.strides.clone(), t.offset);
        }
    }

    /** A leaf copy that requires grad. */
    private static Tensor leaf(Tensor t) { return t.detach().requiresGrad_(); }

    /**
     * int64 indices in [0, size) of {@code shape} whose entries along {@code dim} differ within
     * every line (shape[dim] <= size), stored transposed half of the time.
     */
    private Tensor distinctIndex(long size, long[] shape, int dim) {
        long[] v = new long[Math.toIntExact(Shapes.numel(shape))];
        Map<Long, long[]> lines = new HashMap<>();
        for (int p = 0; p < v.length; p++) {
            long[] at = IndexingTest.Fixtures.unravel(p, shape);
            long position = at[dim];
            at[dim] = 0;
            long[] perm = lines.computeIfAbsent((long) IndexingTest.Fixtures.ravel(at, shape), key -> permutation(size));
            v[p] = perm[(int) position];
        }
        Tensor t = Tensor.fromArray(v).reshape(shape);
        if (shape.length < 2 || f.rnd.nextBoolean()) return t;
        return t.transpose(0, shape.length - 1).contiguous().transpose(0, shape.length - 1);
    }

    private long[] permutation(long size) {
        long[] p = new long[Math.toIntExact(size)];
        for (int i = 0; i < p.length; i++) p[i] = i;
        for (int i = p.length - 1; i > 0; i--) {
            int j = f.rnd.nextInt(i + 1);
            long tmp = p[i];
            p[i] = p[j];
            p[j] = tmp;
        }
        return p;
    }

    /** Integers in [-8, 8] as {@code type} (uint8 wraps, bool is "nonzero"), transposed half of the time. */
    private Tensor smallInts(DType type, long[] shape) {
        Tensor t = f.index(17, shape).sub(8L).to(type);
        if (shape.length < 2 || f.rnd.nextBoolean()) return t;
        return t.transpose(0, 1).contiguous().transpose(0, 1);
    }

    /** Runs {@code op} on host inputs and on the same inputs on cuda:0: both fail with one type and message. */
    private <T extends RuntimeException> void sameFailure(Class<T> type, String what, Function<Tensor[], Tensor> op, Tensor... in) {
        String expected = assertThrows(type, () -> op.apply(in), f.msg(what + " on the CPU")).getMessage();
        Tensor[] device = Arrays.stream(in).map(CudaIndexingGpuTest::onCuda).toArray(Tensor[]::new);
        String actual = assertThrows(type, () -> op.apply(device), f.msg(what + " on CUDA")).getMessage();
        assertEquals(expected, actual, f.msg(what));
    }

    private static void assertDeviceMessage(String expected, org.junit.jupiter.api.function.Executable op) {
        assertEquals(expected, assertThrows(IllegalArgumentException.class, op).getMessage());
    }

    /** Same dtype, shape and values, exactly; the result lives on the device. */
    private void assertSameTensor(String what, Tensor expected, Tensor actual) {
        assertTrue(actual.isCuda(), f.msg(what + ": result on the device"));
        assertEquals(expected.dtype(), actual.dtype(), f.msg(what + ": dtype"));
        assertArrayEquals(expected.shape(), actual.shape(), f.msg(what + ": shape"));
        assertArrayEquals(expected.toDoubleArray(), actual.toDoubleArray(), 0.0, f.msg(what + ": values"));
    }

    /**
     * Same dtype and shape, values within the rounding a different summation order can make.
     * That error scales with the partial sums, not with a result that cancelled: so the bound
     * has a floor of the sums' size (the tests' terms are at most ~130 for float16/bfloat16, whose
     * values are halves up to 127.5, and ~50 otherwise, added about five at a time).
     */
    private void assertCloseTensor(String what, Tensor expected, Tensor actual, DType type) {
        assertEquals(expected.dtype(), actual.dtype(), f.msg(what + ": dtype"));
        assertArrayEquals(expected.shape(), actual.shape(), f.msg(what + ": shape"));
        double[] e = expected.toDoubleArray(), a = actual.toDoubleArray();
        double tol = switch (type) {
            case FLOAT64 -> 1e-12;
            case FLOAT32 -> 1e-5;
            default -> 3e-2;
        };
        double floor = type == DType.FLOAT16 || type == DType.BFLOAT16 ? 1000 : 50;
        for (int i = 0; i < e.length; i++) {
            if (Math.abs(e[i] - a[i]) > tol * Math.max(floor, Math.abs(e[i]))) {
                fail(f.msg(what + ": element " + i + " is " + a[i] + ", expected " + e[i]));
            }
        }
    }
}
