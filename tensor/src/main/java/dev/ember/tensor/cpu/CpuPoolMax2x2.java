package dev.ember.tensor.cpu;

import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.I2L;
import static jdk.incubator.vector.VectorOperators.IS_NAN;
import static jdk.incubator.vector.VectorOperators.LT;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float32 fast path of max pooling for the common 2×2 window with stride 2 and no padding:
 * a vector of outputs at a time.
 *
 * <p>A window's two top taps are neighbours in its input row, so the top taps of a vector of
 * outputs lie in two input vectors, and two-vector shuffles split them into the windows' left
 * and right taps; likewise the bottom taps. The taps are then folded lane-wise with the general
 * scan's rule, "replace when greater or NaN", and the indices follow the same masks. The scan's
 * order is top-left, top-right, bottom-left, bottom-right; folding the top pair, the bottom
 * pair, then the two winners picks the same tap, because the rule keeps the first maximum, or
 * the last NaN, of any sequence, and that can be decided pairwise in order. So values and
 * indices match {@link CpuPoolMax}'s scan bit for bit.
 *
 * <p>A vector covers N outputs of a row, or, when rows are at most N/2 outputs (14 × 14 inputs
 * pool to rows of 7), two rows, so that half its lanes do not idle; then the two input vectors
 * of its top taps are the starts of two input rows, 2·inW apart, rather than N contiguous pairs.
 *
 * <p>Loads are whole vectors, even past a row's last window: those lanes are dropped. (Masked
 * loads from a memory segment were so much code that C1 gave up compiling the loop, "out of
 * virtual registers"; a method C1 fails on after a tier-2 compile stays in slow C1 code for
 * good, tens of times slower. Mind this when adding vector code to the loop.) Only planes whose
 * loads would run past the end of the segment, the last one or few, take the scalar loop.
 * Stores are masked, for the ragged end of a row and of the plane.
 */
final class CpuPoolMax2x2 {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final VectorSpecies<Long> L = VectorSpecies.of(long.class, F.vectorShape());
    /** Outputs per vector. */
    private static final int N = F.length();
    /** Outputs per vector of their int64 indices. */
    private static final int HALF = L.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final IntVector NONE = IntVector.zero(I), ONE = IntVector.broadcast(I, 1), TWICE = NONE.addIndex(2);

    // A vector's lanes below a split s (1 to N/2) take their taps from the input vector at t, the others
    // from the one at t + second (see vectorPlane). Indexed by s: the two-vector shuffles that gather each
    // lane's left tap, and its right tap, from those two (source lanes N and up are the second's), and the
    // mask of the lanes from the second. Tables, because computing these per plane in the loop's method
    // was more code than C1 would compile.
    private static final VectorShuffle<Float>[] LEFT = shuffles(0), RIGHT = shuffles(1);
    private static final VectorMask<Integer>[] LATER = later();
    // The store masks, indexed by how many lanes they keep (0 to the vector's length). Not indexInRange in the loop:
    // its branches are profiled in the Vector API's one method for all callers, and a branch no earlier layer took
    // (an empty half, at the second layer's last, one-row vector) made C2 deoptimise the loop (a 0.12 s recompile,
    // pooling in slow code meanwhile).
    private static final VectorMask<Float>[] FIRST_F = firsts(F);
    private static final VectorMask<Long>[] FIRST_L = firsts(L);

    private CpuPoolMax2x2() {}

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] shuffles(int tap) {
        VectorShuffle<Float>[] s = new VectorShuffle[N / 2 + 1];
        for (int split = 1; split <= N / 2; split++) {
            int at = split;
            // (modulo 2N: in a vector of two rows of s outputs, lanes from 2s on are dead, any source will do)
            s[split] = VectorShuffle.fromOp(F, i -> (i < at ? 2 * i : N + 2 * (i - at)) % (2 * N) + tap);
        }
        return s;
    }

    @SuppressWarnings("unchecked")
    private static VectorMask<Integer>[] later() {
        VectorMask<Integer>[] m = new VectorMask[N / 2 + 1];
        for (int split = 1; split <= N / 2; split++) m[split] = VectorMask.fromLong(I, (-1L << split) & (-1L >>> (64 - N)));
        return m;
    }

    @SuppressWarnings("unchecked")
    private static <E> VectorMask<E>[] firsts(VectorSpecies<E> species) {
        VectorMask<E>[] m = new VectorMask[species.length() + 1];
        for (int k = 0; k < m.length; k++) m[k] = species.indexInRange(0, k);
        return m;
    }

    /** Whether the fast path computes pooling along these axes (for float32): full 2-wide windows at stride 2. */
    static boolean applies(CpuPoolAxis h, CpuPoolAxis w) {
        return h.pairs() && w.pairs();
    }

    /**
     * How a plane's outputs map to vectors, worked out once per op (see {@link #layout}): a
     * vector covers {@code columns} outputs of each of {@code rows} rows; its lanes below
     * {@code split} take their taps from the input vectors at t, the others from those at t +
     * {@code second} elements; {@code count} vectors cover the plane, and the last reads
     * {@code reach} elements from the plane's start.
     */
    record Layout(int inW, int outH, int outW, int rows, int columns, int split, int second, int count, long reach) {}

    /**
     * The layout of planes inW wide pooling to outH × outW. Computed by the op, not in the
     * per-plane loop: C2 compiles that loop during the first pooling op's call, and a branch on
     * the shape there would be compiled for that op's shape alone; the next pooling layer's shape
     * then made it deoptimise (measured: a 0.2 s recompile, with pooling in slow code meanwhile).
     */
    static Layout layout(int inW, int outH, int outW) {
        // two rows to a vector when rows are at most N/2 outputs, so that half its lanes do not idle
        boolean two = 2 * outW <= N;
        int rows = two ? 2 : 1, columns = two ? outW : N;
        int count = (outH + rows - 1) / rows * ((outW + columns - 1) / columns);
        // the last vector reads N inputs from the bottom-left of its second pair of taps (see vectorPlane)
        long lastRow = (outH - 1) / rows * rows, lastColumn = (outW - 1) / columns * columns;
        long reach = 2 * lastRow * inW + 2 * lastColumn + inW + (two ? 2L * inW : N) + N;
        return new Layout(inW, outH, outW, rows, columns, two ? outW : N / 2, two ? 2 * inW : N, count, reach);
    }

    /** One plane: input from element {@code in} of x; outputs from element {@code yOut} of y and {@code idxOut} of idx. */
    static void plane(Layout l, MemorySegment x, long in, MemorySegment y, long yOut, MemorySegment idx, long idxOut) {
        if ((in + l.reach) * Float.BYTES > x.byteSize()) {
            scalarPlane(l.inW, l.outH, l.outW, x, in, y, yOut, idx, idxOut);
        } else {
            vectorPlane(l, x, in, y, yOut, idx, idxOut);
        }
    }

    /** {@link #plane} by vectors (the loop is in here with the vector code so that C2 hoists the segments' checks out of it). */
    private static void vectorPlane(Layout l, MemorySegment x, long in, MemorySegment y, long yOut, MemorySegment idx,
            long idxOut) {
        int inW = l.inW, outH = l.outH, outW = l.outW, rows = l.rows, columns = l.columns, split = l.split;
        VectorShuffle<Float> left = LEFT[split], right = RIGHT[split];
        // each lane's window, from the vector's first: 2 per lane, and the later lanes start at t + second
        IntVector window = TWICE.add(NONE.blend(l.second - 2 * split, LATER[split]));
        long next = (long) l.second * Float.BYTES;
        for (int v = 0, oh = 0, j = 0; v < l.count; v++) {
            int n = Math.min(rows, outH - oh) * Math.min(columns, outW - j); // outputs
            int first = 2 * oh * inW + 2 * j; // the top-left of their first window
            long out = (long) oh * outW + j, t = (in + first) * Float.BYTES, b = t + (long) inW * Float.BYTES;
            FloatVector t0 = FloatVector.fromMemorySegment(F, x, t, ORDER), t1 = FloatVector.fromMemorySegment(F, x, t + next, ORDER);
            FloatVector b0 = FloatVector.fromMemorySegment(F, x, b, ORDER), b1 = FloatVector.fromMemorySegment(F, x, b + next, ORDER);
            FloatVector tl = t0.rearrange(left, t1), tr = t0.rearrange(right, t1);
            FloatVector bl = b0.rearrange(left, b1), br = b0.rearrange(right, b1);
            VectorMask<Float> topRight = takes(tr, tl), bottomRight = takes(br, bl);
            FloatVector top = tl.blend(tr, topRight), bottom = bl.blend(br, bottomRight);
            VectorMask<Float> down = takes(bottom, top);
            top.blend(bottom, down).intoMemorySegment(y, (yOut + out) * Float.BYTES, ORDER, FIRST_F[n]);
            // the winner's index: its window's top-left, + 1 when it is a right tap, + inW when a bottom one
            VectorMask<Float> rightTap = topRight.andNot(down).or(bottomRight.and(down));
            IntVector index = window.add(first).add(NONE.blend(ONE, rightTap.cast(I))).add(NONE.blend(inW, down.cast(I)));
            long at = (idxOut + out) * Long.BYTES;
            // the second half's store even when its mask is empty (n <= HALF): a branch here was compiled for the
            // first op's rows alone, and a plane's short last vector in the next layer deoptimised it
            ((LongVector) index.convertShape(I2L, L, 0)).intoMemorySegment(idx, at, ORDER, FIRST_L[Math.min(n, HALF)]);
            ((LongVector) index.convertShape(I2L, L, 1))
                    .intoMemorySegment(idx, at + (long) HALF * Long.BYTES, ORDER, FIRST_L[Math.max(n - HALF, 0)]);
            if ((j += columns) >= outW) { // two-row vectors always take the next rows
                j = 0;
                oh += rows;
            }
        }
    }

    /** Lanes where tap v replaces the running maximum: v is greater, or NaN (the scan's rule). */
    private static VectorMask<Float> takes(FloatVector v, FloatVector max) {
        return v.compare(GT, max).or(v.test(IS_NAN));
    }

    /** {@link #plane} one window at a time, for a plane whose vectors would read past the end of x. */
    private static void scalarPlane(int inW, int outH, int outW, MemorySegment x, long in, MemorySegment y, long yOut,
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
