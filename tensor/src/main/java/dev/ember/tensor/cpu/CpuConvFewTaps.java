package dev.ember.tensor.cpu;


import dev.ember.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float32 weight gradient of a convolution with few taps per output channel (a first layer
 * over one or three input channels): dW[o][tap] = Σ_n Σ_p dy[n][o][p] · col[n][tap][p], with
 * col the image's column matrix (a few rows, cheap to build at any stride).
 *
 * <p>Both operands run along output pixels, so lanes run along pixels too and are added up at
 * the end: a tile of MR channels × NT taps (24 accumulators) takes MR + NT vector loads per 24
 * FMAs and reads dy exactly as it lies, where {@link CpuConvDirectWeight} would first transpose
 * it (a scalar move per element, which with a handful of taps costs more than the FMAs). Images
 * are the outer loop, one image's dy and column matrix in L1; each tile's lane sums live between
 * images in a buffer. Each thread keeps a partial dW of its share of the batch; the partials are
 * added in share order.
 */
final class CpuConvFewTaps {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int V = F.length();
    /** Output channels per tile. */
    private static final int MR = 4;
    /** Taps per tile. */
    private static final int NT = 6;
    /** The most taps per output channel this path takes; beyond, transposing dy is repaid. */
    static final int MAX_TAPS = 27;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private CpuConvFewTaps() {}

    static boolean applies(CpuConvGeometry g) {
        return g.groupColRows() <= MAX_TAPS;
    }

    /**
     * dw = the weight gradient of y = conv(x, w) given dy (float32, contiguous); and, when
     * {@code db} is not null, the bias gradient into it (see {@link CpuConvBiasSums}).
     */
    static void backwardWeight(CpuConvGeometry g, MemorySegment dy, long dyOff, MemorySegment x, long xOff,
            MemorySegment dw, long dwOff, double[] db) {
        int taps = g.groupColRows(), cog = g.groupOutChannels();
        int blocks = CpuConvDirect.ceilDiv(cog, MR), tapBlocks = CpuConvDirect.ceilDiv(taps, NT), tile = MR * NT * V;
        int shares = Math.min(Parallel.numThreads(), g.batch());
        float[][] lanes = new float[shares][];
        CpuConvBiasSums[] bias = db == null ? null : new CpuConvBiasSums[shares];
        Parallel.forTasks(shares, share -> {
            int start = (int) ((long) g.batch() * share / shares), end = (int) ((long) g.batch() * (share + 1) / shares);
            CpuConvBiasSums sums = db == null ? null : (bias[share] = new CpuConvBiasSums(g.outChannels()));
            lanes[share] = share(g, dy, dyOff, x, xOff, start, end, blocks, tapBlocks, sums);
        });
        if (db != null) CpuConvBiasSums.total(bias, db);
        for (int grp = 0; grp < g.groups(); grp++) {
            for (int o = 0; o < cog; o++) {
                for (int t = 0; t < taps; t++) {
                    int at = ((grp * blocks + o / MR) * tapBlocks + t / NT) * tile + ((o % MR) * NT + t % NT) * V;
                    // the lanes in order, not reduceLanes, whose order differs between the JIT's
                    // intrinsic and the interpreter's fallback: a result must not change when code gets compiled
                    float s = 0;
                    for (float[] l : lanes) {
                        float share = 0;
                        for (int i = 0; i < V; i++) share += l[at + i];
                        s += share;
                    }
                    dw.setAtIndex(F32, dwOff + (long) (grp * cog + o) * taps + t, s);
                }
            }
        }
    }

    /** The lane sums of images [start, end), as tiles [group][channel block][tap block][MR][NT][V]. */
    private static float[] share(CpuConvGeometry g, MemorySegment dy, long dyOff, MemorySegment x, long xOff,
            int start, int end, int blocks, int tapBlocks, CpuConvBiasSums bias) {
        int p = g.outPlane(), taps = g.groupColRows(), cog = g.groupOutChannels(), tile = MR * NT * V;
        float[] lanes = new float[g.groups() * blocks * tapBlocks * tile];
        // Rows padded with zeros to whole strips, so the kernel needs no masks; and room for a
        // channel block or tap block that overhangs the last row, whose rows read as zeros.
        int row = CpuConvDirect.ceilDiv(p, V) * V;
        float[] gy = new float[(g.outChannels() + MR) * row], col = new float[(g.colRows() + NT) * row];
        MemorySegment colSegment = MemorySegment.ofArray(col);
        for (int n = start; n < end; n++) {
            for (int o = 0; o < g.outChannels(); o++) {
                long at = (dyOff + n * g.outImage() + (long) o * p) * Float.BYTES;
                MemorySegment.copy(dy, F32, at, gy, o * row, p);
                if (bias != null) bias.addRow(o, dy, at, p);
            }
            CpuIm2col.im2col(DType.FLOAT32, g, x, xOff + n * g.inImage(), colSegment, 0, row);
            for (int grp = 0; grp < g.groups(); grp++) {
                for (int b = 0; b < blocks; b++) {
                    for (int tb = 0; tb < tapBlocks; tb++) {
                        kernel(row, gy, (grp * cog + b * MR) * row, col, (grp * taps + tb * NT) * row, lanes,
                                ((grp * blocks + b) * tapBlocks + tb) * tile);
                    }
                }
            }
        }
        return lanes;
    }

    /*
     * The MR×NT micro-kernel: lanes[at + (r·NT + k)·V + lane] += Σ_i gy[g0 + r·row + i] ·
     * col[c0 + k·row + i] over the row (whole strips) i, lane by lane. Unrolled by hand so that
     * the 24 accumulators stay in registers.
     */
    private static void kernel(int row, float[] gy, int g0, float[] col, int c0, float[] lanes, int at) {
        FloatVector c00 = FloatVector.fromArray(F, lanes, at), c01 = FloatVector.fromArray(F, lanes, at + V);
        FloatVector c02 = FloatVector.fromArray(F, lanes, at + 2 * V), c03 = FloatVector.fromArray(F, lanes, at + 3 * V);
        FloatVector c04 = FloatVector.fromArray(F, lanes, at + 4 * V), c05 = FloatVector.fromArray(F, lanes, at + 5 * V);
        FloatVector c10 = FloatVector.fromArray(F, lanes, at + 6 * V), c11 = FloatVector.fromArray(F, lanes, at + 7 * V);
        FloatVector c12 = FloatVector.fromArray(F, lanes, at + 8 * V), c13 = FloatVector.fromArray(F, lanes, at + 9 * V);
        FloatVector c14 = FloatVector.fromArray(F, lanes, at + 10 * V), c15 = FloatVector.fromArray(F, lanes, at + 11 * V);
        FloatVector c20 = FloatVector.fromArray(F, lanes, at + 12 * V), c21 = FloatVector.fromArray(F, lanes, at + 13 * V);
        FloatVector c22 = FloatVector.fromArray(F, lanes, at + 14 * V), c23 = FloatVector.fromArray(F, lanes, at + 15 * V);
        FloatVector c24 = FloatVector.fromArray(F, lanes, at + 16 * V), c25 = FloatVector.fromArray(F, lanes, at + 17 * V);
        FloatVector c30 = FloatVector.fromArray(F, lanes, at + 18 * V), c31 = FloatVector.fromArray(F, lanes, at + 19 * V);
        FloatVector c32 = FloatVector.fromArray(F, lanes, at + 20 * V), c33 = FloatVector.fromArray(F, lanes, at + 21 * V);
        FloatVector c34 = FloatVector.fromArray(F, lanes, at + 22 * V), c35 = FloatVector.fromArray(F, lanes, at + 23 * V);
        for (int i = 0; i < row; i += V) {
            int a = g0 + i, b = c0 + i;
            FloatVector x0 = FloatVector.fromArray(F, col, b), x1 = FloatVector.fromArray(F, col, b + row);
            FloatVector x2 = FloatVector.fromArray(F, col, b + 2 * row), x3 = FloatVector.fromArray(F, col, b + 3 * row);
            FloatVector x4 = FloatVector.fromArray(F, col, b + 4 * row), x5 = FloatVector.fromArray(F, col, b + 5 * row);
            FloatVector d = FloatVector.fromArray(F, gy, a);
            c00 = d.fma(x0, c00);
            c01 = d.fma(x1, c01);
            c02 = d.fma(x2, c02);
            c03 = d.fma(x3, c03);
            c04 = d.fma(x4, c04);
            c05 = d.fma(x5, c05);
            d = FloatVector.fromArray(F, gy, a + row);
            c10 = d.fma(x0, c10);
            c11 = d.fma(x1, c11);
            c12 = d.fma(x2, c12);
            c13 = d.fma(x3, c13);
            c14 = d.fma(x4, c14);
            c15 = d.fma(x5, c15);
            d = FloatVector.fromArray(F, gy, a + 2 * row);
            c20 = d.fma(x0, c20);
            c21 = d.fma(x1, c21);
            c22 = d.fma(x2, c22);
            c23 = d.fma(x3, c23);
            c24 = d.fma(x4, c24);
            c25 = d.fma(x5, c25);
            d = FloatVector.fromArray(F, gy, a + 3 * row);
            c30 = d.fma(x0, c30);
            c31 = d.fma(x1, c31);
            c32 = d.fma(x2, c32);
            c33 = d.fma(x3, c33);
            c34 = d.fma(x4, c34);
            c35 = d.fma(x5, c35);
        }
        c00.intoArray(lanes, at);
        c01.intoArray(lanes, at + V);
        c02.intoArray(lanes, at + 2 * V);
        c03.intoArray(lanes, at + 3 * V);
        c04.intoArray(lanes, at + 4 * V);
        c05.intoArray(lanes, at + 5 * V);
        c10.intoArray(lanes, at + 6 * V);
        c11.intoArray(lanes, at + 7 * V);
        c12.intoArray(lanes, at + 8 * V);
        c13.intoArray(lanes, at + 9 * V);
        c14.intoArray(lanes, at + 10 * V);
        c15.intoArray(lanes, at + 11 * V);
        c20.intoArray(lanes, at + 12 * V);
        c21.intoArray(lanes, at + 13 * V);
        c22.intoArray(lanes, at + 14 * V);
        c23.intoArray(lanes, at + 15 * V);
        c24.intoArray(lanes, at + 16 * V);
        c25.intoArray(lanes, at + 17 * V);
        c30.intoArray(lanes, at + 18 * V);
        c31.intoArray(lanes, at + 19 * V);
        c32.intoArray(lanes, at + 20 * V);
        c33.intoArray(lanes, at + 21 * V);
        c34.intoArray(lanes, at + 22 * V);
        c35.intoArray(lanes, at + 23 * V);
    }
}
