package dev.ember.tensor.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float32 forward pass of a stride-1 convolution with few taps per output channel (a first
 * layer over one or three input channels, or a depthwise one), each output row computed straight
 * into y.
 *
 * <p>With 9 taps an output vector takes only 9 FMAs. {@link CpuConvDirect}'s tile buffer and its
 * copy into y then cost more than the FMAs, and im2col + GEMM spends its time building and packing
 * a product whose inner dimension is 9 (the example's first layer took 1.2 ms a step that way).
 * Here each image is copied into a zero-padded buffer; for a block of MR output channels and one
 * vector of an output row, each tap's input vector is loaded once from that buffer and used for
 * all MR channels, and the MR sums are stored into y, masked at the row's end. A sum starts from
 * the bias and adds the taps in order (input channel, kernel row, kernel column).
 */
final class CpuConvFewTapsForward {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int V = F.length();
    /** Output channels per block: four sums and one input vector live at a time. */
    private static final int MR = 4;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private CpuConvFewTapsForward() {}

    /** Whether a convolution the direct kernels may take (float32, stride 1, not pointwise) goes this way: few taps. */
    static boolean applies(CpuConvGeometry g) {
        return g.groupColRows() <= CpuConvFewTaps.MAX_TAPS;
    }

    /** y = conv(x, w) + bias (bias may be null); contiguous operands, element offsets; images split across threads. */
    static void forward(CpuConvGeometry g, MemorySegment x, long xOff, MemorySegment w, long wOff,
            MemorySegment bias, long biasOff, MemorySegment y, long yOff) {
        int taps = g.groupColRows(), cog = g.groupOutChannels(), blocks = CpuConvDirect.ceilDiv(cog, MR);
        // weights as [group][block][tap][MR] and biases as [group][block][MR]; rows past a group's last channel are zero
        float[] packed = new float[g.groups() * blocks * taps * MR], biases = new float[g.groups() * blocks * MR];
        for (int o = 0; o < g.outChannels(); o++) {
            int block = o / cog * blocks + o % cog / MR, lane = o % cog % MR;
            for (int t = 0; t < taps; t++) packed[(block * taps + t) * MR + lane] = w.getAtIndex(F32, wOff + (long) o * taps + t);
            if (bias != null) biases[block * MR + lane] = bias.getAtIndex(F32, biasOff + o);
        }
        // the padded image and tap offsets of CpuConvDirect: tap t of a group reads at koff[t] from the group's first plane
        CpuConvDirect.Layout l = CpuConvDirect.Layout.of(g, 1);
        Parallel.forRange(g.batch(), 1, (start, end) -> {
            // V floats more: the last vector of the last row reads up to V - 1 past the last plane (lanes dropped)
            float[] xp = new float[l.padded() + V];
            for (long n = start; n < end; n++) {
                CpuConvDirect.pad(g, l, x, xOff + n * g.inImage(), xp, 0);
                for (int grp = 0; grp < g.groups(); grp++) {
                    for (int b = 0; b < blocks; b++) {
                        int block = grp * blocks + b, first = grp * cog + b * MR;
                        rows(g, xp, grp * g.groupInChannels() * l.plane(), l.wp(), l.koff(), packed, block * taps * MR, biases,
                                block * MR, Math.min(MR, cog - b * MR), y, yOff + (n * g.outChannels() + first) * g.outPlane());
                    }
                }
            }
        });
    }

    /**
     * Every output row of one block of {@code count} (1 to MR) channels, whose planes start at
     * element {@code out} of y: the group's input planes start at {@code in} of xp, its weights at
     * {@code wAt} of packed ([tap][MR]), its biases at {@code bAt}.
     */
    private static void rows(CpuConvGeometry g, float[] xp, int in, int wp, int[] koff, float[] packed, int wAt,
            float[] biases, int bAt, int count, MemorySegment y, long out) {
        int outW = g.outW(), outPlane = g.outPlane();
        for (int oh = 0; oh < g.outH(); oh++) {
            for (int j = 0; j < outW; j += V) {
                int at = in + oh * wp + j;
                FloatVector s0 = FloatVector.broadcast(F, biases[bAt]), s1 = FloatVector.broadcast(F, biases[bAt + 1]);
                FloatVector s2 = FloatVector.broadcast(F, biases[bAt + 2]), s3 = FloatVector.broadcast(F, biases[bAt + 3]);
                for (int t = 0, k = wAt; t < koff.length; t++, k += MR) {
                    FloatVector v = FloatVector.fromArray(F, xp, at + koff[t]);
                    s0 = v.fma(FloatVector.broadcast(F, packed[k]), s0);
                    s1 = v.fma(FloatVector.broadcast(F, packed[k + 1]), s1);
                    s2 = v.fma(FloatVector.broadcast(F, packed[k + 2]), s2);
                    s3 = v.fma(FloatVector.broadcast(F, packed[k + 3]), s3);
                }
                VectorMask<Float> m = F.indexInRange(j, outW);
                long o = (out + (long) oh * outW + j) * Float.BYTES, next = (long) outPlane * Float.BYTES;
                // stores of channels past the block's count are skipped (their sums are zeros from zero weights)
                s0.intoMemorySegment(y, o, ORDER, m);
                if (count > 1) s1.intoMemorySegment(y, o + next, ORDER, m);
                if (count > 2) s2.intoMemorySegment(y, o + 2 * next, ORDER, m);
                if (count > 3) s3.intoMemorySegment(y, o + 3 * next, ORDER, m);
            }
        }
    }
}
