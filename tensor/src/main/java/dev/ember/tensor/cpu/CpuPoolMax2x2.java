package dev.ember.tensor.cpu;

import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.I2L;
import static jdk.incubator.vector.VectorOperators.IS_NAN;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float32 fast path of max pooling for the common 2×2 window with stride 2 and no padding,
 * V outputs at a time. (A scalar window scan costs a mispredicted branch or two per output,
 * which is most of its time on random data.)
 *
 * <p>For V outputs of an output row, each of the two input rows is loaded as 2V floats and
 * split into its even and odd columns with two-vector lane selects, giving the four taps of V
 * windows as four vectors. They are folded in the scalar scan's order (top-left, top-right,
 * bottom-left, bottom-right) with its rule, "replace when greater or NaN", as lane masks that
 * also pick each lane's tap offset, so values and indices match {@link CpuPoolMax} exactly.
 */
final class CpuPoolMax2x2 {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Long> L = LongVector.SPECIES_PREFERRED;
    private static final int V = F.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Lane selectors for the even and odd columns of a pair of vectors (0, 2, 4, ... and 1, 3, 5, ...). */
    private static final FloatVector EVEN = FloatVector.fromArray(F, lanes(0), 0), ODD = FloatVector.fromArray(F, lanes(1), 0);
    /** 2·lane: the input column of each output lane's window, relative to the first. */
    private static final IntVector TWICE = IntVector.fromArray(I, intLanes(), 0);

    private CpuPoolMax2x2() {}

    /** Whether the fast path computes pooling along these axes (for float32): full 2-wide windows at stride 2. */
    static boolean applies(CpuPoolAxis h, CpuPoolAxis w) {
        return h.pairs() && w.pairs();
    }

    /** One plane: input from element {@code in} of x; outputs at element {@code out} of y and idx. */
    static void plane(int inW, int outH, int outW, MemorySegment x, long in, MemorySegment y, long yOut,
            MemorySegment idx, long idxOut) {
        IntVector right = IntVector.broadcast(I, 1), below = IntVector.broadcast(I, inW), diagonal = IntVector.broadcast(I, inW + 1);
        for (int oh = 0; oh < outH; oh++) {
            long row0 = (in + 2L * oh * inW) * Float.BYTES, row1 = row0 + (long) inW * Float.BYTES;
            for (int o0 = 0; o0 < outW; o0 += V) {
                int n = Math.min(V, outW - o0);
                VectorMask<Float> first = F.indexInRange(0, 2 * n), second = F.indexInRange(V, 2 * n);
                long at = 8L * o0;
                FloatVector t0 = FloatVector.fromMemorySegment(F, x, row0 + at, ORDER, first);
                FloatVector t1 = FloatVector.fromMemorySegment(F, x, row0 + at + 4L * V, ORDER, second);
                FloatVector b0 = FloatVector.fromMemorySegment(F, x, row1 + at, ORDER, first);
                FloatVector b1 = FloatVector.fromMemorySegment(F, x, row1 + at + 4L * V, ORDER, second);
                FloatVector max = EVEN.selectFrom(t0, t1);
                IntVector tap = IntVector.zero(I);
                FloatVector v = ODD.selectFrom(t0, t1);
                VectorMask<Float> take = v.compare(GT, max).or(v.test(IS_NAN));
                max = max.blend(v, take);
                tap = tap.blend(right, take.cast(I));
                v = EVEN.selectFrom(b0, b1);
                take = v.compare(GT, max).or(v.test(IS_NAN));
                max = max.blend(v, take);
                tap = tap.blend(below, take.cast(I));
                v = ODD.selectFrom(b0, b1);
                take = v.compare(GT, max).or(v.test(IS_NAN));
                max = max.blend(v, take);
                tap = tap.blend(diagonal, take.cast(I));
                long o = (long) oh * outW + o0;
                max.intoMemorySegment(y, (yOut + o) * Float.BYTES, ORDER, F.indexInRange(0, n));
                IntVector index = TWICE.add(2 * oh * inW + 2 * o0).add(tap);
                storeLongs(index, idx, idxOut + o, n);
            }
        }
    }

    /** Writes the first n lanes of an int vector as int64 from element {@code at} (int64 lanes are half as many). */
    private static void storeLongs(IntVector v, MemorySegment idx, long at, int n) {
        int half = L.length();
        ((LongVector) v.convertShape(I2L, L, 0)).intoMemorySegment(idx, at * Long.BYTES, ORDER, L.indexInRange(0, n));
        if (n > half) {
            ((LongVector) v.convertShape(I2L, L, 1)).intoMemorySegment(idx, (at + half) * Long.BYTES, ORDER, L.indexInRange(half, n));
        }
    }

    private static float[] lanes(int phase) {
        float[] a = new float[V];
        for (int i = 0; i < V; i++) a[i] = 2 * i + phase;
        return a;
    }

    private static int[] intLanes() {
        int[] a = new int[I.length()];
        for (int i = 0; i < a.length; i++) a[i] = 2 * i;
        return a;
    }
}
