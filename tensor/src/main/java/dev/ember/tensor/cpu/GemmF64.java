package dev.ember.tensor.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float64 engine behind {@link Gemm}: the same blocking, packing and loop order as
 * {@link GemmF32} (see there for why), on double lanes, with the k slice halved so that every
 * block keeps its size in bytes. One call works on one thread's rectangle of C.
 */
final class GemmF64 {
    private GemmF64() {}

    static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
    /** Lanes per vector. */
    static final int V = S.length();
    /** Rows per micro-tile: MR×2 vectors of accumulators, sized to the register file as in GemmF32. */
    static final int MR = V >= 8 ? 12 : 6;
    /** Columns per micro-tile: two vectors. */
    static final int NR = 2 * V;
    /** k slice: the 12×256 micro-panel of A is 24 KiB, half of L1, as in GemmF32. */
    static final int KC = 256;
    /** Columns per packed B block: 256×512 doubles are 1 MiB, half of L2, as in GemmF32. */
    static final int NC = 512;
    /** Rows per packed A block, as in GemmF32. */
    static final int MC = 1200;

    private static final ValueLayout.OfDouble D = ValueLayout.JAVA_DOUBLE_UNALIGNED;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    /** Packing buffers, allocated once per thread; B with a cache line of slack for alignment. */
    private static final class Buffers {
        final double[] a = new double[MC * KC];
        final double[] b = new double[KC * NC + 8];
        final double[] tile = new double[MR * NR];
    }

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    /** C = alpha * A·B + beta * C on one thread's m×n rectangle of float64 operands (m, n, k ≥ 1). */
    static void gemm(int m, int n, int k, double alpha,
            MemorySegment a, long aOff, long aRs, long aCs,
            MemorySegment b, long bOff, long bRs, long bCs,
            double beta, MemorySegment c, long cOff, long cRs, long cCs) {
        Buffers buf = BUFFERS.get();
        int bStart = GemmAlign.offset(buf.b);
        int kcStep = GemmF32.ceilDiv(k, GemmF32.ceilDiv(k, KC));
        int mcStep = GemmF32.ceilDiv(GemmF32.ceilDiv(m, GemmF32.ceilDiv(m, MC)), MR) * MR;
        for (int pc = 0; pc < k; pc += kcStep) {
            int kc = Math.min(kcStep, k - pc);
            double betaK = pc == 0 ? beta : 1.0;
            for (int ic = 0; ic < m; ic += mcStep) {
                int mc = Math.min(mcStep, m - ic);
                packA(mc, kc, a, aOff + ic * aRs + pc * aCs, aRs, aCs, buf.a);
                for (int jc = 0; jc < n; jc += NC) {
                    int nc = Math.min(NC, n - jc);
                    packB(kc, nc, b, bOff + pc * bRs + jc * bCs, bRs, bCs, buf.b, bStart);
                    block(mc, nc, kc, alpha, betaK, buf, bStart, c, cOff + ic * cRs + jc * cCs, cRs, cCs);
                }
            }
        }
    }

    private static void block(int mc, int nc, int kc, double alpha, double beta, Buffers buf, int bStart,
            MemorySegment c, long cOff, long cRs, long cCs) {
        long rowBytes = cRs * Double.BYTES;
        double[] ap = buf.a, bp = buf.b, tile = buf.tile;
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
                if (cCs == 1 && mr == MR && nr == NR) {
                    updateTile(tile, alpha, beta, c, cij * Double.BYTES, rowBytes);
                } else {
                    storeTile(mr, nr, tile, alpha, beta, c, cij, cRs, cCs);
                }
            }
        }
    }

    private static void kernel12(int kc, double[] ap, int ao, double[] bp, int bo, double[] tile) {
        DoubleVector c0a = DoubleVector.zero(S), c0b = DoubleVector.zero(S);
        DoubleVector c1a = DoubleVector.zero(S), c1b = DoubleVector.zero(S);
        DoubleVector c2a = DoubleVector.zero(S), c2b = DoubleVector.zero(S);
        DoubleVector c3a = DoubleVector.zero(S), c3b = DoubleVector.zero(S);
        DoubleVector c4a = DoubleVector.zero(S), c4b = DoubleVector.zero(S);
        DoubleVector c5a = DoubleVector.zero(S), c5b = DoubleVector.zero(S);
        DoubleVector c6a = DoubleVector.zero(S), c6b = DoubleVector.zero(S);
        DoubleVector c7a = DoubleVector.zero(S), c7b = DoubleVector.zero(S);
        DoubleVector c8a = DoubleVector.zero(S), c8b = DoubleVector.zero(S);
        DoubleVector c9a = DoubleVector.zero(S), c9b = DoubleVector.zero(S);
        DoubleVector c10a = DoubleVector.zero(S), c10b = DoubleVector.zero(S);
        DoubleVector c11a = DoubleVector.zero(S), c11b = DoubleVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int a = ao + p * 12, b = bo + p * NR;
            DoubleVector b0 = DoubleVector.fromArray(S, bp, b), b1 = DoubleVector.fromArray(S, bp, b + V);
            DoubleVector a0 = DoubleVector.broadcast(S, ap[a + 0]);
            c0a = a0.fma(b0, c0a);
            c0b = a0.fma(b1, c0b);
            DoubleVector a1 = DoubleVector.broadcast(S, ap[a + 1]);
            c1a = a1.fma(b0, c1a);
            c1b = a1.fma(b1, c1b);
            DoubleVector a2 = DoubleVector.broadcast(S, ap[a + 2]);
            c2a = a2.fma(b0, c2a);
            c2b = a2.fma(b1, c2b);
            DoubleVector a3 = DoubleVector.broadcast(S, ap[a + 3]);
            c3a = a3.fma(b0, c3a);
            c3b = a3.fma(b1, c3b);
            DoubleVector a4 = DoubleVector.broadcast(S, ap[a + 4]);
            c4a = a4.fma(b0, c4a);
            c4b = a4.fma(b1, c4b);
            DoubleVector a5 = DoubleVector.broadcast(S, ap[a + 5]);
            c5a = a5.fma(b0, c5a);
            c5b = a5.fma(b1, c5b);
            DoubleVector a6 = DoubleVector.broadcast(S, ap[a + 6]);
            c6a = a6.fma(b0, c6a);
            c6b = a6.fma(b1, c6b);
            DoubleVector a7 = DoubleVector.broadcast(S, ap[a + 7]);
            c7a = a7.fma(b0, c7a);
            c7b = a7.fma(b1, c7b);
            DoubleVector a8 = DoubleVector.broadcast(S, ap[a + 8]);
            c8a = a8.fma(b0, c8a);
            c8b = a8.fma(b1, c8b);
            DoubleVector a9 = DoubleVector.broadcast(S, ap[a + 9]);
            c9a = a9.fma(b0, c9a);
            c9b = a9.fma(b1, c9b);
            DoubleVector a10 = DoubleVector.broadcast(S, ap[a + 10]);
            c10a = a10.fma(b0, c10a);
            c10b = a10.fma(b1, c10b);
            DoubleVector a11 = DoubleVector.broadcast(S, ap[a + 11]);
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

    private static void kernel6(int kc, double[] ap, int ao, double[] bp, int bo, double[] tile) {
        DoubleVector c0a = DoubleVector.zero(S), c0b = DoubleVector.zero(S);
        DoubleVector c1a = DoubleVector.zero(S), c1b = DoubleVector.zero(S);
        DoubleVector c2a = DoubleVector.zero(S), c2b = DoubleVector.zero(S);
        DoubleVector c3a = DoubleVector.zero(S), c3b = DoubleVector.zero(S);
        DoubleVector c4a = DoubleVector.zero(S), c4b = DoubleVector.zero(S);
        DoubleVector c5a = DoubleVector.zero(S), c5b = DoubleVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int a = ao + p * 6, b = bo + p * NR;
            DoubleVector b0 = DoubleVector.fromArray(S, bp, b), b1 = DoubleVector.fromArray(S, bp, b + V);
            DoubleVector a0 = DoubleVector.broadcast(S, ap[a + 0]);
            c0a = a0.fma(b0, c0a);
            c0b = a0.fma(b1, c0b);
            DoubleVector a1 = DoubleVector.broadcast(S, ap[a + 1]);
            c1a = a1.fma(b0, c1a);
            c1b = a1.fma(b1, c1b);
            DoubleVector a2 = DoubleVector.broadcast(S, ap[a + 2]);
            c2a = a2.fma(b0, c2a);
            c2b = a2.fma(b1, c2b);
            DoubleVector a3 = DoubleVector.broadcast(S, ap[a + 3]);
            c3a = a3.fma(b0, c3a);
            c3b = a3.fma(b1, c3b);
            DoubleVector a4 = DoubleVector.broadcast(S, ap[a + 4]);
            c4a = a4.fma(b0, c4a);
            c4b = a4.fma(b1, c4b);
            DoubleVector a5 = DoubleVector.broadcast(S, ap[a + 5]);
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

    private static void updateTile(double[] tile, double alpha, double beta, MemorySegment c, long cByte, long rowBytes) {
        DoubleVector va = DoubleVector.broadcast(S, alpha), vb = DoubleVector.broadcast(S, beta);
        for (int r = 0; r < MR; r++) {
            long row = cByte + r * rowBytes;
            for (int v = 0; v < NR; v += V) {
                long at = row + (long) v * Double.BYTES;
                DoubleVector y = DoubleVector.fromArray(S, tile, r * NR + v).mul(va);
                if (beta != 0.0) y = DoubleVector.fromMemorySegment(S, c, at, NATIVE).fma(vb, y);
                y.intoMemorySegment(c, at, NATIVE);
            }
        }
    }

    private static void storeTile(int mr, int nr, double[] tile, double alpha, double beta,
            MemorySegment c, long cOff, long cRs, long cCs) {
        for (int r = 0; r < mr; r++) {
            long row = cOff + r * cRs;
            for (int j = 0; j < nr; j++) {
                long at = row + j * cCs;
                double v = alpha * tile[r * NR + j];
                if (beta != 0.0) v = Math.fma(beta, c.getAtIndex(D, at), v);
                c.setAtIndex(D, at, v);
            }
        }
    }

    private static void packA(int mc, int kc, MemorySegment a, long off, long rs, long cs, double[] dst) {
        for (int ip = 0; ip < mc; ip += MR) {
            int rows = Math.min(MR, mc - ip);
            int d = ip * kc;
            long base = off + ip * rs;
            for (int r = 0; r < rows; r++) {
                long src = base + r * rs;
                for (int p = 0; p < kc; p++) dst[d + p * MR + r] = a.getAtIndex(D, src + p * cs);
            }
            for (int p = 0; p < kc && rows < MR; p++) {
                for (int r = rows; r < MR; r++) dst[d + p * MR + r] = 0.0;
            }
        }
    }

    private static void packB(int kc, int nc, MemorySegment b, long off, long rs, long cs, double[] dst, int d0) {
        for (int jp = 0; jp < nc; jp += NR) {
            int cols = Math.min(NR, nc - jp);
            int d = d0 + jp * kc;
            long base = off + jp * cs;
            if (cs == 1 && cols == NR) {
                for (int p = 0; p < kc; p++) {
                    long src = (base + p * rs) * Double.BYTES;
                    DoubleVector.fromMemorySegment(S, b, src, NATIVE).intoArray(dst, d + p * NR);
                    DoubleVector.fromMemorySegment(S, b, src + (long) V * Double.BYTES, NATIVE).intoArray(dst, d + p * NR + V);
                }
                continue;
            }
            for (int p = 0; p < kc; p++) {
                long src = base + p * rs;
                for (int j = 0; j < cols; j++) dst[d + p * NR + j] = b.getAtIndex(D, src + j * cs);
                for (int j = cols; j < NR; j++) dst[d + p * NR + j] = 0.0;
            }
        }
    }
}
