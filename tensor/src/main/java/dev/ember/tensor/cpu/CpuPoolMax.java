package dev.ember.tensor.cpu;

import dev.ember.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * 2-D max pooling over contiguous planes (one per batch × channel), float32 or float64, with
 * the argmax of each window as a flat index into its input plane (int64), as PyTorch. A window
 * is scanned row by row and a value replaces the running maximum when it is greater or NaN, so
 * NaN propagates (the last NaN wins) and an all −inf window reports its first tap.
 * Planes are split across threads; float32 2×2 windows at stride 2 take {@link CpuPoolMax2x2}.
 */
public final class CpuPoolMax {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;

    private CpuPoolMax() {}

    /** y, idx = max-pool(x) over {@code planes} planes of inH × inW; offsets count elements. */
    public static void forward(DType t, long planes, int inH, int inW, CpuPoolAxis h, CpuPoolAxis w,
            MemorySegment x, long xOff, MemorySegment y, long yOff, MemorySegment idx, long idxOff) {
        long inPlane = (long) inH * inW, outPlane = (long) h.outSize() * w.outSize();
        boolean pairs = t == DType.FLOAT32 && CpuPoolMax2x2.applies(h, w);
        Parallel.forRange(planes, Math.max(1, Parallel.GRAIN / Math.max(1, inPlane)), (p0, p1) -> {
            for (long p = p0; p < p1; p++) {
                if (pairs) {
                    CpuPoolMax2x2.plane(inW, h.outSize(), w.outSize(), x, xOff + p * inPlane, y, yOff + p * outPlane,
                            idx, idxOff + p * outPlane);
                } else {
                    plane(t, inW, h, w, x, xOff + p * inPlane, y, yOff, idx, idxOff, p * outPlane);
                }
            }
        });
    }

    /** One plane: its input from element {@code in}, its outputs at element {@code out} of y and idx (after their offsets). */
    private static void plane(DType t, int inW, CpuPoolAxis h, CpuPoolAxis w, MemorySegment x, long in,
            MemorySegment y, long yOff, MemorySegment idx, long idxOff, long out) {
        int outH = h.outSize(), outW = w.outSize(), sh = h.step(), sw = w.step();
        int[] hLo = h.lo(), hHi = h.hi(), wLo = w.lo(), wHi = w.hi();
        boolean f32 = t == DType.FLOAT32;
        for (int oh = 0; oh < outH; oh++) {
            int h0 = hLo[oh], h1 = hHi[oh];
            for (int ow = 0; ow < outW; ow++) {
                int w0 = wLo[ow], w1 = wHi[ow];
                int best = h0 * inW + w0;
                double max = Double.NEGATIVE_INFINITY;
                for (int ih = h0; ih < h1; ih += sh) {
                    for (int iw = w0; iw < w1; iw += sw) {
                        int at = ih * inW + iw;
                        double v = f32 ? x.getAtIndex(F32, in + at) : x.getAtIndex(F64, in + at);
                        if (v > max || Double.isNaN(v)) {
                            max = v;
                            best = at;
                        }
                    }
                }
                long o = out + (long) oh * outW + ow;
                if (f32) y.setAtIndex(F32, yOff + o, (float) max); else y.setAtIndex(F64, yOff + o, max);
                idx.setAtIndex(I64, idxOff + o, best);
            }
        }
    }

    /**
     * dx[plane][idx] += dy for every output; dx must be zeroed. Every index is checked against
     * the plane first, so a corrupt index tensor fails instead of writing into another plane.
     */
    public static void backward(DType t, long planes, long inPlane, long outPlane, MemorySegment dy, long dyOff,
            MemorySegment idx, long idxOff, MemorySegment dx, long dxOff) {
        Parallel.forRange(planes, Math.max(1, Parallel.GRAIN / Math.max(1, outPlane)), (p0, p1) -> {
            for (long p = p0; p < p1; p++) {
                long in = dxOff + p * inPlane, out = p * outPlane;
                for (long o = 0; o < outPlane; o++) {
                    long at = idx.getAtIndex(I64, idxOff + out + o);
                    if (at < 0 || at >= inPlane) {
                        throw new IndexOutOfBoundsException("max_pool2d_backward: index " + at
                                + " is out of bounds for an input plane of " + inPlane + " elements");
                    }
                    if (t == DType.FLOAT32) {
                        dx.setAtIndex(F32, in + at, dx.getAtIndex(F32, in + at) + dy.getAtIndex(F32, dyOff + out + o));
                    } else {
                        dx.setAtIndex(F64, in + at, dx.getAtIndex(F64, in + at) + dy.getAtIndex(F64, dyOff + out + o));
                    }
                }
            }
        });
    }
}
