package dev.ember.tensor.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Direct float32 convolution with stride 1, without a column matrix: the path that makes
 * small-image convolutions (where im2col and packing cost as much as the multiply) run near the
 * FMA units' peak. Backward-input of a stride-1 convolution is itself one (see
 * {@link #backwardInput}), so it takes this path too.
 *
 * <p>Each image is copied into a zero-padded buffer of planes ph × wp (ph = H + 2·padH, wp = W +
 * 2·padW). In that buffer, output pixel (oh, ow) at "padded-linear" position q = oh·wp + ow
 * reads tap (c, i, j) at q + koff(c, i, j) with koff = c·ph·wp + i·dilH·wp + j·dilW, the same
 * offset for every pixel. So V consecutive positions (a strip) read V consecutive floats per
 * tap, and a convolution is a product of packed weights [Cout × taps] by strips, computed in
 * MR×NS tiles (MR output channels × NS strips) by a register-blocked micro-kernel, as a GEMM's.
 * Positions with ow ≥ outW (the wp − outW columns at each row's end) are computed and
 * dropped: an overhead of (kW−1)·dilW / wp, 1/8 for a 3×3 kernel on 14-wide images.
 */
final class CpuConvDirect {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int V = F.length();
    /** Output channels per tile. */
    static final int MR = 8;
    /**
     * Strips per tile: 8×3 = 24 accumulators, three vector loads and eight broadcasts per 24
     * FMAs. (8×2, 6×4 and 12×2 measured within noise of it on the training example's shapes,
     * whose time goes to the FMAs themselves: the kernel runs near two FMAs per cycle.)
     */
    static final int NS = 3;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private CpuConvDirect() {}

    /**
     * Taps below which the column-matrix path is faster: a tile's stores are then not repaid by
     * its few FMAs (a 1-channel 3×3 convolution runs 20% faster through im2col and GEMM).
     */
    private static final int MIN_TAPS = 32;

    /** Whether this float32 convolution goes the direct way: stride 1, enough taps, and channels for most of a tile's rows. */
    static boolean appliesToForward(CpuConvGeometry g) {
        return stride1(g) && g.groupColRows() >= MIN_TAPS && g.groupOutChannels() >= MR / 2;
    }

    /** The same for backward-input, which is a direct convolution only when its padding, dil·(k−1) − pad, is ≥ 0. */
    static boolean appliesToBackwardInput(CpuConvGeometry g) {
        return stride1(g) && g.padH() <= g.dilationH() * (g.kernelH() - 1) && g.padW() <= g.dilationW() * (g.kernelW() - 1)
                && g.groupOutChannels() * g.kernelH() * g.kernelW() >= MIN_TAPS && g.groupInChannels() >= MR / 2;
    }

    static boolean stride1(CpuConvGeometry g) {
        return g.strideH() == 1 && g.strideW() == 1;
    }

    /** y = conv(x, w) + bias (bias may be null); contiguous operands, element offsets. */
    static void forward(CpuConvGeometry g, MemorySegment x, long xOff, MemorySegment w, long wOff,
            MemorySegment bias, long biasOff, MemorySegment y, long yOff) {
        run(g, pack(g, w, wOff, false), x, xOff, bias, biasOff, y, yOff);
    }

    /**
     * dx for y = conv(x, w) with stride 1: dx[c] = Σ_o dy[o] ⋆ flip(w[o][c]), a stride-1
     * convolution of dy, padded by dil·(k−1) − pad, with the weights' channel dims swapped and
     * their taps reversed.
     */
    static void backwardInput(CpuConvGeometry g, MemorySegment dy, long dyOff, MemorySegment w, long wOff,
            MemorySegment dx, long dxOff) {
        CpuConvGeometry t = new CpuConvGeometry(g.batch(), g.outChannels(), g.outH(), g.outW(), g.inChannels(),
                g.kernelH(), g.kernelW(), 1, 1,
                g.dilationH() * (g.kernelH() - 1) - g.padH(), g.dilationW() * (g.kernelW() - 1) - g.padW(),
                g.dilationH(), g.dilationW(), g.groups(), g.inH(), g.inW());
        run(t, pack(g, w, wOff, true), dy, dyOff, null, 0, dx, dxOff);
    }

    /**
     * Weights packed per group and per block of MR output channels as [tap][MR] (rows past the
     * group's last channel zero), so the micro-kernel broadcasts them in order. Transposed
     * packing is for backward-input: its output channels are g's input channels, and tap
     * (i, j) of its kernel is tap (kH−1−i, kW−1−j) of g's.
     */
    private static float[] pack(CpuConvGeometry g, MemorySegment w, long wOff, boolean transposed) {
        int cog = g.groupOutChannels(), cig = g.groupInChannels(), kk = g.kernelH() * g.kernelW();
        int rows = transposed ? cig : cog, cols = transposed ? cog : cig, taps = cols * kk;
        int blocks = ceilDiv(rows, MR);
        float[] packed = new float[g.groups() * blocks * taps * MR];
        for (int grp = 0; grp < g.groups(); grp++) {
            for (int r = 0; r < rows; r++) {
                int base = ((grp * blocks + r / MR) * taps) * MR + r % MR;
                for (int c = 0; c < cols; c++) {
                    for (int t = 0; t < kk; t++) {
                        int o = transposed ? c : r, i = transposed ? r : c, tap = transposed ? kk - 1 - t : t;
                        long src = wOff + ((long) (grp * cog + o) * cig + i) * kk + tap;
                        packed[base + (c * kk + t) * MR] = w.getAtIndex(F32, src);
                    }
                }
            }
        }
        return packed;
    }

    /**
     * The padded-linear layout of one image, shared by every image of a call: padded width wp,
     * plane size, positions computed (outH·wp rounded up to whole tiles of tileSpan), the tap
     * offsets koff of one group's input channels, and the padded image's length including the
     * slack that the last tile's dropped positions read.
     */
    record Layout(int wp, int plane, int positions, int tileSpan, int[] koff, int padded) {
        static Layout of(CpuConvGeometry g, int tileSpan) {
            int wp = g.inW() + 2 * g.padW(), plane = (g.inH() + 2 * g.padH()) * wp;
            int positions = ceilDiv(g.outH() * wp, tileSpan) * tileSpan;
            int kk = g.kernelH() * g.kernelW(), cig = g.groupInChannels();
            int[] koff = new int[cig * kk];
            for (int c = 0; c < cig; c++) {
                for (int i = 0; i < g.kernelH(); i++) {
                    for (int j = 0; j < g.kernelW(); j++) {
                        koff[(c * g.kernelH() + i) * g.kernelW() + j] = c * plane + i * g.dilationH() * wp + j * g.dilationW();
                    }
                }
            }
            // the last tile's dropped positions read up to this far past the last plane
            int slack = positions - g.outH() * wp + (g.kernelW() - 1) * g.dilationW();
            return new Layout(wp, plane, positions, tileSpan, koff, Math.multiplyExact(g.inChannels(), plane) + slack);
        }
    }

    /** The convolution of every image with weights packed by {@link #pack}; images split across threads. */
    private static void run(CpuConvGeometry g, float[] packed, MemorySegment x, long xOff,
            MemorySegment bias, long biasOff, MemorySegment y, long yOff) {
        Layout l = Layout.of(g, NS * V);
        int[][] runs = storeRuns(g, l);
        // each output channel's bias, zeros without one: read from an array, not through a branch in image(), which
        // forward (with a bias) and the input gradient (without) share; the branch's first profile made C2
        // deoptimise image() when the other came
        float[] shifts = new float[g.outChannels()];
        if (bias != null) MemorySegment.copy(bias, F32, biasOff * Float.BYTES, shifts, 0, shifts.length);
        Parallel.forRange(g.batch(), 1, (start, end) -> {
            float[] xp = new float[l.padded];
            float[] tile = new float[MR * l.tileSpan];
            for (long n = start; n < end; n++) {
                pad(g, l, x, xOff + n * g.inImage(), xp, 0);
                image(g, l, packed, xp, tile, runs, shifts, y, yOff + n * g.outImage());
            }
        });
    }

    /** One padded image through every tile. */
    private static void image(CpuConvGeometry g, Layout l, float[] packed, float[] xp, float[] tile, int[][] runs,
            float[] shifts, MemorySegment y, long out) {
        int cog = g.groupOutChannels(), blocks = ceilDiv(cog, MR), taps = l.koff.length, p = g.outPlane();
        for (int grp = 0; grp < g.groups(); grp++) {
            int xBase = grp * g.groupInChannels() * l.plane;
            for (int b = 0; b < blocks; b++) {
                int wo = (grp * blocks + b) * taps * MR, rows = Math.min(MR, cog - b * MR);
                long o0 = (long) grp * cog + b * MR;
                for (int q = 0; q < l.positions; q += l.tileSpan) {
                    kernel(taps, packed, wo, xp, xBase + q, l.koff, tile);
                    int[] run = runs[q / l.tileSpan];
                    for (int r = 0; r < rows; r++) store(tile, r * l.tileSpan, run, shifts[(int) o0 + r], y, out + (o0 + r) * p);
                }
            }
        }
    }

    /**
     * For each tile of positions, the runs of valid output pixels it holds, as triples (first
     * lane, output pixel, length): a row's worth of positions ends with dropped columns.
     */
    private static int[][] storeRuns(CpuConvGeometry g, Layout l) {
        int tiles = l.positions / l.tileSpan;
        int[][] runs = new int[tiles][];
        for (int t = 0; t < tiles; t++) {
            int[] list = new int[3 * (l.tileSpan + 1)];
            int count = 0;
            for (int lane = 0; lane < l.tileSpan; ) {
                int q = t * l.tileSpan + lane, oh = q / l.wp, ow = q % l.wp;
                if (oh >= g.outH()) break;
                if (ow >= g.outW()) {
                    lane += l.wp - ow;
                    continue;
                }
                int len = Math.min(g.outW() - ow, l.tileSpan - lane);
                list[count++] = lane;
                list[count++] = oh * g.outW() + ow;
                list[count++] = len;
                lane += len;
            }
            runs[t] = java.util.Arrays.copyOf(list, count);
        }
        return runs;
    }

    /** Writes one tile row's valid runs, plus {@code shift}, into the output plane at element {@code plane}. */
    private static void store(float[] tile, int from, int[] run, float shift, MemorySegment y, long plane) {
        FloatVector s = FloatVector.broadcast(F, shift);
        for (int k = 0; k < run.length; k += 3) {
            int lane = from + run[k], len = run[k + 2];
            long at = (plane + run[k + 1]) * Float.BYTES;
            for (int i = 0; i < len; i += V) {
                VectorMask<Float> m = F.indexInRange(i, len);
                FloatVector.fromArray(F, tile, lane + i, m).add(s).intoMemorySegment(y, at + 4L * i, ORDER, m);
            }
        }
    }

    /**
     * Copies one image into the padded planes of xp from index {@code at}. Only the image's own
     * pixels are written, so the border and the slack must already be zero: they are in a new
     * array, and stay so when every image copied into it has this layout.
     */
    static void pad(CpuConvGeometry g, Layout l, MemorySegment x, long in, float[] xp, int at) {
        int w = g.inW();
        for (int c = 0; c < g.inChannels(); c++) {
            for (int h = 0; h < g.inH(); h++) {
                long from = (in + ((long) c * g.inH() + h) * w) * Float.BYTES;
                int to = at + c * l.plane + (h + g.padH()) * l.wp + g.padW();
                // a vector at a time: a copy call per row (14 floats in the example's conv2) cost more than the copying
                for (int i = 0; i < w; i += V) {
                    VectorMask<Float> m = F.indexInRange(i, w);
                    FloatVector.fromMemorySegment(F, x, from + (long) i * Float.BYTES, ORDER, m).intoArray(xp, to + i, m);
                }
            }
        }
    }

    /*
     * The MR×NS micro-kernel: for one block of MR output channels and NS strips from xp offset
     * xo, tile[r·NS·V + s·V + lane] = Σ_tap packed[wo + tap·MR + r] · xp[xo + koff[tap] + s·V + lane].
     * Unrolled by hand so every accumulator is its own local that C2 keeps in a register.
     */
    private static void kernel(int taps, float[] wp, int wo, float[] xp, int xo, int[] koff, float[] tile) {
        FloatVector c0a = FloatVector.zero(F), c0b = FloatVector.zero(F), c0c = FloatVector.zero(F);
        FloatVector c1a = FloatVector.zero(F), c1b = FloatVector.zero(F), c1c = FloatVector.zero(F);
        FloatVector c2a = FloatVector.zero(F), c2b = FloatVector.zero(F), c2c = FloatVector.zero(F);
        FloatVector c3a = FloatVector.zero(F), c3b = FloatVector.zero(F), c3c = FloatVector.zero(F);
        FloatVector c4a = FloatVector.zero(F), c4b = FloatVector.zero(F), c4c = FloatVector.zero(F);
        FloatVector c5a = FloatVector.zero(F), c5b = FloatVector.zero(F), c5c = FloatVector.zero(F);
        FloatVector c6a = FloatVector.zero(F), c6b = FloatVector.zero(F), c6c = FloatVector.zero(F);
        FloatVector c7a = FloatVector.zero(F), c7b = FloatVector.zero(F), c7c = FloatVector.zero(F);
        for (int t = 0; t < taps; t++) {
            int xi = xo + koff[t], wi = wo + t * MR;
            FloatVector b0 = FloatVector.fromArray(F, xp, xi), b1 = FloatVector.fromArray(F, xp, xi + V);
            FloatVector b2 = FloatVector.fromArray(F, xp, xi + 2 * V);
            FloatVector a0 = FloatVector.broadcast(F, wp[wi]);
            c0a = a0.fma(b0, c0a);
            c0b = a0.fma(b1, c0b);
            c0c = a0.fma(b2, c0c);
            FloatVector a1 = FloatVector.broadcast(F, wp[wi + 1]);
            c1a = a1.fma(b0, c1a);
            c1b = a1.fma(b1, c1b);
            c1c = a1.fma(b2, c1c);
            FloatVector a2 = FloatVector.broadcast(F, wp[wi + 2]);
            c2a = a2.fma(b0, c2a);
            c2b = a2.fma(b1, c2b);
            c2c = a2.fma(b2, c2c);
            FloatVector a3 = FloatVector.broadcast(F, wp[wi + 3]);
            c3a = a3.fma(b0, c3a);
            c3b = a3.fma(b1, c3b);
            c3c = a3.fma(b2, c3c);
            FloatVector a4 = FloatVector.broadcast(F, wp[wi + 4]);
            c4a = a4.fma(b0, c4a);
            c4b = a4.fma(b1, c4b);
            c4c = a4.fma(b2, c4c);
            FloatVector a5 = FloatVector.broadcast(F, wp[wi + 5]);
            c5a = a5.fma(b0, c5a);
            c5b = a5.fma(b1, c5b);
            c5c = a5.fma(b2, c5c);
            FloatVector a6 = FloatVector.broadcast(F, wp[wi + 6]);
            c6a = a6.fma(b0, c6a);
            c6b = a6.fma(b1, c6b);
            c6c = a6.fma(b2, c6c);
            FloatVector a7 = FloatVector.broadcast(F, wp[wi + 7]);
            c7a = a7.fma(b0, c7a);
            c7b = a7.fma(b1, c7b);
            c7c = a7.fma(b2, c7c);
        }
        c0a.intoArray(tile, 0 * V);
        c0b.intoArray(tile, 1 * V);
        c0c.intoArray(tile, 2 * V);
        c1a.intoArray(tile, 3 * V);
        c1b.intoArray(tile, 4 * V);
        c1c.intoArray(tile, 5 * V);
        c2a.intoArray(tile, 6 * V);
        c2b.intoArray(tile, 7 * V);
        c2c.intoArray(tile, 8 * V);
        c3a.intoArray(tile, 9 * V);
        c3b.intoArray(tile, 10 * V);
        c3c.intoArray(tile, 11 * V);
        c4a.intoArray(tile, 12 * V);
        c4b.intoArray(tile, 13 * V);
        c4c.intoArray(tile, 14 * V);
        c5a.intoArray(tile, 15 * V);
        c5b.intoArray(tile, 16 * V);
        c5c.intoArray(tile, 17 * V);
        c6a.intoArray(tile, 18 * V);
        c6b.intoArray(tile, 19 * V);
        c6c.intoArray(tile, 20 * V);
        c7a.intoArray(tile, 21 * V);
        c7b.intoArray(tile, 22 * V);
        c7c.intoArray(tile, 23 * V);
    }

    static int ceilDiv(int a, int b) { return (a + b - 1) / b; }
}
