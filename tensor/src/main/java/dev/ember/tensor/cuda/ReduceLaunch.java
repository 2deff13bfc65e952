package dev.ember.tensor.cuda;

import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The launch rules and argument structs of reduce.cu (reductions, cumsum) and softmax.cu, as
 * the comments at the top of those files publish them. Every kernel there sees its input as
 * [outer, r, inner] (contiguous, the middle axis reduced, scanned or normalised) and runs with
 * blocks of {@link #THREADS} threads. The grid and the split count come from the three sizes
 * alone: the split count fixes the order in which values are combined, so a result depends on
 * the sizes and never on the device or the timing.
 */
public final class ReduceLaunch {
    private ReduceLaunch() {}

    /** Threads per block of every reduce.cu and softmax.cu entry point (ember_reduce.cuh's kThreads). */
    public static final int THREADS = 256;
    /** The grid y limit of the split launches (splits never exceed 2048 by the rules). */
    public static final int MAX_GRID_Y = 65535;

    /**
     * One launch configuration.
     *
     * @param blocks      grid x as the rule computes it (the kernels loop, so any grid x >= 1 is
     *                    correct; {@link #gridX} caps it at what a launch accepts)
     * @param splits      grid y: blocks sharing each output (reductions) or line (scans) along r
     * @param sharedBytes dynamic shared memory (softmax's row cache), else 0
     */
    public record Grid(long blocks, int splits, int sharedBytes) {
        public int gridX() { return (int) Math.max(1, Math.min(blocks, Integer.MAX_VALUE)); }
    }

    /**
     * How the kernels read a tensor as [outer, r, inner] for a reduction over the {@code reduced}
     * dims: in place when it is contiguous and its reduced dims are neighbours (size-1 dims do not
     * count); otherwise from a contiguous copy whose dims are in {@code copyOrder}, the kept dims
     * first and then the reduced ones, each in their order (rows: inner = 1). Either way the
     * outputs come out in the row-major order of the kept dims. A tensor without elements is
     * never read: r is then 0, or there are no outputs.
     *
     * @param copyOrder null to read the tensor in place, else the dim order of the copy
     */
    public record Lines(long outer, long r, long inner, int[] copyOrder) {
        public static Lines ofReduction(long[] shape, boolean contiguous, boolean[] reduced) {
            long outputs = 1, count = 1;
            int first = -1, last = -1;
            for (int d = 0; d < shape.length; d++) {
                if (reduced[d]) count *= shape[d]; else outputs *= shape[d];
                if (reduced[d] && shape[d] != 1) {
                    if (first < 0) first = d;
                    last = d;
                }
            }
            if (outputs == 0 || count == 0) return new Lines(outputs, count, 1, null);
            boolean neighbours = true;
            for (int d = Math.max(first, 0); d <= last; d++) neighbours &= reduced[d] || shape[d] == 1;
            if (neighbours && contiguous) {
                if (first < 0) return new Lines(outputs, 1, 1, null); // nothing of size > 1 is reduced
                long outer = 1, inner = 1;
                for (int d = 0; d < first; d++) outer *= shape[d];
                for (int d = last + 1; d < shape.length; d++) inner *= shape[d];
                return new Lines(outer, count, inner, null);
            }
            int[] order = new int[shape.length];
            int i = 0;
            for (int d = 0; d < shape.length; d++) if (!reduced[d]) order[i++] = d;
            for (int d = 0; d < shape.length; d++) if (reduced[d]) order[i++] = d;
            return new Lines(outputs, count, 1, order);
        }

        /** The lines along one dim ({@code dim} wrapped; any for a 0-d shape), read in place from a contiguous tensor. */
        public static Lines along(long[] shape, int dim) {
            long outer = 1, inner = 1, r = shape.length == 0 ? 1 : shape[dim];
            for (int d = 0; d < dim; d++) outer *= shape[d];
            for (int d = dim + 1; d < shape.length; d++) inner *= shape[d];
            return new Lines(outer, r, inner, null);
        }

        public long outputs() { return outer * inner; }
    }

    /** reduce.cu's rule for a reduction of [outer, r, inner] (outer * inner > 0). */
    public static Grid reduction(long outer, long r, long inner) {
        long outputs = outer * inner;
        long blocks, cols;
        if (inner == 1 && r > 2048) { // long rows: a block per (row, split)
            blocks = outer;
            cols = 1;
        } else { // a tile of outputs per block; rows (inner = 1) are never split
            long by = tileTeam(r, inner);
            blocks = ceilDiv(outputs, THREADS / by);
            cols = inner == 1 ? 0 : THREADS / by;
        }
        long splits = 1;
        if (cols > 0 && blocks < 2048) splits = Math.max(1, Math.min(ceilDiv(2048, blocks), ceilDiv(r * cols, 16384)));
        return new Grid(blocks, (int) splits, 0);
    }

    /** The finish pass of a split reduction: one block per output, up to the grid x the rule names. */
    public static int finishGrid(long outputs) { return (int) Math.min(outputs, MAX_GRID_Y); }

    /** reduce.cu's rule for cumsum/cumprod of [outer, r, inner] (outer * inner > 0, r > 0). */
    public static Grid scan(long outer, long r, long inner) {
        long lines = outer * inner;
        long blocks, span;
        if (inner == 1 && r > 2048) { // a block per line
            blocks = outer;
            span = 16384;
        } else if (inner == 1 && r > 16) { // a warp per line, never split
            blocks = ceilDiv(outer, 8);
            span = 0;
        } else { // a thread per line
            blocks = ceilDiv(lines, THREADS);
            span = 64;
        }
        long splits = 1;
        if (span > 0 && blocks < 2048) splits = Math.max(1, Math.min(ceilDiv(2048, blocks), ceilDiv(r, span)));
        return new Grid(blocks, (int) splits, 0);
    }

    /**
     * softmax.cu's rule for [outer, r, inner] (all > 0): a block per row for rows longer than
     * 1024 (inner = 1), its inputs cached in shared memory where they fit in 32 KiB; tiles
     * otherwise.
     */
    public static Grid softmax(long outer, long r, long inner, int itemSize, boolean backward) {
        if (inner == 1 && r > 1024) {
            long bytes = (backward ? 2 : 1) * ceilDiv(r * itemSize, 16) * 16;
            return new Grid(outer, 1, bytes <= 32768 ? (int) bytes : 0);
        }
        return new Grid(ceilDiv(outer * inner, THREADS / tileTeam(r, inner)), 1, 0);
    }

    /** ember_reduce.cuh's tile_team: the threads along r that share one output of a tile. */
    static long tileTeam(long r, long inner) {
        if (inner == 1) return Math.min(32, nextPow2(ceilDiv(r, 8)));
        long bx = Math.min(THREADS, nextPow2(inner));
        return Math.min(THREADS / bx, nextPow2(r));
    }

    /** The smallest power of two >= v, and 1 for v <= 1 (ember_reduce.cuh's next_pow2). */
    static long nextPow2(long v) {
        long p = 1;
        while (p < v) p <<= 1;
        return p;
    }

    private static long ceilDiv(long a, long b) { return (a + b - 1) / b; }

    // ---------------------------------------------------------------- the structs, passed by value

    /** Bytes of EmberReduceArgs. */
    public static final long REDUCE_ARGS_BYTES = 72;
    /** Bytes of EmberScanArgs. */
    public static final long SCAN_ARGS_BYTES = 56;
    /** Bytes of EmberSoftmaxArgs. */
    public static final long SOFTMAX_ARGS_BYTES = 48;
    /** The alignment of all three structs. */
    public static final long ALIGNMENT = 8;

    /**
     * EmberReduceArgs: out at 0, out2 at 8, in at 16, workspace at 24, outer at 32, r at 40,
     * inner at 48, param (double) at 56, splits (int32) at 64, reserved (int32, 0) at 68.
     */
    public static MemorySegment reduceArgs(SegmentAllocator arena, long out, long out2, long in, long workspace, long outer, long r,
                                           long inner, double param, int splits) {
        MemorySegment m = words(arena, REDUCE_ARGS_BYTES, out, out2, in, workspace, outer, r, inner);
        m.set(ValueLayout.JAVA_DOUBLE, 56, param);
        m.set(ValueLayout.JAVA_INT, 64, splits);
        m.set(ValueLayout.JAVA_INT, 68, 0);
        return m;
    }

    /**
     * EmberScanArgs: out at 0, in at 8, workspace at 16, outer at 24, r at 32, inner at 40,
     * splits (int32) at 48, phase (int32: 0 scan, 1 segment totals, 2 carries) at 52.
     */
    public static MemorySegment scanArgs(SegmentAllocator arena, long out, long in, long workspace, long outer, long r, long inner,
                                         int splits, int phase) {
        MemorySegment m = words(arena, SCAN_ARGS_BYTES, out, in, workspace, outer, r, inner);
        m.set(ValueLayout.JAVA_INT, 48, splits);
        m.set(ValueLayout.JAVA_INT, 52, phase);
        return m;
    }

    /** EmberSoftmaxArgs: out at 0, in at 8, grad at 16 (0 for the forward), outer at 24, r at 32, inner at 40. */
    public static MemorySegment softmaxArgs(SegmentAllocator arena, long out, long in, long grad, long outer, long r, long inner) {
        return words(arena, SOFTMAX_ARGS_BYTES, out, in, grad, outer, r, inner);
    }

    /** A struct of {@code bytes} (8-aligned) whose leading fields are these 8-byte words, in order from offset 0. */
    private static MemorySegment words(SegmentAllocator arena, long bytes, long... words) {
        MemorySegment m = arena.allocate(bytes, ALIGNMENT);
        for (int i = 0; i < words.length; i++) m.set(ValueLayout.JAVA_LONG, 8L * i, words[i]);
        return m;
    }
}
