package dev.ember.tensor.cpu;


import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * softmax and log-softmax along a dim, stabilised by the line's maximum: softmax = exp(x - m) /
 * sum exp(x - m), log-softmax = (x - m) - log(sum exp(x - m)). A line holding +inf or only -inf
 * gives NaN, as PyTorch.
 *
 * <p>float32 lines contiguous in input and output are fused, one line at a time while it is in
 * cache: a max pass, a pass that writes exp(x - m) and sums it, a scale pass (log-softmax: a max
 * pass, a sum pass, a shift pass). Other dtypes get the maximum and the sum from the reduction
 * engine and are normalised by {@link #normalize}.
 */
public final class CpuSoftmax {
    private static final VectorSpecies<Float> F = VectorLoops.F;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Exponentials summed in float32 before joining the double total. */
    private static final int BLOCK = 1024;

    private CpuSoftmax() {}

    /**
     * out = (log-)softmax(in) along {@code dim}, line by line on the Vector API, lines split
     * across threads. Both are float32 and contiguous along {@code dim}.
     */
    public static void fused(long[] shape, int dim, Strided in, Strided out, boolean log) {
        CpuReduceGeometry g = CpuReduceGeometry.lines(shape, dim, in, out);
        long lines = g.outputs(), n = g.count();
        if (lines == 0) return;
        MemorySegment src = in.segment(), dst = out.segment();
        Parallel.forRange(lines, Math.max(1, Parallel.GRAIN / n), (start, end) -> {
            CpuReduceGeometry.Outputs line = g.outputsFrom(start);
            for (long i = start; i < end; i++, line.next()) {
                long[] at = line.offsets();
                float max = (float) CpuReduceOps.MAX_OP.vector().run().fold(src, at[0], n, 0f);
                if (log) {
                    double sum = CpuReduceOps.EXP_SUM.vector().run().fold(src, at[0], n, max);
                    shift(src, at[0], dst, at[1], n, max, (float) Math.log(sum));
                } else {
                    double sum = expInto(src, at[0], dst, at[1], n, max);
                    scale(dst, at[1], n, (float) (1 / sum));
                }
            }
        });
    }

    /**
     * The final pass of the general path: {@code max} and {@code sum} hold, per line (strided
     * as a keepdim result broadcast over {@code shape}), the maximum and sum exp(x - max).
     */
    public static void normalize(long[] shape, int dim, Strided in, Strided out, Strided max, Strided sum, boolean log) {
        CpuReduceGeometry g = CpuReduceGeometry.lines(shape, dim, in, out, max, sum);
        long lines = g.outputs(), n = g.count();
        if (lines == 0 || n == 0) return;
        long inStride = g.reduced.strides[0][0], outStride = g.reduced.strides[1][0];
        Parallel.forRange(lines, Math.max(1, Parallel.GRAIN / n), (start, end) -> {
            CpuReduceGeometry.Outputs line = g.outputsFrom(start);
            for (long i = start; i < end; i++, line.next()) {
                long[] at = line.offsets();
                double m = Elements.getDouble(max.segment(), max.dtype(), at[2]);
                double s = Elements.getDouble(sum.segment(), sum.dtype(), at[3]), logSum = Math.log(s);
                for (long j = 0; j < n; j++) {
                    double x = Elements.getDouble(in.segment(), in.dtype(), at[0] + j * inStride);
                    double y = log ? (x - m) - logSum : Math.exp(x - m) / s;
                    Elements.putDouble(out.segment(), out.dtype(), at[1] + j * outStride, y);
                }
            }
        });
    }

    /**
     * dst = exp(src - max); returns the sum. The exponentials (at most 1 each, so nothing
     * cancels) are summed in float32 lanes over blocks of {@link #BLOCK}, each block's lanes
     * then added in order into a double.
     */
    private static double expInto(MemorySegment src, long so, MemorySegment dst, long d0, long n, float max) {
        int lanes = F.length();
        FloatVector m = FloatVector.broadcast(F, max), zero = FloatVector.zero(F);
        double total = 0;
        for (long first = 0; first < n; first += BLOCK) {
            int len = (int) Math.min(BLOCK, n - first);
            long s = so + first * 4, d = d0 + first * 4;
            FloatVector acc = zero;
            int i = 0;
            for (int bound = len - len % lanes; i < bound; i += lanes) {
                FloatVector e = VectorExp.exp(FloatVector.fromMemorySegment(F, src, s + i * 4L, ORDER).sub(m));
                e.intoMemorySegment(dst, d + i * 4L, ORDER);
                acc = acc.add(e);
            }
            if (i < len) {
                VectorMask<Float> mask = F.indexInRange(i, len);
                FloatVector e = VectorExp.exp(FloatVector.fromMemorySegment(F, src, s + i * 4L, ORDER, mask).sub(m));
                e.intoMemorySegment(dst, d + i * 4L, ORDER, mask);
                acc = acc.add(e, mask);
            }
            for (float lane : acc.toArray()) total += lane;
        }
        return total;
    }

    /** dst *= factor. */
    private static void scale(MemorySegment dst, long d, long n, float factor) {
        int lanes = F.length();
        long i = 0;
        for (long bound = n - n % lanes; i < bound; i += lanes) {
            FloatVector.fromMemorySegment(F, dst, d + i * 4, ORDER).mul(factor).intoMemorySegment(dst, d + i * 4, ORDER);
        }
        if (i < n) {
            VectorMask<Float> mask = F.indexInRange(i, n);
            FloatVector.fromMemorySegment(F, dst, d + i * 4, ORDER, mask).mul(factor).intoMemorySegment(dst, d + i * 4, ORDER, mask);
        }
    }

    /** dst = (src - max) - logSum, in that order so values near 0 keep their relative precision. */
    private static void shift(MemorySegment src, long s, MemorySegment dst, long d, long n, float max, float logSum) {
        int lanes = F.length();
        long i = 0;
        for (long bound = n - n % lanes; i < bound; i += lanes) {
            FloatVector.fromMemorySegment(F, src, s + i * 4, ORDER).sub(max).sub(logSum).intoMemorySegment(dst, d + i * 4, ORDER);
        }
        if (i < n) {
            VectorMask<Float> mask = F.indexInRange(i, n);
            FloatVector.fromMemorySegment(F, src, s + i * 4, ORDER, mask).sub(max).sub(logSum)
                    .intoMemorySegment(dst, d + i * 4, ORDER, mask);
        }
    }
}
