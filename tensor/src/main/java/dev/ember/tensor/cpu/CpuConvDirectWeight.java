package dev.ember.tensor.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The weight gradient of a float32 stride-1 convolution without a column matrix, reading the
 * input in {@link CpuConvDirect}'s padded layout:
 * <pre>  dW[o][tap] = Σ_n Σ_p dy[n][o][p] · xp[n][at(p) + koff(tap)]</pre>
 * over output pixels p, where at(p) = oh·wp + ow is the pixel's padded-linear position.
 *
 * <p>Lanes run along output channels, so no lane sums are needed: each image's dy is transposed
 * to [pixel][channel], and a tile of NT taps × 2V channels (24 accumulators) takes, per pixel,
 * two vector loads of dy and NT broadcasts of input values, as a GEMM micro-kernel does. Images
 * are the outer loop, so one image's transposed gradient and padded input stay in L1 while all
 * its tiles run; each tile's accumulators are loaded before and stored after its pixels. Each
 * thread keeps a partial dW of its share of the batch; the partials are added in share order.
 */
final class CpuConvDirectWeight {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int V = F.length();
    /** Output channels per tile: two vectors. */
    static final int NR = 2 * V;
    /** Taps per tile: 12 × 2 = 24 accumulators. */
    static final int NT = 12;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private CpuConvDirectWeight() {}

    /**
     * dw = the weight gradient of y = conv(x, w) given dy (stride 1, float32, contiguous); and,
     * when {@code db} is not null, the bias gradient into it (see {@link CpuConvBiasSums}).
     */
    static void backwardWeight(CpuConvGeometry g, MemorySegment dy, long dyOff, MemorySegment x, long xOff,
            MemorySegment dw, long dwOff, double[] db) {
        CpuConvDirect.Layout l = CpuConvDirect.Layout.of(g, 1);
        int taps = l.koff().length;
        int shares = Math.min(Parallel.numThreads(), g.batch());
        float[][] partial = new float[shares][];
        CpuConvBiasSums[] bias = db == null ? null : new CpuConvBiasSums[shares];
        Parallel.forTasks(shares, share -> {
            int start = (int) ((long) g.batch() * share / shares), end = (int) ((long) g.batch() * (share + 1) / shares);
            CpuConvBiasSums sums = db == null ? null : (bias[share] = new CpuConvBiasSums(g.outChannels()));
            partial[share] = share(g, l, dy, dyOff, x, xOff, start, end, sums);
        });
        if (db != null) CpuConvBiasSums.total(bias, db);
        int cog = g.groupOutChannels(), blocks = CpuConvDirect.ceilDiv(cog, NR), tapBlocks = CpuConvDirect.ceilDiv(taps, NT);
        for (int grp = 0; grp < g.groups(); grp++) {
            for (int o = 0; o < cog; o++) {
                for (int t = 0; t < taps; t++) {
                    int at = ((grp * blocks + o / NR) * tapBlocks + t / NT) * NT * NR + (t % NT) * NR + o % NR;
                    float s = 0;
                    for (float[] p : partial) s += p[at];
                    dw.setAtIndex(F32, dwOff + (long) (grp * cog + o) * taps + t, s);
                }
            }
        }
    }

    /** The partial dW of images [start, end), as tiles [group][channel block][tap block][NT][NR]. */
    private static float[] share(CpuConvGeometry g, CpuConvDirect.Layout l, MemorySegment dy, long dyOff,
            MemorySegment x, long xOff, int start, int end, CpuConvBiasSums bias) {
        int taps = l.koff().length, cog = g.groupOutChannels(), blocks = CpuConvDirect.ceilDiv(cog, NR);
        int tapBlocks = CpuConvDirect.ceilDiv(taps, NT), tile = NT * NR, p = g.outPlane();
        // NR channels past the last, so a block that overhangs it reads zeros
        int row = g.outChannels() + NR;
        float[] xp = new float[l.padded()], gt = new float[p * row];
        float[] acc = new float[g.groups() * blocks * tapBlocks * tile];
        int[] koff = java.util.Arrays.copyOf(l.koff(), tapBlocks * NT);
        int[] at = new int[p], lanes = new int[V];
        for (int i = 0; i < p; i++) at[i] = i / g.outW() * l.wp() + i % g.outW();
        for (int k = 0; k < V; k++) lanes[k] = k * p;
        float[] dyImage = new float[Math.toIntExact(g.outImage())];
        for (int n = start; n < end; n++) {
            CpuConvDirect.pad(g, l, x, xOff + n * g.inImage(), xp, 0);
            transpose(g, dy, dyOff + n * g.outImage(), dyImage, lanes, gt, row);
            if (bias != null) {
                for (int o = 0; o < g.outChannels(); o++) {
                    bias.addRow(o, dy, (dyOff + n * g.outImage() + (long) o * g.outPlane()) * Float.BYTES, g.outPlane());
                }
            }
            for (int grp = 0; grp < g.groups(); grp++) {
                int xBase = grp * g.groupInChannels() * l.plane();
                for (int b = 0; b < blocks; b++) {
                    for (int tb = 0; tb < tapBlocks; tb++) {
                        kernel(p, at, gt, grp * cog + b * NR, row, xp, xBase, koff, tb * NT, acc,
                                ((grp * blocks + b) * tapBlocks + tb) * tile);
                    }
                }
            }
        }
        return acc;
    }

    /**
     * gt[pixel·row + o] = dy[o][pixel] for one image: its dy copied to dyImage in one bulk copy,
     * then V channels of a pixel at a time, gathered from lanes p apart ({@code lanes} = 0, p,
     * 2p, ...) and stored as one vector; channels past the last whole vector one at a time.
     * (Element by element it was a tenth of the weight gradient's time.)
     */
    private static void transpose(CpuConvGeometry g, MemorySegment dy, long in, float[] dyImage, int[] lanes, float[] gt,
            int row) {
        int p = g.outPlane(), channels = g.outChannels();
        MemorySegment.copy(dy, F32, in * Float.BYTES, dyImage, 0, channels * p);
        int o = 0;
        for (; o + V <= channels; o += V) {
            for (int i = 0; i < p; i++) FloatVector.fromArray(F, dyImage, o * p + i, lanes, 0).intoArray(gt, i * row + o);
        }
        for (; o < channels; o++) {
            for (int i = 0; i < p; i++) gt[i * row + o] = dyImage[o * p + i];
        }
    }

    /*
     * The NT×NR micro-kernel: acc[a + k·NR + j] += Σ_i gt[i·row + o0 + j] · xp[xBase + at[i] +
     * koff[t0 + k]] over the p pixels i, for k < NT and j < NR. Unrolled by hand so that the 24
     * accumulators stay in registers.
     */
    private static void kernel(int p, int[] at, float[] gt, int o0, int row, float[] xp, int xBase, int[] koff, int t0,
            float[] acc, int a) {
        FloatVector c0a = FloatVector.fromArray(F, acc, a), c0b = FloatVector.fromArray(F, acc, a + V);
        FloatVector c1a = FloatVector.fromArray(F, acc, a + 2 * V), c1b = FloatVector.fromArray(F, acc, a + 3 * V);
        FloatVector c2a = FloatVector.fromArray(F, acc, a + 4 * V), c2b = FloatVector.fromArray(F, acc, a + 5 * V);
        FloatVector c3a = FloatVector.fromArray(F, acc, a + 6 * V), c3b = FloatVector.fromArray(F, acc, a + 7 * V);
        FloatVector c4a = FloatVector.fromArray(F, acc, a + 8 * V), c4b = FloatVector.fromArray(F, acc, a + 9 * V);
        FloatVector c5a = FloatVector.fromArray(F, acc, a + 10 * V), c5b = FloatVector.fromArray(F, acc, a + 11 * V);
        FloatVector c6a = FloatVector.fromArray(F, acc, a + 12 * V), c6b = FloatVector.fromArray(F, acc, a + 13 * V);
        FloatVector c7a = FloatVector.fromArray(F, acc, a + 14 * V), c7b = FloatVector.fromArray(F, acc, a + 15 * V);
        FloatVector c8a = FloatVector.fromArray(F, acc, a + 16 * V), c8b = FloatVector.fromArray(F, acc, a + 17 * V);
        FloatVector c9a = FloatVector.fromArray(F, acc, a + 18 * V), c9b = FloatVector.fromArray(F, acc, a + 19 * V);
        FloatVector c10a = FloatVector.fromArray(F, acc, a + 20 * V), c10b = FloatVector.fromArray(F, acc, a + 21 * V);
        FloatVector c11a = FloatVector.fromArray(F, acc, a + 22 * V), c11b = FloatVector.fromArray(F, acc, a + 23 * V);
        int k0 = xBase + koff[t0], k1 = xBase + koff[t0 + 1], k2 = xBase + koff[t0 + 2], k3 = xBase + koff[t0 + 3];
        int k4 = xBase + koff[t0 + 4], k5 = xBase + koff[t0 + 5], k6 = xBase + koff[t0 + 6], k7 = xBase + koff[t0 + 7];
        int k8 = xBase + koff[t0 + 8], k9 = xBase + koff[t0 + 9], k10 = xBase + koff[t0 + 10], k11 = xBase + koff[t0 + 11];
        for (int i = 0; i < p; i++) {
            int gi = i * row + o0, xi = at[i];
            FloatVector b0 = FloatVector.fromArray(F, gt, gi), b1 = FloatVector.fromArray(F, gt, gi + V);
            FloatVector a0 = FloatVector.broadcast(F, xp[xi + k0]);
            c0a = a0.fma(b0, c0a);
            c0b = a0.fma(b1, c0b);
            FloatVector a1 = FloatVector.broadcast(F, xp[xi + k1]);
            c1a = a1.fma(b0, c1a);
            c1b = a1.fma(b1, c1b);
            FloatVector a2 = FloatVector.broadcast(F, xp[xi + k2]);
            c2a = a2.fma(b0, c2a);
            c2b = a2.fma(b1, c2b);
            FloatVector a3 = FloatVector.broadcast(F, xp[xi + k3]);
            c3a = a3.fma(b0, c3a);
            c3b = a3.fma(b1, c3b);
            FloatVector a4 = FloatVector.broadcast(F, xp[xi + k4]);
            c4a = a4.fma(b0, c4a);
            c4b = a4.fma(b1, c4b);
            FloatVector a5 = FloatVector.broadcast(F, xp[xi + k5]);
            c5a = a5.fma(b0, c5a);
            c5b = a5.fma(b1, c5b);
            FloatVector a6 = FloatVector.broadcast(F, xp[xi + k6]);
            c6a = a6.fma(b0, c6a);
            c6b = a6.fma(b1, c6b);
            FloatVector a7 = FloatVector.broadcast(F, xp[xi + k7]);
            c7a = a7.fma(b0, c7a);
            c7b = a7.fma(b1, c7b);
            FloatVector a8 = FloatVector.broadcast(F, xp[xi + k8]);
            c8a = a8.fma(b0, c8a);
            c8b = a8.fma(b1, c8b);
            FloatVector a9 = FloatVector.broadcast(F, xp[xi + k9]);
            c9a = a9.fma(b0, c9a);
            c9b = a9.fma(b1, c9b);
            FloatVector a10 = FloatVector.broadcast(F, xp[xi + k10]);
            c10a = a10.fma(b0, c10a);
            c10b = a10.fma(b1, c10b);
            FloatVector a11 = FloatVector.broadcast(F, xp[xi + k11]);
            c11a = a11.fma(b0, c11a);
            c11b = a11.fma(b1, c11b);
        }
        c0a.intoArray(acc, a);
        c0b.intoArray(acc, a + V);
        c1a.intoArray(acc, a + 2 * V);
        c1b.intoArray(acc, a + 3 * V);
        c2a.intoArray(acc, a + 4 * V);
        c2b.intoArray(acc, a + 5 * V);
        c3a.intoArray(acc, a + 6 * V);
        c3b.intoArray(acc, a + 7 * V);
        c4a.intoArray(acc, a + 8 * V);
        c4b.intoArray(acc, a + 9 * V);
        c5a.intoArray(acc, a + 10 * V);
        c5b.intoArray(acc, a + 11 * V);
        c6a.intoArray(acc, a + 12 * V);
        c6b.intoArray(acc, a + 13 * V);
        c7a.intoArray(acc, a + 14 * V);
        c7b.intoArray(acc, a + 15 * V);
        c8a.intoArray(acc, a + 16 * V);
        c8b.intoArray(acc, a + 17 * V);
        c9a.intoArray(acc, a + 18 * V);
        c9b.intoArray(acc, a + 19 * V);
        c10a.intoArray(acc, a + 20 * V);
        c10b.intoArray(acc, a + 21 * V);
        c11a.intoArray(acc, a + 22 * V);
        c11b.intoArray(acc, a + 23 * V);
    }
}
