package dev.ember.tensor.cpu;

import dev.ember.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float32 engine behind {@link Gemm}, after GotoBLAS/BLIS: k is cut into KC-deep slices,
 * each thread's rows into MC-tall blocks and its columns into NC-wide blocks. Each MC×KC block
 * of A is packed once into MR-row micro-panels, each KC×NC block of B into NR-column
 * micro-panels, and an MR×NR register-tiled FMA micro-kernel multiplies a micro-panel of A by
 * one of B into a tile of C. Packing reads A and B through arbitrary element strides and widens
 * float16 and bfloat16 to float32, so transposed, strided and half-precision operands cost no
 * extra copy.
 *
 * <p>Where each piece lives while the micro-kernels run (sizes for the AVX-512 target, 48 KiB
 * L1 and 2 MiB L2 per core): the packed KC×NC block of B sits in L2 and streams through the
 * kernels; the current MR×KC micro-panel of A stays in L1 for a whole row of tiles; A's packed
 * block streams from L3 once per NC columns; C is read and written once per k slice, along its
 * rows, which the hardware prefetcher follows.
 *
 * <p>One call works on one thread's rectangle of C; {@link Gemm} splits C between threads so
 * that no two threads write the same tile.
 */
final class GemmF32 {
    private GemmF32() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Lanes per vector. */
    static final int V = S.length();
    /**
     * Rows per micro-tile. The tile is MR×2 vectors of accumulators, plus two vectors of B and
     * one broadcast of A per k step. 512-bit species mean AVX-512 and 32 vector registers:
     * 12×2 = 24 accumulators fit with room to spare and give 24 FMAs per 14 loads, enough to
     * keep both FMA ports busy (12×32 measured fastest of 6/8/10/12/14×32 and 6/8×48 here).
     * Narrower species mean 16 registers (AVX2) or fewer; 6×2 = 12 accumulators fit those.
     */
    static final int MR = V >= 16 ? 12 : 6;
    /** Columns per micro-tile: two vectors, so each broadcast of A feeds two FMAs. */
    static final int NR = 2 * V;
    /**
     * Depth of a k slice. C is read and written once per slice, so deeper is better until the
     * MR×KC micro-panel of A (24 KiB at 12×512) no longer stays in the 48 KiB L1 beside the B
     * panel streaming through. Single-thread at 1024² and 2048²: 256 (twice the passes over
     * C) measured 5% slower, 768 3% slower.
     */
    static final int KC = 512;
    /**
     * Columns per packed B block (a multiple of NR): the KC×NC block (1 MiB at 512×512) must
     * stay in the 2 MiB L2 while A's micro-panels and C stream past it. 384 measured level
     * with 512; 768 (1.5 MiB) 6% slower, 1024 (2 MiB) 12% slower.
     */
    static final int NC = 512;
    /**
     * Rows per packed A block (a multiple of MR). The block streams from L3 rather than sitting
     * in a cache, so its size only decides how often B is repacked: once per MC rows. 1200
     * rows (2.4 MiB) packs B once for each thread's share of a 2048² product on two threads;
     * 480 rows measured 3% slower there, 240 rows 8%.
     */
    static final int MC = 1200;

    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort H = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    /**
     * Packing buffers, allocated once per thread and reused by every call on it. B has a cache
     * line of slack so that its panels can start on a line boundary (see {@link GemmAlign}).
     */
    private static final class Buffers {
        final float[] a = new float[MC * KC];
        final float[] b = new float[KC * NC + 16];
        final float[] tile = new float[MR * NR];
        /** A column-major B panel's NR columns, copied whole before the transpose (see packB). */
        final float[] columns = new float[NR * KC];
        /** Where a k row's NR values lie in {@link #columns}: 0, kc, 2kc, ... */
        final int[] lanes = new int[NR];
    }

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    /** This thread's packing buffer for B, lent as scratch to code that is not packing now. */
    static float[] scratch(int size) {
        float[] b = BUFFERS.get().b;
        return b.length >= size ? b : new float[size];
    }

    /**
     * C = alpha * A·B + beta * C on one thread's m×n rectangle (m, n, k ≥ 1). A and B hold
     * {@code in} elements (FLOAT32, FLOAT16 or BFLOAT16); C holds {@code out} elements. Offsets
     * and strides are in elements of the operand's own dtype.
     */
    static void gemm(DType in, DType out, int m, int n, int k, float alpha,
            MemorySegment a, long aOff, long aRs, long aCs,
            MemorySegment b, long bOff, long bRs, long bCs,
            float beta, MemorySegment c, long cOff, long cRs, long cCs) {
        Buffers buf = BUFFERS.get();
        int bStart = GemmAlign.offset(buf.b);
        // Equal slices rather than full ones plus a thin remainder: k = 600 runs as 2×300,
        // not 512 + 88, so no slice is too shallow to amortise its pass over C.
        int kcStep = ceilDiv(k, ceilDiv(k, KC));
        int mcStep = ceilDiv(ceilDiv(m, ceilDiv(m, MC)), MR) * MR;
        for (int pc = 0; pc < k; pc += kcStep) {
            int kc = Math.min(kcStep, k - pc);
            // beta applies once; later k slices add onto what the first one wrote.
            float betaK = pc == 0 ? beta : 1f;
            for (int ic = 0; ic < m; ic += mcStep) {
                int mc = Math.min(mcStep, m - ic);
                packA(in, mc, kc, a, aOff + ic * aRs + pc * aCs, aRs, aCs, buf.a);
                for (int jc = 0; jc < n; jc += NC) {
                    int nc = Math.min(NC, n - jc);
                    packB(in, kc, nc, b, bOff + pc * bRs + jc * bCs, bRs, bCs, buf, bStart);
                    block(out, mc, nc, kc, alpha, betaK, buf, bStart, c, cOff + ic * cRs + jc * cCs, cRs, cCs);
                }
            }
        }
    }

    /**
     * Runs the micro-kernel over one packed MC×KC block of A against one KC×NC block of B (which
     * starts at index bStart of its buffer).
     */
    private static void block(DType out, int mc, int nc, int kc, float alpha, float beta, Buffers buf, int bStart,
            MemorySegment c, long cOff, long cRs, long cCs) {
        // Full float32 tiles with unit column stride are updated in vectors; edge tiles,
        // strided C and half-precision C element by element.
        boolean vectorC = out == DType.FLOAT32 && cCs == 1;
        long rowBytes = cRs * Float.BYTES;
        float[] ap = buf.a, bp = buf.b, tile = buf.tile;
        // Rows outer, columns inner: the A micro-panel stays in L1 for a whole row of tiles,
        // and C is written along its rows, a stream the hardware prefetcher can follow.
        for (int ir = 0; ir < mc; ir += MR) {
            int mr = Math.min(MR, mc - ir);
            for (int jr = 0; jr < nc; jr += NR) {
                int nr = Math.min(NR, nc - jr);
                long cij = cOff + ir * cRs + jr * cCs;
                if (MR == 12) {
                    kernel12(kc, ap, ir * kc, bp, bStart + jr * kc, tile);
                } else {
                    kernel6(kc, ap, ir * kc, bp, bStart + jr * kc, tile);
                }
                if (vectorC && mr == MR && nr == NR) {
                    updateTile(tile, alpha, beta, c, cij * Float.BYTES, rowBytes);
                } else {
                    storeTile(out, mr, nr, tile, alpha, beta, c, cij, cRs, cCs);
                }
            }
        }
    }

    /*
     * The MR×NR micro-kernels: the sums over kc of panel ap (from ao) times panel bp (from bo)
     * left row by row in tile. They are unrolled by hand: every accumulator must be its own
     * local, and no vector may cross a call, so that C2 keeps all of them in registers across
     * the k loop. (The sums go through the tile, not straight into C, because C2 declines to
     * inline a store helper into a method this size, and a vector crossing a call is boxed.)
     */

    private static void kernel12(int kc, float[] ap, int ao, float[] bp, int bo, float[] tile) {
        FloatVector c0a = FloatVector.zero(S), c0b = FloatVector.zero(S);
        FloatVector c1a = FloatVector.zero(S), c1b = FloatVector.zero(S);
        FloatVector c2a = FloatVector.zero(S), c2b = FloatVector.zero(S);
        FloatVector c3a = FloatVector.zero(S), c3b = FloatVector.zero(S);
        FloatVector c4a = FloatVector.zero(S), c4b = FloatVector.zero(S);
        FloatVector c5a = FloatVector.zero(S), c5b = FloatVector.zero(S);
        FloatVector c6a = FloatVector.zero(S), c6b = FloatVector.zero(S);
        FloatVector c7a = FloatVector.zero(S), c7b = FloatVector.zero(S);
        FloatVector c8a = FloatVector.zero(S), c8b = FloatVector.zero(S);
        FloatVector c9a = FloatVector.zero(S), c9b = FloatVector.zero(S);
        FloatVector c10a = FloatVector.zero(S), c10b = FloatVector.zero(S);
        FloatVector c11a = FloatVector.zero(S), c11b = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int a = ao + p * 12, b = bo + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, b), b1 = FloatVector.fromArray(S, bp, b + V);
            FloatVector a0 = FloatVector.broadcast(S, ap[a + 0]);
            c0a = a0.fma(b0, c0a);
            c0b = a0.fma(b1, c0b);
            FloatVector a1 = FloatVector.broadcast(S, ap[a + 1]);
            c1a = a1.fma(b0, c1a);
            c1b = a1.fma(b1, c1b);
            FloatVector a2 = FloatVector.broadcast(S, ap[a + 2]);
            c2a = a2.fma(b0, c2a);
            c2b = a2.fma(b1, c2b);
            FloatVector a3 = FloatVector.broadcast(S, ap[a + 3]);
            c3a = a3.fma(b0, c3a);
            c3b = a3.fma(b1, c3b);
            FloatVector a4 = FloatVector.broadcast(S, ap[a + 4]);
            c4a = a4.fma(b0, c4a);
            c4b = a4.fma(b1, c4b);
            FloatVector a5 = FloatVector.broadcast(S, ap[a + 5]);
            c5a = a5.fma(b0, c5a);
            c5b = a5.fma(b1, c5b);
            FloatVector a6 = FloatVector.broadcast(S, ap[a + 6]);
            c6a = a6.fma(b0, c6a);
            c6b = a6.fma(b1, c6b);
            FloatVector a7 = FloatVector.broadcast(S, ap[a + 7]);
            c7a = a7.fma(b0, c7a);
            c7b = a7.fma(b1, c7b);
            FloatVector a8 = FloatVector.broadcast(S, ap[a + 8]);
            c8a = a8.fma(b0, c8a);
            c8b = a8.fma(b1, c8b);
            FloatVector a9 = FloatVector.broadcast(S, ap[a + 9]);
            c9a = a9.fma(b0, c9a);
            c9b = a9.fma(b1, c9b);
            FloatVector a10 = FloatVector.broadcast(S, ap[a + 10]);
            c10a = a10.fma(b0, c10a);
            c10b = a10.fma(b1, c10b);
            FloatVector a11 = FloatVector.broadcast(S, ap[a + 11]);
            c11a = a11.fma(b0, c11a);
            c11b = a11.fma(b1, c11b);
        }
        c0a.intoArray(tile, 0 * V);
        c0b.intoArray(tile, 1 * V);
        c1a.intoArray(tile, 2 * V);
        c1b.intoArray(tile, 3 * V);
        c2a.intoArray(tile, 4 * V);
        c2b.intoArray(tile, 5 * V);
        c3a.intoArray(tile, 6 * V);
        c3b.intoArray(tile, 7 * V);
        c4a.intoArray(tile, 8 * V);
        c4b.intoArray(tile, 9 * V);
        c5a.intoArray(tile, 10 * V);
        c5b.intoArray(tile, 11 * V);
        c6a.intoArray(tile, 12 * V);
        c6b.intoArray(tile, 13 * V);
        c7a.intoArray(tile, 14 * V);
        c7b.intoArray(tile, 15 * V);
        c8a.intoArray(tile, 16 * V);
        c8b.intoArray(tile, 17 * V);
        c9a.intoArray(tile, 18 * V);
        c9b.intoArray(tile, 19 * V);
        c10a.intoArray(tile, 20 * V);
        c10b.intoArray(tile, 21 * V);
        c11a.intoArray(tile, 22 * V);
        c11b.intoArray(tile, 23 * V);
    }

    private static void kernel6(int kc, float[] ap, int ao, float[] bp, int bo, float[] tile) {
        FloatVector c0a = FloatVector.zero(S), c0b = FloatVector.zero(S);
        FloatVector c1a = FloatVector.zero(S), c1b = FloatVector.zero(S);
        FloatVector c2a = FloatVector.zero(S), c2b = FloatVector.zero(S);
        FloatVector c3a = FloatVector.zero(S), c3b = FloatVector.zero(S);
        FloatVector c4a = FloatVector.zero(S), c4b = FloatVector.zero(S);
        FloatVector c5a = FloatVector.zero(S), c5b = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int a = ao + p * 6, b = bo + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, b), b1 = FloatVector.fromArray(S, bp, b + V);
            FloatVector a0 = FloatVector.broadcast(S, ap[a + 0]);
            c0a = a0.fma(b0, c0a);
            c0b = a0.fma(b1, c0b);
            FloatVector a1 = FloatVector.broadcast(S, ap[a + 1]);
            c1a = a1.fma(b0, c1a);
            c1b = a1.fma(b1, c1b);
            FloatVector a2 = FloatVector.broadcast(S, ap[a + 2]);
            c2a = a2.fma(b0, c2a);
            c2b = a2.fma(b1, c2b);
            FloatVector a3 = FloatVector.broadcast(S, ap[a + 3]);
            c3a = a3.fma(b0, c3a);
            c3b = a3.fma(b1, c3b);
            FloatVector a4 = FloatVector.broadcast(S, ap[a + 4]);
            c4a = a4.fma(b0, c4a);
            c4b = a4.fma(b1, c4b);
            FloatVector a5 = FloatVector.broadcast(S, ap[a + 5]);
            c5a = a5.fma(b0, c5a);
            c5b = a5.fma(b1, c5b);
        }
        c0a.intoArray(tile, 0 * V);
        c0b.intoArray(tile, 1 * V);
        c1a.intoArray(tile, 2 * V);
        c1b.intoArray(tile, 3 * V);
        c2a.intoArray(tile, 4 * V);
        c2b.intoArray(tile, 5 * V);
        c3a.intoArray(tile, 6 * V);
        c3b.intoArray(tile, 7 * V);
        c4a.intoArray(tile, 8 * V);
        c4b.intoArray(tile, 9 * V);
        c5a.intoArray(tile, 10 * V);
        c5b.intoArray(tile, 11 * V);
    }

    /**
     * C = alpha * tile + beta * C for a full MR×NR tile of float32 C with unit column stride,
     * {@code rowBytes} between rows (C not read when beta is 0).
     */
    private static void updateTile(float[] tile, float alpha, float beta, MemorySegment c, long cByte, long rowBytes) {
        FloatVector va = FloatVector.broadcast(S, alpha), vb = FloatVector.broadcast(S, beta);
        for (int r = 0; r < MR; r++) {
            long row = cByte + r * rowBytes;
            for (int v = 0; v < NR; v += V) {
                long at = row + (long) v * Float.BYTES;
                FloatVector y = FloatVector.fromArray(S, tile, r * NR + v).mul(va);
                if (beta != 0f) y = FloatVector.fromMemorySegment(S, c, at, NATIVE).fma(vb, y);
                y.intoMemorySegment(c, at, NATIVE);
            }
        }
    }

    /** Adds the top-left mr×nr of a raw tile into C of any dtype and strides, rounding once. */
    private static void storeTile(DType out, int mr, int nr, float[] tile, float alpha, float beta,
            MemorySegment c, long cOff, long cRs, long cCs) {
        for (int r = 0; r < mr; r++) {
            long row = cOff + r * cRs;
            for (int j = 0; j < nr; j++) {
                long at = row + j * cCs;
                float v = alpha * tile[r * NR + j];
                if (beta != 0f) v = Math.fma(beta, load(out, c, at), v);
                store(out, c, at, v);
            }
        }
    }

    /**
     * Packs the mc×kc block of A at {@code off} into MR-row micro-panels: panel i holds rows
     * [i·MR, i·MR+MR) as kc columns of MR consecutive floats, rows past mc zero.
     */
    private static void packA(DType in, int mc, int kc, MemorySegment a, long off, long rs, long cs, float[] dst) {
        for (int ip = 0; ip < mc; ip += MR) {
            int rows = Math.min(MR, mc - ip);
            int d = ip * kc;
            long base = off + ip * rs;
            if (in == DType.FLOAT32 && cs == 1) {
                // Row-major A: each row is contiguous along k and becomes one column of the panel.
                for (int r = 0; r < rows; r++) {
                    long src = (base + r * rs) * Float.BYTES;
                    for (int p = 0; p < kc; p++) dst[d + p * MR + r] = a.get(F, src + (long) p * Float.BYTES);
                }
            } else if (in == DType.FLOAT32 && rs == 1) {
                // Column-major A: the MR rows at each k are already contiguous, a masked vector copy.
                for (int p = 0; p < kc; p++) {
                    long src = (base + p * cs) * Float.BYTES;
                    for (int r = 0; r < rows; r += V) {
                        VectorMask<Float> live = S.indexInRange(r, rows);
                        FloatVector.fromMemorySegment(S, a, src + (long) r * Float.BYTES, NATIVE, live)
                                .intoArray(dst, d + p * MR + r, live);
                    }
                }
            } else {
                for (int r = 0; r < rows; r++) {
                    long src = base + r * rs;
                    for (int p = 0; p < kc; p++) dst[d + p * MR + r] = load(in, a, src + p * cs);
                }
            }
            for (int p = 0; p < kc && rows < MR; p++) {
                for (int r = rows; r < MR; r++) dst[d + p * MR + r] = 0f;
            }
        }
    }

    /**
     * Packs the kc×nc block of B at {@code off} into NR-column micro-panels from index d0 of
     * dst: panel j holds columns [j·NR, j·NR+NR) as kc rows of NR consecutive floats, columns
     * past nc zero.
     */
    private static void packB(DType in, int kc, int nc, MemorySegment b, long off, long rs, long cs, Buffers buf, int d0) {
        float[] dst = buf.b;
        for (int jp = 0; jp < nc; jp += NR) {
            int cols = Math.min(NR, nc - jp);
            int d = d0 + jp * kc;
            long base = off + jp * cs;
            if (in == DType.FLOAT32 && cs == 1 && cols == NR) {
                // Row-major B: each k row of the panel is NR contiguous floats, two vector copies.
                for (int p = 0; p < kc; p++) {
                    long src = (base + p * rs) * Float.BYTES;
                    FloatVector.fromMemorySegment(S, b, src, NATIVE).intoArray(dst, d + p * NR);
                    FloatVector.fromMemorySegment(S, b, src + (long) V * Float.BYTES, NATIVE).intoArray(dst, d + p * NR + V);
                }
                continue;
            }
            if (in == DType.FLOAT32 && rs == 1 && cols == NR) {
                // Column-major B (a transposed row-major matrix, as Linear's weight.t()): a transpose.
                // The panel's NR columns, kc contiguous floats each, are copied whole, then each k row
                // is gathered from lanes kc apart. (Element by element, with stride cs, the packing
                // took as long as the product itself for the example's [64, 3136] x [3136, 128].)
                float[] columns = buf.columns;
                for (int j = 0; j < NR; j++) MemorySegment.copy(b, F, (base + j * cs) * Float.BYTES, columns, j * kc, kc);
                int[] lanes = buf.lanes;
                for (int j = 0; j < NR; j++) lanes[j] = j * kc;
                for (int p = 0; p < kc; p++) {
                    FloatVector.fromArray(S, columns, p, lanes, 0).intoArray(dst, d + p * NR);
                    FloatVector.fromArray(S, columns, p, lanes, V).intoArray(dst, d + p * NR + V);
                }
                continue;
            }
            if (in == DType.FLOAT32 && rs == 1) {
                // Column-major B, a last panel narrower than NR: a transpose. Walking k outer writes the
                // panel in order and reads the columns as forward streams; column by column would revisit
                // each line of a panel too large for L1 once per column.
                long colBytes = cs * Float.BYTES;
                for (int p = 0; p < kc; p++) {
                    long src = (base + p) * Float.BYTES;
                    int o = d + p * NR;
                    for (int j = 0; j < cols; j++) dst[o + j] = b.get(F, src + j * colBytes);
                }
            } else {
                for (int p = 0; p < kc; p++) {
                    long src = base + p * rs;
                    for (int j = 0; j < cols; j++) dst[d + p * NR + j] = load(in, b, src + j * cs);
                }
            }
            for (int p = 0; p < kc && cols < NR; p++) {
                for (int j = cols; j < NR; j++) dst[d + p * NR + j] = 0f;
            }
        }
    }

    /** Reads element {@code i} of a float32, float16 or bfloat16 segment as a float. */
    static float load(DType t, MemorySegment s, long i) {
        return switch (t) {
            case FLOAT32 -> s.getAtIndex(F, i);
            case FLOAT16 -> Float.float16ToFloat(s.getAtIndex(H, i));
            case BFLOAT16 -> Float.intBitsToFloat(s.getAtIndex(H, i) << 16);
            default -> throw new IllegalArgumentException("not a float32-computed dtype: " + t);
        };
    }

    /** Writes {@code v} as element {@code i} of a float32, float16 or bfloat16 segment, rounding to nearest even. */
    static void store(DType t, MemorySegment s, long i, float v) {
        switch (t) {
            case FLOAT32 -> s.setAtIndex(F, i, v);
            case FLOAT16 -> s.setAtIndex(H, i, Float.floatToFloat16(v));
            case BFLOAT16 -> s.setAtIndex(H, i, toBfloat16(v));
            default -> throw new IllegalArgumentException("not a float32-computed dtype: " + t);
        }
    }

    /** float32 → bfloat16 bits, round to nearest even; a NaN stays a (quiet) NaN. */
    static short toBfloat16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) return (short) ((bits >>> 16) | 0x0040);
        bits += 0x7FFF + ((bits >>> 16) & 1);
        return (short) (bits >>> 16);
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
