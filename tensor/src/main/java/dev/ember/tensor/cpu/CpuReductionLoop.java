package dev.ember.tensor.cpu;

import static dev.ember.tensor.cpu.CpuReductionVectors.D;
import static dev.ember.tensor.cpu.CpuReductionVectors.F;
import static dev.ember.tensor.cpu.CpuReductionVectors.GROUP;
import static dev.ember.tensor.cpu.CpuReductionVectors.widen;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * The float32 fold loops, as a template: never used itself, only copied per op as a hidden
 * class by {@link CpuReductionVectors#specialise}, whose class data sets the static finals
 * below. In each copy they are constants, so the JIT inlines the contribution and intrinsifies
 * the combine. (No lambdas in here: a copy must not need anything from the template.)
 */
final class CpuReductionLoop implements CpuReduceOp.RunFold, CpuReduceOp.ColumnFold {
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final CpuReductionVectors.Spec SPEC = LoopCopies.classData(MethodHandles.lookup(), CpuReductionVectors.Spec.class);
    private static final CpuReductionVectors.Contribution CONTRIBUTION = SPEC == null ? null : SPEC.contribution();
    private static final VectorOperators.Associative COMBINE = SPEC == null ? null : SPEC.combine();
    private static final double IDENTITY = SPEC == null ? 0 : SPEC.identity();

    /**
     * Folds the contiguous run of {@code n} floats at byte {@code offset} into four float64
     * vector accumulators (independent chains, so the adds overlap), then into one double. Each
     * block of 4·GROUP floats goes a GROUP to each accumulator, in order; the tail's groups all
     * go to the first.
     */
    @Override
    public double fold(MemorySegment s, long offset, long n, float center) {
        int lanes = F.length(), unrolled = 2 * lanes;
        FloatVector c = FloatVector.broadcast(F, center);
        DoubleVector a0 = DoubleVector.broadcast(D, IDENTITY), a1 = a0, a2 = a0, a3 = a0;
        long i = 0;
        for (long bound = n - n % unrolled; i < bound; i += unrolled) {
            long at = offset + i * 4;
            FloatVector x0 = CONTRIBUTION.apply(FloatVector.fromMemorySegment(F, s, at, ORDER), c);
            FloatVector x1 = CONTRIBUTION.apply(FloatVector.fromMemorySegment(F, s, at + 4L * lanes, ORDER), c);
            a0 = a0.lanewise(COMBINE, widen(x0, 0));
            a1 = a1.lanewise(COMBINE, widen(x0, 1));
            a2 = a2.lanewise(COMBINE, widen(x1, 0));
            a3 = a3.lanewise(COMBINE, widen(x1, 1));
        }
        for (; i < n; i += lanes) {
            FloatVector y = CONTRIBUTION.apply(FloatVector.fromMemorySegment(F, s, offset + i * 4, ORDER, F.indexInRange(i, n)), c);
            a0 = a0.blend(a0.lanewise(COMBINE, widen(y, 0)), D.indexInRange(i, n));
            a0 = a0.blend(a0.lanewise(COMBINE, widen(y, 1)), D.indexInRange(i + GROUP, n));
        }
        return CpuReductionVectors.joinLanes(a0.lanewise(COMBINE, a1).lanewise(COMBINE, a2.lanewise(COMBINE, a3)), COMBINE);
    }

    /**
     * Folds {@code rows} rows of {@code cols} contiguous floats (rows {@code rowStride} bytes
     * apart) into per-column float64 accumulators, column j centred on {@code centers[j]}. Each
     * row is read front to back, a contiguous stream; the accumulators stay in L1.
     */
    @Override
    public void fold(MemorySegment s, long offset, long rowStride, long rows, int cols, float[] centers, double[] acc) {
        int lanes = F.length(), bound = cols - cols % lanes;
        for (long r = 0; r < rows; r++) {
            long row = offset + r * rowStride;
            int j = 0;
            for (; j < bound; j += lanes) {
                FloatVector y = CONTRIBUTION.apply(FloatVector.fromMemorySegment(F, s, row + j * 4L, ORDER),
                        FloatVector.fromArray(F, centers, j));
                DoubleVector.fromArray(D, acc, j).lanewise(COMBINE, widen(y, 0)).intoArray(acc, j);
                DoubleVector.fromArray(D, acc, j + GROUP).lanewise(COMBINE, widen(y, 1)).intoArray(acc, j + GROUP);
            }
            if (j < cols) {
                VectorMask<Float> m = F.indexInRange(j, cols);
                VectorMask<Double> low = D.indexInRange(j, cols), high = D.indexInRange(j + GROUP, cols);
                FloatVector y = CONTRIBUTION.apply(FloatVector.fromMemorySegment(F, s, row + j * 4L, ORDER, m),
                        FloatVector.fromArray(F, centers, j, m));
                DoubleVector.fromArray(D, acc, j, low).lanewise(COMBINE, widen(y, 0)).intoArray(acc, j, low);
                DoubleVector.fromArray(D, acc, j + GROUP, high).lanewise(COMBINE, widen(y, 1)).intoArray(acc, j + GROUP, high);
            }
        }
    }
}
