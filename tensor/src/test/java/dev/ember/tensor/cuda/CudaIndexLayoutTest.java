package dev.ember.tensor.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * The struct index.cu's layout kernels take by value, checked byte for byte against the
 * contract's offsets, and the mapping from a reported error position back to the index
 * element, on the host (no GPU needed).
 */
class CudaIndexLayoutTest {

    @Test
    void theStructHasTheContractsOffsets() {
        // gather along dim 1 of a contiguous [2, 5] self with a [2, 3] index into a [2, 3] out
        CudaIndexLayout layout = CudaIndexLayout.of(new long[] {2, 3}, new long[] {5, 0}, new long[] {3, 1},
                new long[] {3, 1}, 5, 1);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = layout.toStruct(arena);
            assertEquals(280, m.byteSize());
            assertEquals(0, m.address() % 8);
            long[] expected = new long[35];
            expected[0] = 2;
            expected[1] = 3; // sizes at 0
            expected[8] = 5;
            expected[9] = 0; // self_strides at 64
            expected[16] = 3;
            expected[17] = 1; // index_strides at 128
            expected[24] = 3;
            expected[25] = 1; // other_strides at 192
            expected[32] = 5; // dim_size at 256
            expected[33] = 1; // dim_stride at 264
            for (int i = 0; i < 34; i++) assertEquals(expected[i], m.getAtIndex(ValueLayout.JAVA_LONG, i), "word " + i);
            assertEquals(2, m.get(ValueLayout.JAVA_INT, 272), "ndim");
            assertEquals(0, m.get(ValueLayout.JAVA_INT, 276), "reserved");
        }
        assertEquals(6, layout.numel());
        assertEquals(5, layout.dimSize());
    }

    @Test
    void mergedDimsKeepRowMajorPositionsForTheErrorReport() {
        // a contiguous [2, 1, 3] scatter (indexed dim 1) merges to one dim of 6: position p is index element p
        CudaIndexLayout merged = CudaIndexLayout.of(new long[] {2, 1, 3}, new long[] {3, 0, 1}, new long[] {3, 3, 1},
                new long[] {3, 3, 1}, 4, 3);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = merged.toStruct(arena);
            assertEquals(1, m.get(ValueLayout.JAVA_INT, 272), "ndim after merging");
            assertEquals(6, m.getAtIndex(ValueLayout.JAVA_LONG, 0));
        }
        for (long p = 0; p < 6; p++) assertEquals(p, merged.indexOffsetAt(p));

        // a transposed [3, 4] index (strides 1, 3): position 5 = (1, 1) is element 1 + 3
        CudaIndexLayout transposed = CudaIndexLayout.of(new long[] {3, 4}, new long[] {0, 1}, new long[] {1, 3},
                new long[] {4, 1}, 7, 4);
        assertEquals(4, transposed.indexOffsetAt(5));
        assertEquals(1 * 2 + 3 * 3, transposed.indexOffsetAt(2 * 4 + 3));
    }

    @Test
    void aZeroDimGeometryIsOneElementWithNoDims() {
        CudaIndexLayout scalar = CudaIndexLayout.of(new long[] {1}, new long[] {0}, new long[] {0}, new long[] {0}, 1, 0);
        assertEquals(1, scalar.numel());
        assertEquals(0, scalar.indexOffsetAt(0));
        try (Arena arena = Arena.ofConfined()) {
            assertEquals(0, scalar.toStruct(arena).get(ValueLayout.JAVA_INT, 272));
        }
    }
}
