package dev.ember.tensor.cpu;

/**
 * Walks N operands that share one iteration shape, each with its own byte strides (0 where it
 * is broadcast), calling a body once per run of the innermost dimension. Dims that are
 * contiguous in every operand are merged first, so a contiguous or row-broadcast tensor becomes
 * one long row and the body can use the Vector API on it. Large iterations are split across
 * threads by element range; each chunk is a whole sequence of rows or part of one.
 */
public final class StridedLoop {
    private StridedLoop() {}

    /** One run of {@code n} elements; operand k starts at byte {@code offsets[k]} and steps {@code strides[k]} bytes. */
    @FunctionalInterface
    public interface RowBody {
        void row(long n, long[] offsets, long[] strides);
    }

    /**
     * @param shape       the iteration shape
     * @param byteStrides per operand, its strides in bytes over {@code shape}
     * @param byteOffsets per operand, its starting byte offset
     * @param parallel    whether the range may be split across threads (false when the body
     *                    itself accumulates across rows)
     */
    public static void run(long[] shape, long[][] byteStrides, long[] byteOffsets, boolean parallel, RowBody body) {
        int ops = byteStrides.length;
        // Coalesce: drop size-1 dims, merge dim i into i+1 when every operand steps over it evenly.
        long[] sizes = new long[shape.length];
        long[][] strides = new long[ops][shape.length];
        int rank = 0;
        long numel = 1;
        for (int d = 0; d < shape.length; d++) {
            long size = shape[d];
            numel *= size;
            if (size == 1) continue;
            if (rank > 0 && mergeable(strides, byteStrides, rank - 1, d, size, ops)) {
                sizes[rank - 1] *= size;
                for (int k = 0; k < ops; k++) strides[k][rank - 1] = byteStrides[k][d];
                continue;
            }
            sizes[rank] = size;
            for (int k = 0; k < ops; k++) strides[k][rank] = byteStrides[k][d];
            rank++;
        }
        if (numel == 0) return;
        if (rank == 0) {
            body.row(1, byteOffsets.clone(), new long[ops]);
            return;
        }
        final int r = rank;
        long[] innerStrides = new long[ops];
        for (int k = 0; k < ops; k++) innerStrides[k] = strides[k][r - 1];
        long total = numel;
        if (!parallel || total < Parallel.GRAIN) {
            walk(0, total, sizes, strides, r, byteOffsets, innerStrides, body);
        } else {
            Parallel.forRange(total, Parallel.GRAIN, (s, e) -> walk(s, e, sizes, strides, r, byteOffsets, innerStrides, body));
        }
    }

    private static boolean mergeable(long[][] merged, long[][] original, int prev, int d, long size, int ops) {
        for (int k = 0; k < ops; k++) {
            if (merged[k][prev] != original[k][d] * size) return false;
        }
        return true;
    }

    /** Visits linear elements [start, end) of the coalesced iteration space row by row. */
    private static void walk(long start, long end, long[] sizes, long[][] strides, int rank,
                             long[] base, long[] innerStrides, RowBody body) {
        int ops = base.length;
        long inner = sizes[rank - 1];
        long[] index = new long[rank];
        long rest = start;
        for (int d = rank - 1; d >= 0; d--) {
            index[d] = rest % sizes[d];
            rest /= sizes[d];
        }
        long[] offsets = new long[ops];
        for (int k = 0; k < ops; k++) {
            long o = base[k];
            for (int d = 0; d < rank; d++) o += index[d] * strides[k][d];
            offsets[k] = o;
        }
        long[] rowOffsets = new long[ops];
        long pos = start;
        while (pos < end) {
            long n = Math.min(inner - index[rank - 1], end - pos);
            System.arraycopy(offsets, 0, rowOffsets, 0, ops);
            body.row(n, rowOffsets, innerStrides);
            pos += n;
            // advance the odometer by n elements: the inner index moves, then carries outward
            index[rank - 1] += n;
            for (int k = 0; k < ops; k++) offsets[k] += n * strides[k][rank - 1];
            for (int d = rank - 1; d > 0 && index[d] == sizes[d]; d--) {
                index[d] = 0;
                index[d - 1]++;
                for (int k = 0; k < ops; k++) offsets[k] += strides[k][d - 1] - sizes[d] * strides[k][d];
            }
        }
    }
}
