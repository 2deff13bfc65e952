package dev.ember.tensor.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * The launch rules and structs of reduce.cu and softmax.cu as the host writes them, checked
 * against values worked out by hand from the formulas and byte offsets in those files' header
 * comments (which the kernels' static_asserts pin down). No GPU needed.
 */
class ReduceLaunchTest {

    @Test
    void reductionRuleSplitsLongRowsAndColumnsButNeverShortRows() {
        // the contract's own example: one 256 MiB float32 tensor is 2048 blocks, then one finish block
        assertEquals(new ReduceLaunch.Grid(1, 2048, 0), ReduceLaunch.reduction(1, 1L << 26, 1));
        assertEquals(1, ReduceLaunch.finishGrid(1));
        // long rows: a block per row, split ceil(r / 16384) ways while fewer than 2048 blocks
        assertEquals(new ReduceLaunch.Grid(2, 5, 0), ReduceLaunch.reduction(2, 70001, 1));
        assertEquals(new ReduceLaunch.Grid(3000, 1, 0), ReduceLaunch.reduction(3000, 70001, 1));
        // short rows: teams of min(32, next_pow2(ceil(r / 8))) lanes, never split
        assertEquals(new ReduceLaunch.Grid(63, 1, 0), ReduceLaunch.reduction(1000, 100, 1));
        assertEquals(new ReduceLaunch.Grid(1, 1, 0), ReduceLaunch.reduction(1, 2048, 1));
        // columns: by = min(256 / min(256, next_pow2(inner)), next_pow2(r)), split by ceil(r * cols / 16384)
        assertEquals(new ReduceLaunch.Grid(1, 25, 0), ReduceLaunch.reduction(1, 100000, 4));
        assertEquals(new ReduceLaunch.Grid(274, 1, 0), ReduceLaunch.reduction(1, 2, 70001));
        assertEquals(new ReduceLaunch.Grid(1, 79, 0), ReduceLaunch.reduction(1, 20000, 40)); // by 4, cols 64
        // no elements along r: one tile, nothing split
        assertEquals(new ReduceLaunch.Grid(1, 1, 0), ReduceLaunch.reduction(5, 0, 1));
        assertEquals(new ReduceLaunch.Grid(1, 1, 0), ReduceLaunch.reduction(1, 0, 7));
        assertEquals(65535, ReduceLaunch.finishGrid(1L << 20));
    }

    @Test
    void scanRuleSplitsBlockLinesAndThreadLinesButNotWarpLines() {
        assertEquals(new ReduceLaunch.Grid(2, 7, 0), ReduceLaunch.scan(2, 100000, 1));
        assertEquals(new ReduceLaunch.Grid(3, 1, 0), ReduceLaunch.scan(3, 5000, 1));
        assertEquals(new ReduceLaunch.Grid(5, 1, 0), ReduceLaunch.scan(40, 100, 1));
        assertEquals(new ReduceLaunch.Grid(1, 79, 0), ReduceLaunch.scan(1, 5000, 3));
        assertEquals(new ReduceLaunch.Grid(3, 1, 0), ReduceLaunch.scan(100, 16, 7)); // 700 lines, r <= 64
        assertEquals(new ReduceLaunch.Grid(3000, 1, 0), ReduceLaunch.scan(3000, 3000, 1));
    }

    @Test
    void softmaxRuleCachesLongRowsThatFitIn32KiB() {
        assertEquals(new ReduceLaunch.Grid(64, 1, 12000), ReduceLaunch.softmax(64, 3000, 1, 4, false));
        assertEquals(new ReduceLaunch.Grid(64, 1, 24000), ReduceLaunch.softmax(64, 3000, 1, 4, true));
        assertEquals(new ReduceLaunch.Grid(4, 1, 0), ReduceLaunch.softmax(4, 9000, 1, 4, false));
        assertEquals(new ReduceLaunch.Grid(8, 1, 2064), ReduceLaunch.softmax(8, 1025, 1, 2, false)); // 2050 bytes, whole chunks
        assertEquals(new ReduceLaunch.Grid(128, 1, 0), ReduceLaunch.softmax(4096, 40, 1, 4, false)); // teams of 8 lanes
        assertEquals(new ReduceLaunch.Grid(1, 1, 0), ReduceLaunch.softmax(1, 3000, 3, 4, false)); // columns: by 64, bx 4
        assertEquals(new ReduceLaunch.Grid(1, 1, 0), ReduceLaunch.softmax(8, 1024, 1, 4, false)); // 1024: still tiles, 8 rows a block
    }

    @Test
    void gridXIsCappedAtWhatALaunchTakes() {
        assertEquals(Integer.MAX_VALUE, new ReduceLaunch.Grid(1L << 40, 1, 0).gridX());
        assertEquals(1, new ReduceLaunch.Grid(0, 1, 0).gridX());
    }

    @Test
    void structsHaveTheContractsOffsets() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment r = ReduceLaunch.reduceArgs(arena, 11, 12, 13, 14, 15, 16, 17, 0.5, 18);
            assertEquals(72, r.byteSize());
            long[] longs = {11, 12, 13, 14, 15, 16, 17};
            for (int i = 0; i < longs.length; i++) assertEquals(longs[i], r.get(ValueLayout.JAVA_LONG, 8L * i));
            assertEquals(0.5, r.get(ValueLayout.JAVA_DOUBLE, 56));
            assertEquals(18, r.get(ValueLayout.JAVA_INT, 64));
            assertEquals(0, r.get(ValueLayout.JAVA_INT, 68));

            MemorySegment s = ReduceLaunch.scanArgs(arena, 21, 22, 23, 24, 25, 26, 27, 2);
            assertEquals(56, s.byteSize());
            for (int i = 0; i < 6; i++) assertEquals(21 + i, s.get(ValueLayout.JAVA_LONG, 8L * i));
            assertEquals(27, s.get(ValueLayout.JAVA_INT, 48));
            assertEquals(2, s.get(ValueLayout.JAVA_INT, 52));

            MemorySegment m = ReduceLaunch.softmaxArgs(arena, 31, 32, 0, 34, 35, 36);
            assertEquals(48, m.byteSize());
            long[] fields = {31, 32, 0, 34, 35, 36};
            for (int i = 0; i < fields.length; i++) assertEquals(fields[i], m.get(ValueLayout.JAVA_LONG, 8L * i));
            assertEquals(0, m.address() % ReduceLaunch.ALIGNMENT);
        }
    }
}
