package dev.ember.tensor.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The float32 fast path of max pooling for the common 2×2 window with stride 2 and no padding.
 * It follows the general scan's order (top-left, top-right, bottom-left, bottom-right) and rule
 * ("replace when greater or NaN"), so values and indices match {@link CpuPoolMax}, but without
 * the general scan's loops: the four taps are read straight and folded with
 * {@link CpuPoolMax#pick}.
 */
final class CpuPoolMax2x2 {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;

    private CpuPoolMax2x2() {}

    /** Whether the fast path computes pooling along these axes (for float32): full 2-wide windows at stride 2. */
    static boolean applies(CpuPoolAxis h, CpuPoolAxis w) {
        return h.pairs() && w.pairs();
    }

    /** One plane: input from element {@code in} of x; outputs from element {@code out} of y and idx. */
    static void plane(int inW, int outH, int outW, MemorySegment x, long in, MemorySegment y, long yOut,
            MemorySegment idx, long idxOut) {
        for (int oh = 0; oh < outH; oh++) {
            int top = 2 * oh * inW, bottom = top + inW;
            long o = (long) oh * outW;
            for (int ow = 0; ow < outW; ow++) {
                int a = top + 2 * ow, c = bottom + 2 * ow;
                int best = CpuPoolMax.pick(x.getAtIndex(F32, in + a + 1), x.getAtIndex(F32, in + a), a + 1, a);
                best = CpuPoolMax.pick(x.getAtIndex(F32, in + c), x.getAtIndex(F32, in + best), c, best);
                best = CpuPoolMax.pick(x.getAtIndex(F32, in + c + 1), x.getAtIndex(F32, in + best), c + 1, best);
                y.setAtIndex(F32, yOut + o + ow, x.getAtIndex(F32, in + best));
                idx.setAtIndex(I64, idxOut + o + ow, best);
            }
        }
    }
}
