package dev.ember.tensor.cpu;

import dev.ember.tensor.DType;
import java.lang.foreign.MemorySegment;

/**
 * What {@link CpuReduction} runs for one output: fold a range of its reduced positions into a
 * partial result, merge partials of consecutive ranges, write the result. Partials live in
 * plain arrays, so the per-output loop allocates nothing.
 */
final class CpuReduceKernels {
    private CpuReduceKernels() {}

    /** Partial results, one slot per range: a double or long accumulator and, for arg kinds, an index. */
    static final class Partials {
        final double[] value;
        final long[] whole;
        final long[] index;

        Partials(int slots) {
            value = new double[slots];
            whole = new long[slots];
            index = new long[slots];
        }
    }

    /** Operand 0 of the geometry is always the input; {@code at} holds every operand's offset at one output. */
    abstract static class Kernel {
        final MemorySegment in;
        final DType inType;

        Kernel(Strided input) {
            in = input.segment();
            inType = input.dtype();
        }

        /** Folds reduced positions [from, to) of the output at {@code at} into {@code p}'s slot. */
        abstract void fold(CpuReduceGeometry.Runs runs, long[] at, long from, long to, Partials p, int slot);

        /** Folds slot {@code right}, the range after slot {@code left}'s, into {@code left}. */
        abstract void merge(Partials p, int left, int right);

        /** Writes the result of slot {@code slot}, covering all {@code count} reduced positions. */
        abstract void write(long[] at, Partials p, int slot, long count);
    }

    /**
     * A {@link CpuReduceOp}: operands (input, output[, centres]). Integer inputs fold in long when
     * the op has an integer form; float32 runs that are contiguous take the op's vector form.
     */
    static final class Fold extends Kernel {
        /** Shorter contiguous runs are cheaper per element than a vector loop's set-up. */
        private static final long MIN_VECTOR_RUN = CpuReductionVectors.GROUP;

        private final CpuReduceOp op;
        private final boolean integral, vector;
        private final MemorySegment out, centers;
        private final DType outType, centerType;

        Fold(CpuReduceOp op, Strided input, Strided output, Strided centers) {
            super(input);
            this.op = op;
            integral = !inType.isFloatingPoint() && op.integral() != null;
            vector = op.vector() != null && inType == DType.FLOAT32;
            out = output.segment();
            outType = output.dtype();
            this.centers = centers == null ? null : centers.segment();
            centerType = centers == null ? null : centers.dtype();
        }

        double center(long[] at) {
            return centers == null ? 0 : Elements.getDouble(centers, centerType, at[2]);
        }

        @Override
        void fold(CpuReduceGeometry.Runs runs, long[] at, long from, long to, Partials p, int slot) {
            runs.start(at[0], from, to);
            if (integral) {
                long acc = op.integralIdentity();
                while (runs.next()) {
                    for (long i = 0; i < runs.n; i++) {
                        acc = op.integral().applyAsLong(acc, Elements.getLong(in, inType, runs.offset + i * runs.stride));
                    }
                }
                p.whole[slot] = acc;
                return;
            }
            double c = center(at);
            double acc = op.identity();
            while (runs.next()) {
                if (vector && runs.stride == 4 && runs.n >= MIN_VECTOR_RUN) {
                    acc = op.merge().applyAsDouble(acc, op.vector().run().fold(in, runs.offset, runs.n, (float) c));
                } else {
                    for (long i = 0; i < runs.n; i++) {
                        acc = op.accumulate().apply(acc, Elements.getDouble(in, inType, runs.offset + i * runs.stride), c);
                    }
                }
            }
            p.value[slot] = acc;
        }

        @Override
        void merge(Partials p, int left, int right) {
            if (integral) p.whole[left] = op.integral().applyAsLong(p.whole[left], p.whole[right]);
            else p.value[left] = op.merge().applyAsDouble(p.value[left], p.value[right]);
        }

        @Override
        void write(long[] at, Partials p, int slot, long count) {
            if (integral) Elements.putLong(out, outType, at[1], p.whole[slot]);
            else Elements.putDouble(out, outType, at[1], op.finish().apply(p.value[slot], count, center(at)));
        }
    }

    /**
     * The position of the largest (or smallest) element: operands (input, indices[, values]).
     * The first of equal elements wins; a NaN beats every number, and the first NaN wins.
     * Integers compare exactly, in long. Reduced dims keep their order, so a position is an index.
     */
    static final class Arg extends Kernel {
        private final boolean max, integral;
        private final MemorySegment indices, values;
        private final DType valueType;

        Arg(boolean max, Strided input, Strided indices, Strided values) {
            super(input);
            this.max = max;
            integral = !inType.isFloatingPoint();
            this.indices = indices.segment();
            this.values = values == null ? null : values.segment();
            valueType = values == null ? null : values.dtype();
        }

        private boolean beats(double x, double best) {
            boolean nan = x != x && best == best;
            return nan || (max ? x > best : x < best);
        }

        private boolean beats(long x, long best) {
            return max ? x > best : x < best;
        }

        @Override
        void fold(CpuReduceGeometry.Runs runs, long[] at, long from, long to, Partials p, int slot) {
            runs.start(at[0], from, to);
            long position = from, found = -1;
            long bestWhole = 0;
            double best = 0;
            while (runs.next()) {
                for (long i = 0; i < runs.n; i++, position++) {
                    long offset = runs.offset + i * runs.stride;
                    if (integral) {
                        long x = Elements.getLong(in, inType, offset);
                        if (found < 0 || beats(x, bestWhole)) {
                            bestWhole = x;
                            found = position;
                        }
                    } else {
                        double x = Elements.getDouble(in, inType, offset);
                        if (found < 0 || beats(x, best)) {
                            best = x;
                            found = position;
                        }
                    }
                }
            }
            p.value[slot] = best;
            p.whole[slot] = bestWhole;
            p.index[slot] = found;
        }

        @Override
        void merge(Partials p, int left, int right) {
            if (p.index[right] < 0) return;
            boolean take = p.index[left] < 0
                    || (integral ? beats(p.whole[right], p.whole[left]) : beats(p.value[right], p.value[left]));
            if (take) {
                p.value[left] = p.value[right];
                p.whole[left] = p.whole[right];
                p.index[left] = p.index[right];
            }
        }

        @Override
        void write(long[] at, Partials p, int slot, long count) {
            Elements.putLong(indices, DType.INT64, at[1], p.index[slot]);
            if (values == null) return;
            if (integral) Elements.putLong(values, valueType, at[2], p.whole[slot]);
            else Elements.putDouble(values, valueType, at[2], p.value[slot]);
        }
    }
}
