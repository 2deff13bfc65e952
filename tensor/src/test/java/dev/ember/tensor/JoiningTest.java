package dev.ember.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ember.tensor.IndexingTest.Fixtures;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * cat and stack against plain Java references on fresh random inputs (random shapes, layouts,
 * dtypes and mixes of dtypes); split and chunk as views; then each bad input.
 */
class JoiningTest {
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

    /** As in IndexingTest: a leaked temporary would leave more live bytes than there were. */
    @AfterEach
    void close() {
        scope.close();
        assertTrue(Ember.liveBytes() <= liveBefore, "off-heap bytes left after the test's scope closed");
    }

    // ---------------------------------------------------------------- cat

    @Test
    void catMatchesReference() {
        for (DType type : DType.values()) {
            for (int trial = 0; trial < TRIALS; trial++) {
                long[] shape = f.shape(1 + f.rnd.nextInt(4), 4);
                int dim = f.rnd.nextInt(shape.length);
                List<Tensor> parts = new ArrayList<>();
                for (int i = 0, n = 1 + f.rnd.nextInt(4); i < n; i++) {
                    long[] s = shape.clone();
                    s[dim] = f.rnd.nextInt(4);
                    parts.add(f.tensor(type, s));
                }
                checkCat(type, parts, dim, "cat dim " + dim);
            }
        }
    }

    @Test
    void catPromotesMixedDtypes() {
        DType[] types = DType.values();
        for (int trial = 0; trial < 4 * TRIALS; trial++) {
            long[] shape = f.shape(1 + f.rnd.nextInt(3), 4);
            int dim = f.rnd.nextInt(shape.length);
            List<Tensor> parts = new ArrayList<>();
            DType result = null;
            for (int i = 0, n = 2 + f.rnd.nextInt(3); i < n; i++) {
                DType type = types[f.rnd.nextInt(types.length)];
                result = result == null ? type : DType.promote(result, type);
                parts.add(f.tensor(type, shape));
            }
            checkCat(result, parts, dim, "mixed cat");
        }
    }

    @Test
    void catPromotesAsPyTorch() {
        assertEquals(DType.INT32, catType(DType.INT32, DType.UINT8));
        assertEquals(DType.UINT8, catType(DType.BOOL, DType.UINT8));
        assertEquals(DType.FLOAT32, catType(DType.FLOAT16, DType.BFLOAT16));
        assertEquals(DType.FLOAT16, catType(DType.INT64, DType.FLOAT16));
        assertEquals(DType.FLOAT64, catType(DType.FLOAT32, DType.FLOAT64));
        // a skipped empty tensor still takes part in promotion
        Tensor out = Tensor.cat(List.of(Tensor.zeros(DType.INT64, 2), Tensor.zeros(DType.FLOAT16, 0)));
        assertEquals(DType.FLOAT16, out.dtype());
    }

    private static DType catType(DType a, DType b) {
        return Tensor.cat(List.of(Tensor.zeros(a, 2), Tensor.zeros(b, 3))).dtype();
    }

    @Test
    void catSkipsLegacyEmptyVectors() {
        Tensor a = f.tensor(DType.FLOAT32, 2, 3);
        Tensor empty = Tensor.zeros(DType.FLOAT64, 0);
        Tensor out = Tensor.cat(List.of(empty, a, empty), 1);
        f.assertTensor(DType.FLOAT64, new long[] {2, 3}, a.toDoubleArray(), out, "legacy empty skipped");
        f.assertTensor(DType.FLOAT32, new long[] {0}, new double[0], Tensor.cat(List.of(Tensor.zeros(0), Tensor.zeros(0)), 1),
                "all empty");
        // a [2, 0] tensor is no legacy vector: it takes part, and must match
        f.assertTensor(DType.FLOAT32, new long[] {2, 3}, a.toDoubleArray(), Tensor.cat(List.of(a, Tensor.zeros(2, 0)), 1),
                "zero-size part");
    }

    @Test
    void catOfLargeContiguousParts() {
        for (int dim = 0; dim < 2; dim++) {
            List<Tensor> parts = List.of(f.tensor(DType.FLOAT32, Fixtures.Layout.CONTIGUOUS, 200, 300),
                    f.tensor(DType.FLOAT32, Fixtures.Layout.CONTIGUOUS, 200, 300),
                    f.tensor(DType.FLOAT32, Fixtures.Layout.STEPPED, 200, 300));
            checkCat(DType.FLOAT32, parts, dim, "large cat dim " + dim);
        }
    }

    /** Checks cat(parts, dim) (given as dim or dim - rank) element by element: each comes from the part its dim coordinate falls in. */
    private void checkCat(DType type, List<Tensor> parts, int dim, String what) {
        long[] shape = parts.get(0).shape();
        long[] starts = new long[parts.size() + 1];
        List<double[]> values = new ArrayList<>();
        for (int i = 0; i < parts.size(); i++) {
            starts[i + 1] = starts[i] + parts.get(i).size(dim);
            values.add(parts.get(i).toDoubleArray());
        }
        shape[dim] = starts[parts.size()];
        double[] expected = new double[Math.toIntExact(Shapes.numel(shape))];
        for (int p = 0; p < expected.length; p++) {
            long[] at = Fixtures.unravel(p, shape);
            int part = 0;
            while (at[dim] >= starts[part + 1]) part++;
            at[dim] -= starts[part];
            expected[p] = Fixtures.cast(values.get(part)[Fixtures.ravel(at, parts.get(part).shape())], type);
        }
        int asked = f.rnd.nextBoolean() ? dim : dim - shape.length;
        f.assertTensor(type, shape, expected, Tensor.cat(parts, asked), what);
    }

    // ---------------------------------------------------------------- stack

    @Test
    void stackMatchesReference() {
        DType[] types = DType.values();
        for (DType type : types) {
            for (int trial = 0; trial < TRIALS; trial++) {
                long[] shape = f.shape(f.rnd.nextInt(4), 4);
                int dim = f.rnd.nextInt(shape.length + 1);
                List<Tensor> parts = new ArrayList<>();
                List<double[]> values = new ArrayList<>();
                // the first part sets the dtype; a later one sometimes mixes in another, to promote
                DType result = type;
                for (int i = 0, n = 1 + f.rnd.nextInt(4); i < n; i++) {
                    DType t = i > 0 && f.rnd.nextInt(4) == 0 ? types[f.rnd.nextInt(types.length)] : type;
                    result = DType.promote(result, t);
                    Tensor part = f.tensor(t, shape);
                    parts.add(part);
                    values.add(part.toDoubleArray());
                }
                long[] outShape = new long[shape.length + 1];
                for (int d = 0, s = 0; d < outShape.length; d++) outShape[d] = d == dim ? parts.size() : shape[s++];
                double[] expected = new double[Math.toIntExact(Shapes.numel(outShape))];
                for (int p = 0; p < expected.length; p++) {
                    long[] at = Fixtures.unravel(p, outShape);
                    long[] inner = new long[shape.length];
                    for (int d = 0, s = 0; d < at.length; d++) if (d != dim) inner[s++] = at[d];
                    expected[p] = Fixtures.cast(values.get((int) at[dim])[Fixtures.ravel(inner, shape)], result);
                }
                int asked = f.rnd.nextBoolean() ? dim : dim - outShape.length;
                f.assertTensor(result, outShape, expected, Tensor.stack(parts, asked), "stack dim " + asked);
            }
        }
    }

    // ---------------------------------------------------------------- split and chunk

    @Test
    void splitGivesViewsOfTheRightSizes() {
        Tensor x = f.tensor(DType.FLOAT32, 5, 4);
        assertSizes(List.of(2L, 2L, 1L), x.split(2, 0), x, 0);
        assertSizes(List.of(2L, 2L), x.split(2, -1), x, 1);
        assertSizes(List.of(5L), x.split(7, 0), x, 0);
        assertSizes(List.of(2L, 3L), x.split(new long[] {2, 3}, 0), x, 0);
        assertSizes(List.of(5L, 0L), x.split(new long[] {5, 0}, 0), x, 0);
        Tensor empty = Tensor.zeros(0, 3);
        assertSizes(List.of(0L), empty.split(0, 0), empty, 0);
        assertSizes(List.of(0L), empty.split(2, 0), empty, 0);
    }

    @Test
    void chunkGivesCeilSizedViewsAsPyTorch() {
        Tensor x = f.tensor(DType.INT64, 5, 4);
        assertSizes(List.of(3L, 2L), x.chunk(2, 0), x, 0);
        assertSizes(List.of(2L, 2L, 1L), x.chunk(3, 0), x, 0);
        assertSizes(List.of(2L, 2L, 1L), x.chunk(4, 0), x, 0); // ceil(5 / 4) = 2: only three come back
        assertSizes(List.of(1L, 1L, 1L, 1L, 1L), x.chunk(6, 0), x, 0);
        assertSizes(List.of(2L, 2L), x.chunk(2, 1), x, 1);
        Tensor six = f.tensor(DType.FLOAT16, 6);
        assertSizes(List.of(2L, 2L, 2L), six.chunk(4, 0), six, 0);
        Tensor empty = Tensor.zeros(0);
        assertSizes(List.of(0L, 0L, 0L), empty.chunk(3, 0), empty, 0);
    }

    @Test
    void splitOfRandomShapesCoversTheInput() {
        for (int trial = 0; trial < 4 * TRIALS; trial++) {
            long[] shape = f.shape(1 + f.rnd.nextInt(3), 6);
            int dim = f.rnd.nextInt(shape.length);
            Tensor x = f.tensor(DType.values()[f.rnd.nextInt(DType.values().length)], shape);
            long size = shape[dim];
            long splitSize = size == 0 ? f.rnd.nextInt(3) : 1 + f.rnd.nextInt((int) size + 1);
            List<Long> expected = new ArrayList<>();
            for (long start = 0; start < size; start += splitSize) expected.add(Math.min(splitSize, size - start));
            if (expected.isEmpty()) expected.add(0L);
            assertSizes(expected, x.split(splitSize, dim), x, dim);

            int chunks = 1 + f.rnd.nextInt(7);
            expected.clear();
            long chunkSize = Math.ceilDiv(size, chunks);
            for (long start = 0; start < size; start += chunkSize) expected.add(Math.min(chunkSize, size - start));
            if (size == 0) for (int i = 0; i < chunks; i++) expected.add(0L);
            assertSizes(expected, x.chunk(chunks, dim), x, dim);
        }
    }

    @Test
    void splitViewsWriteThrough() {
        Tensor x = Tensor.zeros(DType.FLOAT64, 4, 3);
        List<Tensor> pieces = x.split(new long[] {1, 3}, 0);
        pieces.get(1).set(7.5, 2, 1);
        assertEquals(7.5, x.get(3, 1));
        pieces.get(1).fill_(1);
        assertArrayEquals(new double[] {0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1}, x.toDoubleArray());
    }

    /** Each piece is a view of {@code x} with the expected size along dim, holding x's values from the right offset. */
    private void assertSizes(List<Long> sizes, List<Tensor> pieces, Tensor x, int dim) {
        List<Long> actual = pieces.stream().map(p -> p.size(dim)).toList();
        assertEquals(sizes, actual, f.msg("sizes along dim " + dim + " of " + Shapes.format(x.shape())));
        long start = 0;
        for (Tensor piece : pieces) {
            assertTrue(piece.sharesStorageWith(x), f.msg("a split piece must be a view"));
            long[] shape = x.shape();
            shape[dim] = piece.size(dim);
            assertArrayEquals(shape, piece.shape(), f.msg("piece shape"));
            double[] xs = x.toDoubleArray();
            double[] expected = new double[Math.toIntExact(piece.numel())];
            for (int p = 0; p < expected.length; p++) {
                long[] at = Fixtures.unravel(p, shape);
                at[dim] += start;
                expected[p] = xs[Fixtures.ravel(at, x.shape())];
            }
            assertArrayEquals(expected, piece.toDoubleArray(), 0.0, f.msg("piece values"));
            start += piece.size(dim);
        }
    }

    // ---------------------------------------------------------------- bad input

    @Test
    void catRejectsBadInput() {
        f.assertFails(IllegalArgumentException.class, () -> Tensor.cat(List.of()), "torch.cat(): expected a non-empty list of Tensors");
        f.assertFails(IllegalArgumentException.class, () -> Tensor.cat(List.of(Tensor.zeros(2, 3), Tensor.zeros(2, 4))),
                "Sizes of tensors must match except in dimension 0. Expected size 3 but got size 4 for tensor number 1 in the list.");
        f.assertFails(IllegalArgumentException.class,
                () -> Tensor.cat(List.of(Tensor.zeros(2, 3), Tensor.zeros(2, 3), Tensor.zeros(3, 4)), 1),
                "Sizes of tensors must match except in dimension 1. Expected size 2 but got size 3 for tensor number 2 in the list.");
        f.assertFails(IllegalArgumentException.class, () -> Tensor.cat(List.of(Tensor.zeros(2, 3), Tensor.zeros(3)), 1),
                "Tensors must have same number of dimensions: got 2 and 1");
        f.assertFails(IllegalArgumentException.class, () -> Tensor.cat(List.of(Tensor.zeros(1), Tensor.scalar(2))),
                "zero-dimensional tensor (at position 1) cannot be concatenated");
        f.assertFails(IndexOutOfBoundsException.class, () -> Tensor.cat(List.of(Tensor.zeros(2, 3)), 2),
                "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
        Tensor closed = Tensor.zeros(2);
        closed.close();
        f.assertFails(IllegalStateException.class, () -> Tensor.cat(List.of(Tensor.zeros(2), closed)), "used after close()");
    }

    @Test
    void stackRejectsBadInput() {
        f.assertFails(IllegalArgumentException.class, () -> Tensor.stack(List.of()), "stack expects a non-empty TensorList");
        f.assertFails(IllegalArgumentException.class, () -> Tensor.stack(List.of(Tensor.zeros(2, 3), Tensor.zeros(2, 4))),
                "stack expects each tensor to be equal size, but got [2, 3] at entry 0 and [2, 4] at entry 1");
        f.assertFails(IndexOutOfBoundsException.class, () -> Tensor.stack(List.of(Tensor.zeros(2, 3)), 3),
                "Dimension out of range (expected to be in range of [-3, 2], but got 3)");
        f.assertFails(IndexOutOfBoundsException.class, () -> Tensor.stack(List.of(Tensor.zeros(2, 3)), -4),
                "Dimension out of range (expected to be in range of [-3, 2], but got -4)");
    }

    @Test
    void splitAndChunkRejectBadInput() {
        Tensor x = Tensor.zeros(5, 4);
        f.assertFails(IllegalArgumentException.class, () -> x.split(-1, 0),
                "split expects split_size be non-negative, but got split_size=-1");
        f.assertFails(IllegalArgumentException.class, () -> x.split(0, 0),
                "split_size can only be 0 if dimension size is 0, but got dimension size of 5");
        f.assertFails(IllegalArgumentException.class, () -> x.split(new long[] {2, 2}, 0),
                "split_with_sizes expects split_sizes to sum exactly to 5 (input tensor's size at dimension 0), but got split_sizes=[2, 2]");
        f.assertFails(IllegalArgumentException.class, () -> x.split(new long[] {2, -1, 4}, 0),
                "split_with_sizes expects split_sizes have only non-negative entries, but got split_sizes=[2, -1, 4]");
        f.assertFails(IllegalArgumentException.class, () -> Tensor.scalar(1).split(1, 0), "split expects at least a 1-dimensional tensor");
        f.assertFails(IndexOutOfBoundsException.class, () -> x.split(2, 2),
                "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
        f.assertFails(IllegalArgumentException.class, () -> x.chunk(0, 0), "chunk expects `chunks` to be greater than 0, got: 0");
        f.assertFails(IllegalArgumentException.class, () -> Tensor.scalar(1).chunk(1, 0), "chunk expects at least a 1-dimensional tensor");
    }
}
