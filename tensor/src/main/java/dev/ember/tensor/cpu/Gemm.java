package dev.ember.tensor.cpu;

import dev.ember.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * General matrix multiply on the CPU: {@code C = alpha * A·B + beta * C}, the kernel behind
 * mm, matmul, bmm, addmm and linear layers.
 *
 * <p>Operands are addressed by element offset and element strides into their segments, so
 * transposed and strided views multiply without a copy: packing reads through the strides.
 * float32 runs on {@link GemmF32}, a packed, cache-blocked, register-tiled FMA kernel;
 * float16 and bfloat16 are widened to float32 while packing, accumulated in float32 and
 * rounded once into C; float64 runs on {@link GemmF64}, the same design on double lanes.
 *
 * <p>As in BLAS: when beta is 0, C is only written, never read (NaN in C does not
 * propagate); when alpha is 0 or k is 0, A and B are not read and C becomes beta·C. C must
 * not overlap A or B.
 *
 * <p>Work is split between {@link Parallel#numThreads()} threads by rectangles of C, so no two
 * threads write the same element; each thread packs into its own reused buffers.
 */
public final class Gemm {
    private Gemm() {}

    /**
     * Multiply-adds (m·n·k) up to which a call takes the direct path without blocking. The
     * packed path pads to 12×32 micro-tiles and has a fixed cost of about a microsecond; on
     * the target the direct path was 2.5× faster at 16³, level with it at 32³ and 40³, and
     * slower from 64³.
     */
    static final long SMALL = 32 * 32 * 32;

    /**
     * Multiply-adds (2²³, about 200³) below which a call stays on one thread. A second pool
     * thread here takes on the order of 100 µs to pick up its share, and one thread does 200³
     * in about 100 µs: measured on the 2-core target, 192³ ran slower on two threads than on
     * one and 256³ faster.
     */
    static final long PARALLEL_MIN = 1L << 23;

    /**
     * float32 elements of scratch that half-precision products deeper than one k slice
     * accumulate into (16 MiB), so that C is rounded to float16/bfloat16 only once.
     */
    private static final long HALF_SCRATCH = 1L << 22;

    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfDouble D = ValueLayout.JAVA_DOUBLE_UNALIGNED;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    /**
     * C = alpha * A·B + beta * C. A is m×k with element (i,p) at aOff + i*aRs + p*aCs; B is k×n
     * with (p,j) at bOff + p*bRs + j*bCs; C is m×n with (i,j) at cOff + i*cRs + j*cCs. Offsets
     * and strides count elements of {@code dtype}, which applies to A, B and C alike: FLOAT32,
     * FLOAT64, FLOAT16 or BFLOAT16 (the last two computed in float32). m, n or k may be 0.
     *
     * @throws IllegalArgumentException for another dtype, a negative size, a read-only C or a C
     *     with a stride of 0 along a dimension longer than 1
     * @throws IndexOutOfBoundsException when an operand reaches outside its segment
     */
    public static void gemm(DType dtype, int m, int n, int k, double alpha,
            MemorySegment a, long aOff, long aRs, long aCs,
            MemorySegment b, long bOff, long bRs, long bCs,
            double beta, MemorySegment c, long cOff, long cRs, long cCs) {
        checkArguments(dtype, 1, m, n, k, c);
        checkOutputDistinct(1, 0, m, cRs, n, cCs);
        boolean readsAB = k > 0 && alpha != 0;
        if (readsAB) {
            checkBounds("A", dtype, a, aOff, 1, 0, m, aRs, k, aCs);
            checkBounds("B", dtype, b, bOff, 1, 0, k, bRs, n, bCs);
        }
        checkBounds("C", dtype, c, cOff, 1, 0, m, cRs, n, cCs);
        run(dtype, m, n, k, alpha, a, aOff, aRs, aCs, b, bOff, bRs, bCs, beta, c, cOff, cRs, cCs,
                threadsFor(a, b, c));
    }

    /**
     * A batch of independent products: for each t in [0, batch), C_t = alpha * A_t·B_t + beta * C_t
     * where A_t starts at aOff + t*aBs, B_t at bOff + t*bBs and C_t at cOff + t*cBs, each as in
     * {@link #gemm}. A batch stride of 0 broadcasts one A or B to every product (C's may not be
     * 0 when batch > 1, nor a row or column stride of C 0, as for gemm). Small products run in parallel across the batch; large ones one after
     * another, each split across threads.
     */
    public static void gemmBatched(DType dtype, int batch, int m, int n, int k, double alpha,
            MemorySegment a, long aOff, long aBs, long aRs, long aCs,
            MemorySegment b, long bOff, long bBs, long bRs, long bCs,
            double beta, MemorySegment c, long cOff, long cBs, long cRs, long cCs) {
        checkArguments(dtype, batch, m, n, k, c);
        checkOutputDistinct(batch, cBs, m, cRs, n, cCs);
        boolean readsAB = k > 0 && alpha != 0;
        if (readsAB) {
            checkBounds("A", dtype, a, aOff, batch, aBs, m, aRs, k, aCs);
            checkBounds("B", dtype, b, bOff, batch, bBs, k, bRs, n, bCs);
        }
        checkBounds("C", dtype, c, cOff, batch, cBs, m, cRs, n, cCs);
        if (batch == 0 || m == 0 || n == 0) return;
        int threads = threadsFor(a, b, c);
        // A broadcast B with A and C stacked row after row is one product with batch·m rows (a
        // linear layer over a batch); the mirror case stacks columns. One big product packs B
        // once and parallelises as well as any.
        if (batch == 1 || bBs == 0 && aBs == m * aRs && cBs == m * cRs && (long) batch * m <= Integer.MAX_VALUE) {
            run(dtype, batch * m, n, k, alpha, a, aOff, aRs, aCs, b, bOff, bRs, bCs, beta, c, cOff, cRs, cCs, threads);
            return;
        }
        if (aBs == 0 && bBs == n * bCs && cBs == n * cCs && (long) batch * n <= Integer.MAX_VALUE) {
            run(dtype, m, batch * n, k, alpha, a, aOff, aRs, aCs, b, bOff, bRs, bCs, beta, c, cOff, cRs, cCs, threads);
            return;
        }
        long work = (long) m * n * Math.max(k, 1);
        if (threads > 1 && (work < PARALLEL_MIN || batch % threads == 0)) {
            // Whole products per thread: no product is too small to pay for a split, and when
            // the batch divides evenly no thread waits for another.
            long grain = Math.max(1, PARALLEL_MIN / work);
            Parallel.forRange(batch, grain, (s, e) -> {
                for (long t = s; t < e; t++) {
                    run(dtype, m, n, k, alpha, a, aOff + t * aBs, aRs, aCs, b, bOff + t * bBs, bRs, bCs,
                            beta, c, cOff + t * cBs, cRs, cCs, 1);
                }
            });
        } else {
            for (long t = 0; t < batch; t++) {
                run(dtype, m, n, k, alpha, a, aOff + t * aBs, aRs, aCs, b, bOff + t * bBs, bRs, bCs,
                        beta, c, cOff + t * cBs, cRs, cCs, threads);
            }
        }
    }

    /** A thread that never runs: segments it may access are accessible from every thread. */
    private static final Thread ANY_THREAD = new Thread(() -> {});

    /**
     * The threads a call may use: {@link Parallel#numThreads()}; only the caller's when it is
     * itself a pool task (the outer loop is the parallel one, and a nested split would run its
     * pieces one after another, each packing its own copy of the operands), or when an operand
     * lives in a confined arena that pool threads may not touch.
     */
    private static int threadsFor(MemorySegment a, MemorySegment b, MemorySegment c) {
        if (Parallel.inParallelRegion()) return 1;
        boolean shared = a.isAccessibleBy(ANY_THREAD) && b.isAccessibleBy(ANY_THREAD) && c.isAccessibleBy(ANY_THREAD);
        return shared ? Parallel.numThreads() : 1;
    }

    /** One product on at most {@code threads} threads, arguments already checked. */
    private static void run(DType dtype, int m, int n, int k, double alpha,
            MemorySegment a, long aOff, long aRs, long aCs,
            MemorySegment b, long bOff, long bRs, long bCs,
            double beta, MemorySegment c, long cOff, long cRs, long cCs, int threads) {
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0) {
            scale(dtype, m, n, beta, c, cOff, cRs, cCs);
            return;
        }
        // The kernels vectorise along C's columns. A column-major C (or a C that is one
        // contiguous column) is computed as Cᵀ = Bᵀ·Aᵀ, which swaps the roles and puts the unit
        // stride along the vectors.
        if (cRs == 1 && (cCs != 1 || n == 1 && m > 1)) {
            run(dtype, n, m, k, alpha, b, bOff, bCs, bRs, a, aOff, aCs, aRs, beta, c, cOff, cCs, cRs, threads);
            return;
        }
        if ((long) m * n * k <= SMALL) {
            small(dtype, m, n, k, alpha, a, aOff, aRs, aCs, b, bOff, bRs, bCs, beta, c, cOff, cRs, cCs);
            return;
        }
        float alphaF = (float) alpha, betaF = (float) beta;
        switch (dtype) {
            case FLOAT64 -> split(m, n, k, GemmF64.MR, GemmF64.NR, GemmF64.MC, threads, (m0, m1, n0, n1) ->
                    GemmF64.gemm(m1 - m0, n1 - n0, k, alpha,
                            a, aOff + m0 * aRs, aRs, aCs, b, bOff + n0 * bCs, bRs, bCs,
                            beta, c, cOff + m0 * cRs + n0 * cCs, cRs, cCs));
            case FLOAT32 -> float32(dtype, DType.FLOAT32, m, n, k, alphaF, a, aOff, aRs, aCs, b, bOff, bRs, bCs,
                    betaF, c, cOff, cRs, cCs, threads);
            default -> {
                if (k <= GemmF32.KC) {
                    // One k slice: each tile of C is updated, and rounded, exactly once.
                    float32(dtype, dtype, m, n, k, alphaF, a, aOff, aRs, aCs, b, bOff, bRs, bCs,
                            betaF, c, cOff, cRs, cCs, threads);
                } else {
                    halfViaScratch(dtype, m, n, k, alphaF, a, aOff, aRs, aCs, b, bOff, bRs, bCs,
                            betaF, c, cOff, cRs, cCs, threads);
                }
            }
        }
    }

    private static void float32(DType in, DType out, int m, int n, int k, float alpha,
            MemorySegment a, long aOff, long aRs, long aCs,
            MemorySegment b, long bOff, long bRs, long bCs,
            float beta, MemorySegment c, long cOff, long cRs, long cCs, int threads) {
        split(m, n, k, GemmF32.MR, GemmF32.NR, GemmF32.MC, threads, (m0, m1, n0, n1) ->
                GemmF32.gemm(in, out, m1 - m0, n1 - n0, k, alpha,
                        a, aOff + m0 * aRs, aRs, aCs, b, bOff + n0 * bCs, bRs, bCs,
                        beta, c, cOff + m0 * cRs + n0 * cCs, cRs, cCs));
    }

    /**
     * float16/bfloat16 with k deeper than one slice: the k slices accumulate into float32
     * scratch, a band of rows at a time, and each band is rounded into C once.
     */
    private static void halfViaScratch(DType dtype, int m, int n, int k, float alpha,
            MemorySegment a, long aOff, long aRs, long aCs,
            MemorySegment b, long bOff, long bRs, long bCs,
            float beta, MemorySegment c, long cOff, long cRs, long cCs, int threads) {
        int band = (int) Math.max(1, Math.min(m, HALF_SCRATCH / n));
        MemorySegment s = Arena.ofAuto().allocate((long) band * n * Float.BYTES, 64);
        for (int i0 = 0; i0 < m; i0 += band) {
            int rows = Math.min(band, m - i0);
            float32(dtype, DType.FLOAT32, rows, n, k, alpha, a, aOff + i0 * aRs, aRs, aCs, b, bOff, bRs, bCs,
                    0f, s, 0, n, 1, threads);
            long cBand = cOff + i0 * cRs;
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < n; j++) {
                    long at = cBand + r * cRs + j * cCs;
                    float v = s.getAtIndex(F, (long) r * n + j);
                    if (beta != 0f) v = Math.fma(beta, GemmF32.load(dtype, c, at), v);
                    GemmF32.store(dtype, c, at, v);
                }
            }
        }
    }

    /** A rectangle [m0, m1) × [n0, n1) of C that one thread computes. */
    @FunctionalInterface
    private interface Rect {
        void run(int m0, int m1, int n0, int n1);
    }

    /**
     * Cuts C into a tm×tn grid of rectangles (tm·tn ≤ threads, edges on micro-tile bounds) and
     * runs one per thread. The grid minimises the slowest thread's estimated time: its FMAs at
     * about 32 per cycle, plus packing at about a cycle per element, where each thread packs
     * its rows of A once and its columns of B once per MC rows (A counts twice: for row-major A
     * its packing is a strided transpose, B's is a vector copy).
     */
    private static void split(int m, int n, int k, int mr, int nr, int mc, int threads, Rect body) {
        if (threads <= 1 || (long) m * n * k < PARALLEL_MIN) {
            body.run(0, m, 0, n);
            return;
        }
        int mp = GemmF32.ceilDiv(m, mr), np = GemmF32.ceilDiv(n, nr);
        int bestTm = 1, bestTn = 1;
        double best = Double.MAX_VALUE;
        for (int tm = Math.min(threads, mp); tm >= 1; tm--) {
            for (int tn = Math.min(threads / tm, np); tn >= 1; tn--) {
                double rows = (double) GemmF32.ceilDiv(mp, tm) * mr, cols = (double) GemmF32.ceilDiv(np, tn) * nr;
                double cost = rows * cols / 32 + 2 * rows + cols * Math.ceil(rows / mc);
                if (cost < best) {
                    best = cost;
                    bestTm = tm;
                    bestTn = tn;
                }
            }
        }
        int tm = bestTm, tn = bestTn;
        if (tm * tn == 1) {
            body.run(0, m, 0, n);
            return;
        }
        Parallel.forTasks(tm * tn, t -> {
            int ti = t / tn, tj = t % tn;
            body.run(Math.min(m, (int) ((long) mp * ti / tm) * mr), Math.min(m, (int) ((long) mp * (ti + 1) / tm) * mr),
                    Math.min(n, (int) ((long) np * tj / tn) * nr), Math.min(n, (int) ((long) np * (tj + 1) / tn) * nr));
        });
    }

    /**
     * The direct path for tiny products: no blocking, no threads, no padding to micro-tiles.
     * float64 is a scalar dot product per element; the float32-computed dtypes go through
     * {@link #smallFloat32}.
     */
    private static void small(DType dtype, int m, int n, int k, double alpha,
            MemorySegment a, long aOff, long aRs, long aCs,
            MemorySegment b, long bOff, long bRs, long bCs,
            double beta, MemorySegment c, long cOff, long cRs, long cCs) {
        if (dtype != DType.FLOAT64) {
            smallFloat32(dtype, m, n, k, (float) alpha, a, aOff, aRs, aCs, b, bOff, bRs, bCs, (float) beta, c, cOff, cRs, cCs);
            return;
        }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    sum += a.getAtIndex(D, aOff + i * aRs + p * aCs) * b.getAtIndex(D, bOff + p * bRs + j * bCs);
                }
                long at = cOff + i * cRs + j * cCs;
                double v = alpha * sum;
                if (beta != 0) v += beta * c.getAtIndex(D, at);
                c.setAtIndex(D, at, v);
            }
        }
    }

    /**
     * Tiny products computed in float32. A is copied row-major and B into rows zero-padded to
     * whole vectors, both into this thread's scratch, widening half precision on the way: the
     * k loop then reads plain arrays (loads from segments and masked loads there measured
     * several times slower). Four rows of C at a time, one vector of columns at a time, each
     * element of A is broadcast against a row of B.
     */
    private static void smallFloat32(DType dtype, int m, int n, int k, float alpha,
            MemorySegment a, long aOff, long aRs, long aCs,
            MemorySegment b, long bOff, long bRs, long bCs,
            float beta, MemorySegment c, long cOff, long cRs, long cCs) {
        VectorSpecies<Float> s = GemmF32.S;
        int lanes = s.length(), width = GemmF32.ceilDiv(n, lanes) * lanes, bp = m * k;
        float[] buf = GemmF32.scratch(m * k + k * width + lanes);
        for (int i = 0; i < m; i++) copyRow(dtype, k, a, aOff + i * aRs, aCs, buf, i * k);
        for (int p = 0; p < k; p++) {
            int row = bp + p * width;
            copyRow(dtype, n, b, bOff + p * bRs, bCs, buf, row);
            for (int j = n; j < width; j++) buf[row + j] = 0f;
        }
        int tile = bp + k * width;
        int i = 0;
        for (; i + 4 <= m; i += 4) {
            int a0 = i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
            for (int j = 0; j < n; j += lanes) {
                FloatVector acc0 = FloatVector.zero(s), acc1 = acc0, acc2 = acc0, acc3 = acc0;
                for (int p = 0; p < k; p++) {
                    FloatVector y = FloatVector.fromArray(s, buf, bp + p * width + j);
                    acc0 = FloatVector.broadcast(s, buf[a0 + p]).fma(y, acc0);
                    acc1 = FloatVector.broadcast(s, buf[a1 + p]).fma(y, acc1);
                    acc2 = FloatVector.broadcast(s, buf[a2 + p]).fma(y, acc2);
                    acc3 = FloatVector.broadcast(s, buf[a3 + p]).fma(y, acc3);
                }
                long at = cOff + i * cRs + j * cCs;
                smallStore(dtype, acc0, alpha, beta, c, at, cCs, n - j, buf, tile);
                smallStore(dtype, acc1, alpha, beta, c, at + cRs, cCs, n - j, buf, tile);
                smallStore(dtype, acc2, alpha, beta, c, at + 2 * cRs, cCs, n - j, buf, tile);
                smallStore(dtype, acc3, alpha, beta, c, at + 3 * cRs, cCs, n - j, buf, tile);
            }
        }
        for (; i < m; i++) {
            int ai = i * k;
            for (int j = 0; j < n; j += lanes) {
                FloatVector acc = FloatVector.zero(s);
                for (int p = 0; p < k; p++) {
                    acc = FloatVector.broadcast(s, buf[ai + p]).fma(FloatVector.fromArray(s, buf, bp + p * width + j), acc);
                }
                smallStore(dtype, acc, alpha, beta, c, cOff + i * cRs + j * cCs, cCs, n - j, buf, tile);
            }
        }
    }

    /** dst[d, d + len) = the len elements from {@code off}, {@code stride} apart, as floats. */
    private static void copyRow(DType dtype, int len, MemorySegment src, long off, long stride, float[] dst, int d) {
        int j = 0;
        if (dtype == DType.FLOAT32 && stride == 1) {
            VectorSpecies<Float> s = GemmF32.S;
            for (; j + s.length() <= len; j += s.length()) {
                FloatVector.fromMemorySegment(s, src, (off + j) * Float.BYTES, NATIVE).intoArray(dst, d + j);
            }
            if (j < len) {
                VectorMask<Float> tail = s.indexInRange(j, len);
                FloatVector.fromMemorySegment(s, src, (off + j) * Float.BYTES, NATIVE, tail).intoArray(dst, d + j, tail);
            }
            return;
        }
        for (; j < len; j++) dst[d + j] = GemmF32.load(dtype, src, off + j * stride);
    }

    /**
     * Writes alpha * acc + beta * C into the first min(cols, lanes) elements of a row of C from
     * index {@code at} (C not read when beta is 0): in one vector for float32 with unit stride,
     * else element by element through {@code buf} from index {@code tile}.
     */
    private static void smallStore(DType dtype, FloatVector acc, float alpha, float beta, MemorySegment c, long at,
            long cCs, int cols, float[] buf, int tile) {
        VectorSpecies<Float> s = GemmF32.S;
        FloatVector y = acc.mul(alpha);
        if (dtype == DType.FLOAT32 && cCs == 1) {
            long bytes = at * Float.BYTES;
            if (cols >= s.length()) {
                if (beta != 0f) y = FloatVector.fromMemorySegment(s, c, bytes, NATIVE).fma(FloatVector.broadcast(s, beta), y);
                y.intoMemorySegment(c, bytes, NATIVE);
            } else {
                VectorMask<Float> live = s.indexInRange(0, cols);
                if (beta != 0f) y = FloatVector.fromMemorySegment(s, c, bytes, NATIVE, live).fma(FloatVector.broadcast(s, beta), y);
                y.intoMemorySegment(c, bytes, NATIVE, live);
            }
            return;
        }
        y.intoArray(buf, tile);
        for (int j = 0; j < Math.min(cols, s.length()); j++) {
            long e = at + j * cCs;
            float v = buf[tile + j];
            if (beta != 0f) v = Math.fma(beta, GemmF32.load(dtype, c, e), v);
            GemmF32.store(dtype, c, e, v);
        }
    }

    /** C = beta * C (C not read when beta is 0), for k = 0 or alpha = 0. */
    private static void scale(DType dtype, int m, int n, double beta, MemorySegment c, long cOff, long cRs, long cCs) {
        if (beta == 1) return;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                long at = cOff + i * cRs + j * cCs;
                store(dtype, c, at, beta == 0 ? 0.0 : beta * load(dtype, c, at));
            }
        }
    }

    private static double load(DType dtype, MemorySegment s, long i) {
        return dtype == DType.FLOAT64 ? s.getAtIndex(D, i) : GemmF32.load(dtype, s, i);
    }

    private static void store(DType dtype, MemorySegment s, long i, double v) {
        if (dtype == DType.FLOAT64) {
            s.setAtIndex(D, i, v);
        } else {
            GemmF32.store(dtype, s, i, (float) v);
        }
    }

    private static void checkArguments(DType dtype, int batch, int m, int n, int k, MemorySegment c) {
        if (dtype != DType.FLOAT32 && dtype != DType.FLOAT64 && dtype != DType.FLOAT16 && dtype != DType.BFLOAT16) {
            throw new IllegalArgumentException("gemm: unsupported dtype " + dtype
                    + "; expected float32, float64, float16 or bfloat16");
        }
        if (batch < 0 || m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("gemm: sizes must be non-negative, got batch=" + batch
                    + ", m=" + m + ", n=" + n + ", k=" + k);
        }
        if (c.isReadOnly()) throw new IllegalArgumentException("gemm: the output segment is read-only");
    }

    /**
     * Rejects an output whose elements share memory along a dimension of stride 0 (an expanded
     * view), where results would depend on which write lands last. Overlap through other
     * stride patterns is the caller's to rule out, as in BLAS.
     */
    private static void checkOutputDistinct(long batch, long cBs, long m, long cRs, long n, long cCs) {
        if (batch == 0 || m == 0 || n == 0) return;
        if (batch > 1 && cBs == 0 || m > 1 && cRs == 0 || n > 1 && cCs == 0) {
            throw new IllegalArgumentException("gemm: unsupported operation: more than one element of the written-to"
                    + " tensor refers to a single memory location (output strides " + cBs + ", " + cRs + ", " + cCs
                    + " for sizes " + batch + ", " + m + ", " + n + ")");
        }
    }

    /**
     * Checks that every element of a (d0 × d1 × d2) operand with strides (s0, s1, s2) from
     * {@code off} lies inside the segment, before anything is read or written.
     */
    private static void checkBounds(String name, DType dtype, MemorySegment seg, long off,
            long d0, long s0, long d1, long s1, long d2, long s2) {
        if (d0 == 0 || d1 == 0 || d2 == 0) return;
        long elements = seg.byteSize() / dtype.itemSize();
        long lo, hi;
        try {
            long r0 = Math.multiplyExact(d0 - 1, s0), r1 = Math.multiplyExact(d1 - 1, s1), r2 = Math.multiplyExact(d2 - 1, s2);
            lo = Math.addExact(off, Math.addExact(Math.min(r0, 0), Math.addExact(Math.min(r1, 0), Math.min(r2, 0))));
            hi = Math.addExact(off, Math.addExact(Math.max(r0, 0), Math.addExact(Math.max(r1, 0), Math.max(r2, 0))));
        } catch (ArithmeticException e) {
            throw new IndexOutOfBoundsException("gemm: " + name + " with offset " + off + " and strides "
                    + s0 + ", " + s1 + ", " + s2 + " overflows a long");
        }
        if (lo < 0 || hi >= elements) {
            throw new IndexOutOfBoundsException("gemm: " + name + " spans elements [" + lo + ", " + hi
                    + "] but its segment holds " + elements + " " + dtype + " elements");
        }
    }
}
