package dev.ember.tensor.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The elementwise kernels' geometry, checked on the host: after size-1 dimensions are dropped
 * and walkable neighbours merged, every operand must still reach exactly the element it reached
 * in the original geometry, at every linear index; and the struct must hold the documented bytes.
 */
class CudaLayoutTest {
    private final long seed = System.nanoTime();
    private final Random random = new Random(seed);

    @Test
    void simplifiedGeometryReachesTheSameElementsAsTheOriginal() {
        for (int trial = 0; trial < 300; trial++) {
            int rank = random.nextInt(7);
            long[] shape = new long[rank];
            for (int d = 0; d < rank; d++) shape[d] = 1 + random.nextInt(random.nextInt(4) == 0 ? 1 : 5);
            int operands = 1 + random.nextInt(4);
            long[][] strides = new long[operands][];
            for (int k = 0; k < operands; k++) strides[k] = randomStrides(shape);
            CudaLayout layout = CudaLayout.of(shape, strides);
            long n = 1;
            for (long s : shape) n *= s;
            assertEquals(n, layout.numel(), "seed " + seed);
            for (long i = 0; i < n; i++) {
                long[] expected = new long[operands];
                long rest = i;
                for (int d = rank - 1; d >= 0; d--) {
                    long c = rest % shape[d];
                    rest /= shape[d];
                    for (int k = 0; k < operands; k++) expected[k] += c * strides[k][d];
                }
                assertArrayEquals(expected, layout.offsetsAt(i), "seed " + seed + ", index " + i);
            }
        }
    }

    /** Contiguous, permuted (transposed), sliced or broadcast (stride 0) strides for the shape. */
    private long[] randomStrides(long[] shape) {
        int rank = shape.length;
        long[] s = new long[rank];
        int[] order = new int[rank];
        for (int d = 0; d < rank; d++) order[d] = d;
        if (random.nextBoolean()) { // a permutation of the dims' memory order
            for (int d = rank - 1; d > 0; d--) {
                int j = random.nextInt(d + 1);
                int t = order[d];
                order[d] = order[j];
                order[j] = t;
            }
        }
        long step = 1 + (random.nextInt(3) == 0 ? random.nextInt(3) : 0);
        for (int k = rank - 1; k >= 0; k--) {
            int d = order[k];
            s[d] = random.nextInt(5) == 0 ? 0 : step;
            step *= shape[d] + (random.nextInt(4) == 0 ? 1 : 0);
        }
        return s;
    }

    @Test
    void contiguousTensorsOfAnyRankBecomeOneDimension() {
        long[] shape = {2, 3, 1, 4, 5};
        long[] strides = {60, 20, 20, 5, 1};
        CudaLayout layout = CudaLayout.of(shape, strides, strides, strides);
        assertEquals(1, layout.ndim());
        assertArrayEquals(new long[] {120}, layout.sizes());
        assertTrue(layout.contiguous());
        CudaLayout transposed = CudaLayout.of(new long[] {3, 4}, new long[] {4, 1}, new long[] {1, 3});
        assertEquals(2, transposed.ndim());
        assertFalse(transposed.contiguous());
        assertTrue(CudaLayout.of(new long[0], new long[0], new long[0]).contiguous());
    }

    @Test
    void structHoldsSizesStridesRankAndFlagsAtTheDocumentedOffsets() {
        CudaLayout layout = CudaLayout.of(new long[] {3, 4}, new long[] {4, 1}, new long[] {0, 1}, new long[] {1, 3});
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = layout.toStruct(arena);
            assertEquals(CudaLayout.BYTES, m.byteSize());
            assertEquals(3, m.get(ValueLayout.JAVA_LONG, 0));
            assertEquals(4, m.get(ValueLayout.JAVA_LONG, 8));
            assertEquals(4, m.get(ValueLayout.JAVA_LONG, 64)); // operand 0 (the output), dim 0
            assertEquals(1, m.get(ValueLayout.JAVA_LONG, 72));
            assertEquals(0, m.get(ValueLayout.JAVA_LONG, 128)); // operand 1 broadcast over dim 0
            assertEquals(1, m.get(ValueLayout.JAVA_LONG, 192));
            assertEquals(3, m.get(ValueLayout.JAVA_LONG, 200));
            assertEquals(2, m.get(ValueLayout.JAVA_INT, 320));
            assertEquals(0, m.get(ValueLayout.JAVA_INT, 324));

            MemorySegment copy = CudaLayout.of(new long[] {3, 4}, new long[] {4, 1}, new long[] {1, 3}).toCopyStruct(arena);
            assertEquals(200, copy.byteSize());
            assertEquals(4, copy.get(ValueLayout.JAVA_LONG, 64));
            assertEquals(3, copy.get(ValueLayout.JAVA_LONG, 136));
            assertEquals(2, copy.get(ValueLayout.JAVA_INT, 192));
        }
    }

    @Test
    void moreThanFourOperandsOrEightMergedDimensionsAreRefused() {
        long[] s = {1};
        assertThrows(IllegalArgumentException.class, () -> CudaLayout.of(new long[] {2}, s, s, s, s, s));
        long[] shape = {2, 2, 2, 2, 2, 2, 2, 2, 2};
        long[] transposedEverywhere = {1, 2, 4, 8, 16, 32, 64, 128, 256};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CudaLayout.of(shape, transposedEverywhere));
        assertTrue(e.getMessage().contains("at most 8 dimensions"), e.getMessage());
    }
}
