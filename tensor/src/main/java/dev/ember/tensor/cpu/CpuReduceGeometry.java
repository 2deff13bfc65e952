package dev.ember.tensor.cpu;

/**
 * The iteration space of a reduction (or of an op along one dim, as softmax and cumsum): the
 * dims are split into <em>kept</em> ones, one position per output, and <em>reduced</em> ones,
 * folded into each output. Each group is coalesced on its own (size-1 dims dropped, dims merged
 * where every operand steps over them evenly), so a contiguous row becomes one run. Strides are
 * in bytes, per operand; operand 0 is the input, which decides the order of reduced dims.
 */
final class CpuReduceGeometry {
    final long[] base;
    final Group kept;
    final Group reduced;

    /**
     * @param reorder whether reduced dims may be visited in any order (true for folds, whose
     *                result does not depend on it; false where the position is an index)
     */
    CpuReduceGeometry(long[] shape, boolean[] reducedDims, boolean reorder, Strided... operands) {
        base = new long[operands.length];
        long[][] strides = new long[operands.length][];
        for (int k = 0; k < operands.length; k++) {
            base[k] = operands[k].byteOffset();
            strides[k] = operands[k].byteStrides();
        }
        int folded = 0;
        for (boolean r : reducedDims) if (r) folded++;
        int[] keptDims = new int[shape.length - folded], foldDims = new int[folded];
        for (int d = 0, k = 0, f = 0; d < shape.length; d++) {
            if (reducedDims[d]) foldDims[f++] = d;
            else keptDims[k++] = d;
        }
        if (reorder) sortByInputStride(foldDims, strides[0]);
        kept = new Group(shape, keptDims, strides);
        reduced = new Group(shape, foldDims, strides);
    }

    /**
     * Orders dims by the input's stride, largest outermost, so a permuted but dense input folds
     * in memory order; broadcast (stride 0) dims go outermost of all, so they repeat whole runs.
     * Stable, and rank is small: an insertion sort.
     */
    private static void sortByInputStride(int[] dims, long[] inputStrides) {
        for (int i = 1; i < dims.length; i++) {
            int d = dims[i], j = i - 1;
            while (j >= 0 && outerness(inputStrides[dims[j]]) < outerness(inputStrides[d])) {
                dims[j + 1] = dims[j];
                j--;
            }
            dims[j + 1] = d;
        }
    }

    private static long outerness(long stride) {
        return stride == 0 ? Long.MAX_VALUE : Math.abs(stride);
    }

    /** The lines along {@code dim} (an op applied line by line, as softmax and cumsum): one output per line. */
    static CpuReduceGeometry lines(long[] shape, int dim, Strided... operands) {
        boolean[] along = new boolean[shape.length];
        if (shape.length > 0) along[dim] = true;
        return new CpuReduceGeometry(shape, along, false, operands);
    }

    /** Number of outputs. */
    long outputs() { return kept.numel; }

    /** Number of elements folded into each output. */
    long count() { return reduced.numel; }

    /** Coalesced dims of one group, outermost first; at least one dim (size 1, stride 0) when empty. */
    static final class Group {
        final int rank;
        final long[] sizes;
        /** strides[operand][dim], bytes. */
        final long[][] strides;
        final long numel;

        Group(long[] shape, int[] dims, long[][] operandStrides) {
            int ops = operandStrides.length;
            long[] s = new long[Math.max(1, dims.length)];
            long[][] st = new long[ops][s.length];
            int r = 0;
            long n = 1;
            for (int d : dims) {
                long size = shape[d];
                n *= size;
                if (size == 1) continue;
                if (r > 0 && mergeable(st, operandStrides, r - 1, d, size)) {
                    s[r - 1] *= size;
                    for (int k = 0; k < ops; k++) st[k][r - 1] = operandStrides[k][d];
                    continue;
                }
                s[r] = size;
                for (int k = 0; k < ops; k++) st[k][r] = operandStrides[k][d];
                r++;
            }
            if (r == 0) {
                s[0] = 1;
                r = 1;
            }
            rank = r;
            sizes = s;
            strides = st;
            numel = n;
        }

        private static boolean mergeable(long[][] merged, long[][] original, int prev, int d, long size) {
            for (int k = 0; k < merged.length; k++) {
                if (merged[k][prev] != original[k][d] * size) return false;
            }
            return true;
        }
    }

    /** Visits outputs in order, holding every operand's byte offset at the current one. */
    Outputs outputsFrom(long first) {
        Outputs o = new Outputs();
        o.seek(first);
        return o;
    }

    final class Outputs {
        private final long[] index = new long[kept.rank];
        private final long[] offsets = new long[base.length];

        /** Offsets of each operand at the current output; updated in place by {@link #next}. */
        long[] offsets() { return offsets; }

        void seek(long position) {
            long rest = position;
            for (int d = kept.rank - 1; d >= 0; d--) {
                index[d] = rest % kept.sizes[d];
                rest /= kept.sizes[d];
            }
            for (int k = 0; k < base.length; k++) {
                long o = base[k];
                for (int d = 0; d < kept.rank; d++) o += index[d] * kept.strides[k][d];
                offsets[k] = o;
            }
        }

        void next() {
            int d = kept.rank - 1;
            index[d]++;
            for (int k = 0; k < offsets.length; k++) offsets[k] += kept.strides[k][d];
            for (; d > 0 && index[d] == kept.sizes[d]; d--) {
                index[d] = 0;
                index[d - 1]++;
                for (int k = 0; k < offsets.length; k++) offsets[k] += kept.strides[k][d - 1] - kept.sizes[d] * kept.strides[k][d];
            }
        }
    }

    /** A reusable walker over the reduced positions of the input, run by run. */
    Runs runs() { return new Runs(); }

    /**
     * Splits a linear range of reduced positions (row-major over the reduced dims) into runs
     * along the innermost reduced dim: after each {@link #next()}, {@code n} elements from byte
     * {@code offset}, {@code stride} bytes apart.
     */
    final class Runs {
        long offset, n, stride;
        private final long[] index = new long[reduced.rank];
        private long position, end, cursor;

        void start(long inputBase, long from, long to) {
            position = from;
            end = to;
            if (from >= to) return;
            long rest = from, o = inputBase;
            for (int d = reduced.rank - 1; d >= 0; d--) {
                index[d] = rest % reduced.sizes[d];
                rest /= reduced.sizes[d];
                o += index[d] * reduced.strides[0][d];
            }
            cursor = o;
            stride = reduced.strides[0][reduced.rank - 1];
        }

        boolean next() {
            if (position >= end) return false;
            int d = reduced.rank - 1;
            n = Math.min(reduced.sizes[d] - index[d], end - position);
            offset = cursor;
            position += n;
            index[d] += n;
            cursor += n * stride;
            for (; d > 0 && index[d] == reduced.sizes[d]; d--) {
                index[d] = 0;
                index[d - 1]++;
                cursor += reduced.strides[0][d - 1] - reduced.sizes[d] * reduced.strides[0][d];
            }
            return true;
        }
    }
}
