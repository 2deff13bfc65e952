package dev.ember.tensor.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Inclusive prefix sums along a dim (cumsum), line by line, lines split across threads. Integer
 * outputs accumulate exactly in long (wrapping as int64 does); floating ones in double, each
 * prefix rounded once to the output dtype.
 */
public final class CpuReduceScan {
    private CpuReduceScan() {}

    public static void cumsum(long[] shape, int dim, Strided in, Strided out) {
        CpuReduceGeometry g = CpuReduceGeometry.lines(shape, dim, in, out);
        long lines = g.outputs(), n = g.count();
        if (lines == 0 || n == 0) return;
        long inStride = g.reduced.strides[0][0], outStride = g.reduced.strides[1][0];
        MemorySegment src = in.segment(), dst = out.segment();
        boolean integral = !out.dtype().isFloatingPoint();
        Parallel.forRange(lines, Math.max(1, Parallel.GRAIN / n), (start, end) -> {
            CpuReduceGeometry.Outputs line = g.outputsFrom(start);
            for (long i = start; i < end; i++, line.next()) {
                long[] at = line.offsets();
                long whole = 0;
                double acc = 0;
                for (long j = 0; j < n; j++) {
                    long from = at[0] + j * inStride, to = at[1] + j * outStride;
                    if (integral) {
                        whole += Elements.getLong(src, in.dtype(), from);
                        Elements.putLong(dst, out.dtype(), to, whole);
                    } else {
                        acc += Elements.getDouble(src, in.dtype(), from);
                        Elements.putDouble(dst, out.dtype(), to, acc);
                    }
                }
            }
        });
    }
}
