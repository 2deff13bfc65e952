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
        CpuPoolMax2x2.Layout pairs = t == DType.FLOAT32 && CpuPoolMax2x2.applies(h, w)
                ? CpuPoolMax2x2.layout(inW, h.outSize(), w.outSize()) : null;
        Parallel.forRange(planes, Math.max(1, Parallel.GRAIN / Math.max(1, inPlane)), (p0, p1) -> {
            for (long p = p0; p < p1; p++) {
                if (pairs != null) {
                    CpuPoolMax2x2.plane(pairs, x, xOff + p * inPlane, y, yOff + p * outPlane, idx, idxOff + p * outPlane);
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
            for (int ow = 0; ow < outW; ow++) {
                // the first tap needs no test: it replaces the initial -inf, or equals it and keeps its own index
                int best = hLo[oh] * inW + wLo[ow];
                boolean empty = hLo[oh] >= hHi[oh] || wLo[ow] >= wHi[ow];
                for (int ih = hLo[oh]; ih < hHi[oh]; ih += sh) {
                    for (int iw = wLo[ow]; iw < wHi[ow]; iw += sw) {
                        int at = ih * inW + iw;
                        best = pick(load(f32, x, in + at), load(f32, x, in + best), at, best);
                    }
                }
                long o = out + (long) oh * outW + ow;
                double max = empty ? Double.NEGATIVE_INFINITY : load(f32, x, in + best);
                if (f32) y.setAtIndex(F32, yOff + o, (float) max); else y.setAtIndex(F64, yOff + o, max);
                idx.setAtIndex(I64, idxOff + o, best);
            }
        }
    }

    /**
     * The scan's rule: {@code at} if its value v replaces the running maximum (v greater, or
     * NaN), else {@code best}. Branch-free: on real data the outcome is a coin toss, and a
     * mispredicted branch per tap was most of the scan's time. The caller reloads the maximum
     * from the index (an L1 hit) rather than selecting a float, which would be a branch again.
     */
    static int pick(double v, double max, int at, int best) {
        int take = v > max | v != v ? -1 : 0;
        return at & take | best & ~take;
    }

    private static double load(boolean f32, MemorySegment x, long i) {
        return f32 ? x.getAtIndex(F32, i) : x.getAtIndex(F64, i);
    }

    /**
     * dx = the gradient of max pooling: dx[plane][idx] = the sum of dy over the outputs whose
     * index is idx (dx need not be zeroed). An index outside its plane gets no gradient: PyTorch
     * gives one to a window that reads no input at all (dilated taps that all fall into the
     * padding, output −inf), and its gradient is dropped there too; so a corrupt index tensor can
     * never write into another plane.
     */
    public static void backward(DType t, long planes, int inH, int inW, int outH, int outW, MemorySegment dy, long dyOff,
            MemorySegment idx, long idxOff, MemorySegment dx, long dxOff) {
        long inPlane = (long) inH * inW, outPlane = (long) outH * outW;
        Parallel.forRange(planes, Math.max(1, Parallel.GRAIN / Math.max(1, inPlane)), (p0, p1) -> {
            for (long p = p0; p < p1; p++) {
                long in = dxOff + p * inPlane, out = p * outPlane;
                dx.asSlice(in * t.itemSize(), inPlane * t.itemSize()).fill((byte) 0);
                for (long o = 0; o < outPlane; o++) {
                    long at = idx.getAtIndex(I64, idxOff + out + o);
                    if (at < 0 || at >= inPlane) continue;
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
