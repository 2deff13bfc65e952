package dev.ember.tensor.cpu;

import dev.ember.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * 2-D average pooling, fixed-window and adaptive, over contiguous planes (one per batch ×
 * channel), float32 or float64: each output is its window's sum (in double) divided by
 * span_h·span_w from its {@link CpuPoolAxis}. A window that holds no input yields 0. The
 * backward pass spreads each output's gradient evenly back over its window. Planes are split
 * across threads.
 */
public final class CpuPoolAvg {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED;

    private CpuPoolAvg() {}

    /** y = avg-pool(x) over {@code planes} planes of inH × inW; offsets count elements. */
    public static void forward(DType t, long planes, int inH, int inW, CpuPoolAxis h, CpuPoolAxis w,
            MemorySegment x, long xOff, MemorySegment y, long yOff) {
        int outH = h.outSize(), outW = w.outSize();
        long inPlane = (long) inH * inW, outPlane = (long) outH * outW;
        Parallel.forRange(planes, Math.max(1, Parallel.GRAIN / Math.max(1, inPlane)), (p0, p1) -> {
            for (long p = p0; p < p1; p++) {
                long in = xOff + p * inPlane, out = yOff + p * outPlane;
                for (int oh = 0; oh < outH; oh++) {
                    for (int ow = 0; ow < outW; ow++) {
                        double sum = 0;
                        for (int ih = h.lo()[oh]; ih < h.hi()[oh]; ih++) {
                            for (int iw = w.lo()[ow]; iw < w.hi()[ow]; iw++) sum += load(t, x, in + (long) ih * inW + iw);
                        }
                        boolean empty = h.lo()[oh] >= h.hi()[oh] || w.lo()[ow] >= w.hi()[ow];
                        store(t, y, out + (long) oh * outW + ow, empty ? 0 : sum / ((double) h.span()[oh] * w.span()[ow]));
                    }
                }
            }
        });
    }

    /** dx += the adjoint of {@link #forward} applied to dy; dx must be zeroed. */
    public static void backward(DType t, long planes, int inH, int inW, CpuPoolAxis h, CpuPoolAxis w,
            MemorySegment dy, long dyOff, MemorySegment dx, long dxOff) {
        int outH = h.outSize(), outW = w.outSize();
        long inPlane = (long) inH * inW, outPlane = (long) outH * outW;
        Parallel.forRange(planes, Math.max(1, Parallel.GRAIN / Math.max(1, inPlane)), (p0, p1) -> {
            for (long p = p0; p < p1; p++) {
                long in = dxOff + p * inPlane, out = dyOff + p * outPlane;
                for (int oh = 0; oh < outH; oh++) {
                    for (int ow = 0; ow < outW; ow++) {
                        double g = load(t, dy, out + (long) oh * outW + ow) / ((double) h.span()[oh] * w.span()[ow]);
                        for (int ih = h.lo()[oh]; ih < h.hi()[oh]; ih++) {
                            for (int iw = w.lo()[ow]; iw < w.hi()[ow]; iw++) {
                                long at = in + (long) ih * inW + iw;
                                store(t, dx, at, load(t, dx, at) + g);
                            }
                        }
                    }
                }
            }
        });
    }

    private static double load(DType t, MemorySegment s, long i) {
        return t == DType.FLOAT32 ? s.getAtIndex(F32, i) : s.getAtIndex(F64, i);
    }

    private static void store(DType t, MemorySegment s, long i, double v) {
        if (t == DType.FLOAT32) s.setAtIndex(F32, i, (float) v); else s.setAtIndex(F64, i, v);
    }
}
