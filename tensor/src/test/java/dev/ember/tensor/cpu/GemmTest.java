package dev.ember.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ember.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Gemm against a plain float64 triple loop on fresh random data, through every layout the
 * kernels special-case (row-major, column-major, strided, offset) and the edges of the
 * micro-tiles and cache blocks. Set {@code -Dember.test.seed=N} to replay a printed seed.
 */
class GemmTest {
    private static final DType[] DTYPES = {DType.FLOAT32, DType.FLOAT64, DType.FLOAT16, DType.BFLOAT16};
    private static final int MR = GemmF32.MR, NR = GemmF32.NR, KC = GemmF32.KC;

    private Random rnd;
    private Arena arena;
    private int savedThreads;

    @BeforeEach
    void setUp() {
        long seed = Long.getLong("ember.test.seed", System.nanoTime());
        System.out.println("GemmTest seed " + seed);
        rnd = new Random(seed);
        arena = Arena.ofShared();
        savedThreads = Parallel.numThreads();
    }

    @AfterEach
    void tearDown() {
        Parallel.setNumThreads(savedThreads);
        arena.close();
    }

    /** 1 and, where the machine has them, 2 threads. */
    private static int[] threadCounts() {
        return Runtime.getRuntime().availableProcessors() >= 2 ? new int[] {1, 2} : new int[] {1};
    }

    // ---- operands ----

    private enum Layout { ROW, COL, STRIDED, STRIDED_T }

    /**
     * A batch × rows × cols operand somewhere inside a segment of random junk: element (t,i,j)
     * at off + t*bs + i*rs + j*cs. bs == 0 makes a broadcast batch.
     */
    private record Operand(DType dt, MemorySegment seg, long off, long bs, long rs, long cs, int batch, int rows, int cols) {
        double get(int t, int i, int j) {
            return read(dt, seg, off + t * bs + i * rs + j * cs);
        }

        /** The values as doubles, [t][i][j], for a fast reference. */
        double[][][] values() {
            double[][][] v = new double[batch][rows][cols];
            for (int t = 0; t < batch; t++) {
                for (int i = 0; i < rows; i++) {
                    for (int j = 0; j < cols; j++) v[t][i][j] = get(t, i, j);
                }
            }
            return v;
        }

        /** Whether element index e of the segment belongs to the operand. */
        boolean[] footprint() {
            boolean[] in = new boolean[(int) (seg.byteSize() / dt.itemSize())];
            for (int t = 0; t < batch; t++) {
                for (int i = 0; i < rows; i++) {
                    for (int j = 0; j < cols; j++) in[(int) (off + t * bs + i * rs + j * cs)] = true;
                }
            }
            return in;
        }
    }

    private Operand operand(DType dt, int rows, int cols, Layout layout) {
        return operand(dt, 1, false, rows, cols, layout);
    }

    private Operand operand(DType dt, int batch, boolean broadcast, int rows, int cols, Layout layout) {
        int r = Math.max(rows, 1), c = Math.max(cols, 1);
        long rs, cs;
        switch (layout) {
            case ROW -> { cs = 1; rs = c + rnd.nextInt(3); }
            case COL -> { rs = 1; cs = r + rnd.nextInt(3); }
            case STRIDED -> { cs = 2; rs = 2L * c + 1 + rnd.nextInt(3); }
            default -> { rs = 3; cs = 3L * r + 2; }
        }
        long bs = broadcast ? 0 : (r - 1) * rs + (c - 1) * cs + 1 + rnd.nextInt(4);
        return operand(dt, batch, rows, cols, bs, rs, cs);
    }

    /** An operand with the given strides at a random offset in a segment of random values. */
    private Operand operand(DType dt, int batch, int rows, int cols, long bs, long rs, long cs) {
        long last = (Math.max(batch, 1) - 1) * bs + (Math.max(rows, 1) - 1) * rs + (Math.max(cols, 1) - 1) * cs;
        long off = rnd.nextInt(6);
        long elements = off + last + 1 + rnd.nextInt(5);
        MemorySegment seg = arena.allocate(elements * dt.itemSize(), 64);
        for (long e = 0; e < elements; e++) write(dt, seg, e, rnd.nextDouble() * 2 - 1);
        return new Operand(dt, seg, off, bs, rs, cs, batch, rows, cols);
    }

    private Layout anyLayout() {
        return Layout.values()[rnd.nextInt(Layout.values().length)];
    }

    static double read(DType dt, MemorySegment s, long i) {
        return switch (dt) {
            case FLOAT64 -> s.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, i);
            case FLOAT32 -> s.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
            case FLOAT16 -> Float.float16ToFloat(s.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i));
            case BFLOAT16 -> Float.intBitsToFloat(s.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i) << 16);
            default -> throw new IllegalArgumentException(dt.toString());
        };
    }

    static void write(DType dt, MemorySegment s, long i, double v) {
        switch (dt) {
            case FLOAT64 -> s.setAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, i, v);
            case FLOAT32 -> s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) v);
            case FLOAT16 -> s.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Float.floatToFloat16((float) v));
            case BFLOAT16 -> s.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, GemmF32.toBfloat16((float) v));
            default -> throw new IllegalArgumentException(dt.toString());
        }
    }

    /** Tolerance relative to alpha·|A|·|B| + beta·|C|, the scale the rounding errors grow with. */
    private static double tolerance(DType dt) {
        return switch (dt) {
            case FLOAT64 -> 1e-12;
            case FLOAT32 -> 1e-5;
            default -> 1e-2;
        };
    }

    /** Absolute slack for results that round into float16's subnormals (half its smallest step). */
    private static double absoluteTolerance(DType dt) {
        return dt == DType.FLOAT16 ? 0x1p-25 : 0;
    }

    // ---- the check ----

    /**
     * Runs one product (batched when batch > 0 is given through a, b, c) and compares it with
     * the float64 reference; checks that C's elements outside the output are untouched.
     */
    private void check(String what, DType dt, int m, int n, int k, double alpha, double beta,
            Operand a, Operand b, Operand c, boolean batched) {
        int batch = c.batch();
        if (beta == 0) {
            for (int t = 0; t < batch; t++) {
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) write(dt, c.seg(), c.off() + t * c.bs() + i * c.rs() + j * c.cs(), Double.NaN);
                }
            }
        }
        double[][][] av = a.values(), bv = b.values(), c0 = c.values();
        long elements = c.seg().byteSize() / dt.itemSize();
        double[] before = new double[(int) elements];
        for (int e = 0; e < elements; e++) before[e] = read(dt, c.seg(), e);

        if (batched) {
            Gemm.gemmBatched(dt, batch, m, n, k, alpha, a.seg(), a.off(), a.bs(), a.rs(), a.cs(),
                    b.seg(), b.off(), b.bs(), b.rs(), b.cs(), beta, c.seg(), c.off(), c.bs(), c.rs(), c.cs());
        } else {
            Gemm.gemm(dt, m, n, k, alpha, a.seg(), a.off(), a.rs(), a.cs(), b.seg(), b.off(), b.rs(), b.cs(),
                    beta, c.seg(), c.off(), c.rs(), c.cs());
        }

        double tol = tolerance(dt), abs = absoluteTolerance(dt);
        for (int t = 0; t < batch; t++) {
            double[][] at = av[a.bs() == 0 ? 0 : t], bt = bv[b.bs() == 0 ? 0 : t];
            for (int i = 0; i < m; i++) {
                double[] sum = new double[n], mag = new double[n];
                for (int p = 0; p < k; p++) {
                    double x = at[i][p];
                    double[] row = bt[p];
                    for (int j = 0; j < n; j++) {
                        sum[j] += x * row[j];
                        mag[j] += Math.abs(x * row[j]);
                    }
                }
                for (int j = 0; j < n; j++) {
                    double expect = alpha * sum[j], scale = Math.abs(alpha) * mag[j];
                    if (beta != 0) {
                        expect += beta * c0[t][i][j];
                        scale += Math.abs(beta * c0[t][i][j]);
                    }
                    double got = c.get(t, i, j);
                    if (!Double.isFinite(got) || Math.abs(got - expect) > tol * scale + abs) {
                        fail(String.format("%s: %s m=%d n=%d k=%d alpha=%s beta=%s threads=%d: C[%d][%d][%d] = %s, expected %s (scale %s)",
                                what, dt, m, n, k, alpha, beta, Parallel.numThreads(), t, i, j, got, expect, scale));
                    }
                }
            }
        }
        boolean[] out = c.footprint();
        for (int e = 0; e < elements; e++) {
            if (!out[e] && Double.compare(read(dt, c.seg(), e), before[e]) != 0) {
                fail(what + ": element " + e + " of C's segment lies outside the output but was written");
            }
        }
    }

    private void check(String what, DType dt, int m, int n, int k, double alpha, double beta,
            Layout la, Layout lb, Layout lc) {
        check(what, dt, m, n, k, alpha, beta, operand(dt, m, k, la), operand(dt, k, n, lb), operand(dt, m, n, lc), false);
    }

    private static final double[][] ALPHA_BETA = {{1, 0}, {1, 1}, {-0.5, 2}, {0.75, -1}, {2, 0}};

    // ---- tests ----

    @Test
    void edgeSizesAroundTheMicroTile() {
        int[] ms = {1, 2, MR - 1, MR, MR + 1, 2 * MR + 5};
        int[] ns = {1, 3, NR - 1, NR, NR + 1, 2 * NR + 7};
        int[] ks = {1, 5, 17, 64};
        for (int threads : threadCounts()) {
            Parallel.setNumThreads(threads);
            for (int m : ms) {
                for (int n : ns) {
                    int k = ks[rnd.nextInt(ks.length)];
                    double[] ab = ALPHA_BETA[rnd.nextInt(ALPHA_BETA.length)];
                    check("edge", DType.FLOAT32, m, n, k, ab[0], ab[1], anyLayout(), anyLayout(), anyLayout());
                }
            }
        }
    }

    @Test
    void everyLayoutAndDtype() {
        int[] threads = threadCounts();
        for (DType dt : DTYPES) {
            for (Layout la : Layout.values()) {
                for (Layout lb : Layout.values()) {
                    for (Layout lc : Layout.values()) {
                        Parallel.setNumThreads(threads[rnd.nextInt(threads.length)]);
                        int m = 1 + rnd.nextInt(60), n = 1 + rnd.nextInt(80), k = 1 + rnd.nextInt(70);
                        double[] ab = ALPHA_BETA[rnd.nextInt(ALPHA_BETA.length)];
                        check("layout " + la + "/" + lb + "/" + lc, dt, m, n, k, ab[0], ab[1], la, lb, lc);
                    }
                }
            }
        }
    }

    @Test
    void alphaBetaCombinationsIncludingNanOutputWithBetaZero() {
        for (DType dt : DTYPES) {
            for (double[] ab : ALPHA_BETA) {
                check("alpha/beta", dt, 37, 45, 29, ab[0], ab[1], Layout.ROW, Layout.ROW, Layout.ROW);
                check("alpha/beta small", dt, 3, 4, 5, ab[0], ab[1], Layout.ROW, Layout.COL, Layout.ROW);
            }
        }
    }

    @Test
    void sizesCrossingTheCacheBlocks() {
        int mc = GemmF32.MC, nc = GemmF32.NC;
        for (int threads : threadCounts()) {
            Parallel.setNumThreads(threads);
            // k crosses KC (so beta applies on the first slice only), n crosses NC.
            check("KC", DType.FLOAT32, 2 * MR + 1, NR + 3, KC + 1, 1.5, 0.5, Layout.ROW, Layout.ROW, Layout.ROW);
            check("KC exact", DType.FLOAT32, MR, NR, 2 * KC, 1, 0, Layout.ROW, Layout.ROW, Layout.ROW);
            check("NC", DType.FLOAT32, MR + 2, nc + NR + 1, 33, -1, 0, Layout.ROW, Layout.COL, Layout.ROW);
        }
        // m crosses MC within one thread's share of the rows.
        Parallel.setNumThreads(1);
        check("MC", DType.FLOAT32, mc + MR + 1, NR + 1, 40, 1, 1, Layout.COL, Layout.ROW, Layout.ROW);
        check("all blocks", DType.FLOAT32, mc + 7, nc + 5, KC + 9, 0.5, -2, Layout.ROW, Layout.ROW, Layout.ROW);
        check("f64 blocks", DType.FLOAT64, GemmF64.MC + 3, GemmF64.NC + 3, GemmF64.KC + 3, 1, 0.5,
                Layout.ROW, Layout.ROW, Layout.ROW);
    }

    @Test
    void splitsBetweenThreadsByRowsOrColumns() {
        for (int threads : threadCounts()) {
            Parallel.setNumThreads(threads);
            // Above Gemm.PARALLEL_MIN: tall products split by rows, wide ones by columns.
            check("split rows", DType.FLOAT32, 301, 203, 150, 1, 0.5, Layout.ROW, Layout.ROW, Layout.ROW);
            check("split columns", DType.FLOAT32, 13, 2003, 400, 1, 0, Layout.ROW, Layout.ROW, Layout.ROW);
            check("split transposed", DType.FLOAT32, 257, 190, 180, -1, 1, Layout.COL, Layout.STRIDED, Layout.COL);
            check("split f64", DType.FLOAT64, 250, 190, 180, 1, 0, Layout.ROW, Layout.COL, Layout.ROW);
            check("split bf16", DType.BFLOAT16, 250, 190, 180, 1, 0, Layout.ROW, Layout.ROW, Layout.ROW);
        }
    }

    @Test
    void productsInsideAParallelLoop() {
        // As conv does per image: each pool task runs its own product on its own thread.
        Parallel.setNumThreads(threadCounts()[threadCounts().length - 1]);
        Operand[][] ops = new Operand[4][];
        for (int t = 0; t < ops.length; t++) {
            ops[t] = new Operand[] {operand(DType.FLOAT32, 230, 210, Layout.ROW), operand(DType.FLOAT32, 210, 220, Layout.ROW),
                    operand(DType.FLOAT32, 230, 220, Layout.ROW)};
        }
        double[][][] expected = new double[ops.length][][], scale = new double[ops.length][][];
        for (int t = 0; t < ops.length; t++) {
            double[][] av = ops[t][0].values()[0], bv = ops[t][1].values()[0];
            expected[t] = new double[230][220];
            scale[t] = new double[230][220];
            for (int i = 0; i < 230; i++) {
                for (int p = 0; p < 210; p++) {
                    for (int j = 0; j < 220; j++) {
                        expected[t][i][j] += av[i][p] * bv[p][j];
                        scale[t][i][j] += Math.abs(av[i][p] * bv[p][j]);
                    }
                }
            }
        }
        Parallel.forTasks(ops.length, t -> {
            Operand a = ops[t][0], b = ops[t][1], c = ops[t][2];
            Gemm.gemm(DType.FLOAT32, 230, 220, 210, 1, a.seg(), a.off(), a.rs(), a.cs(), b.seg(), b.off(), b.rs(), b.cs(),
                    0, c.seg(), c.off(), c.rs(), c.cs());
        });
        for (int t = 0; t < ops.length; t++) {
            for (int i = 0; i < 230; i++) {
                for (int j = 0; j < 220; j++) {
                    double got = ops[t][2].get(0, i, j);
                    assertTrue(Math.abs(got - expected[t][i][j]) <= tolerance(DType.FLOAT32) * scale[t][i][j], "task " + t + " C[" + i + "][" + j + "] = " + got
                            + ", expected " + expected[t][i][j]);
                }
            }
        }
    }

    @Test
    void halfPrecisionDeeperThanOneSliceRoundsOnce() {
        for (int threads : threadCounts()) {
            Parallel.setNumThreads(threads);
            for (DType dt : new DType[] {DType.FLOAT16, DType.BFLOAT16}) {
                check("deep half", dt, 29, 50, 2 * KC + 13, 1, 0, Layout.ROW, Layout.ROW, Layout.ROW);
                check("deep half beta", dt, 40, 17, KC + 1, -0.5, 1, Layout.COL, Layout.ROW, Layout.STRIDED);
            }
        }
    }

    @Test
    void randomShapesAllDtypesAndThreads() {
        for (int threads : threadCounts()) {
            Parallel.setNumThreads(threads);
            for (int trial = 0; trial < 40; trial++) {
                DType dt = DTYPES[rnd.nextInt(DTYPES.length)];
                int m = 1 + rnd.nextInt(rnd.nextBoolean() ? 16 : 300);
                int n = 1 + rnd.nextInt(rnd.nextBoolean() ? 16 : 300);
                int k = 1 + rnd.nextInt(rnd.nextBoolean() ? 16 : 300);
                double alpha = rnd.nextBoolean() ? 1 : rnd.nextDouble() * 4 - 2;
                double beta = rnd.nextInt(3) == 0 ? 0 : rnd.nextDouble() * 4 - 2;
                check("random", dt, m, n, k, alpha, beta, anyLayout(), anyLayout(), anyLayout());
            }
        }
    }

    @Test
    void zeroSizes() {
        for (DType dt : DTYPES) {
            // k == 0: C = beta * C, and with beta == 0 a NaN-filled C becomes zeros.
            check("k=0", dt, 5, 7, 0, 1, 0, Layout.ROW, Layout.ROW, Layout.ROW);
            check("k=0 beta", dt, 5, 7, 0, 1, -3, Layout.ROW, Layout.ROW, Layout.COL);
            check("m=0", dt, 0, 7, 4, 1, 0, Layout.ROW, Layout.ROW, Layout.ROW);
            check("n=0", dt, 6, 0, 4, 1, 1, Layout.ROW, Layout.ROW, Layout.ROW);
            check("all 0", dt, 0, 0, 0, 1, 1, Layout.ROW, Layout.ROW, Layout.ROW);
        }
    }

    @Test
    void alphaZeroDoesNotReadAOrB() {
        Operand a = operand(DType.FLOAT32, 20, 30, Layout.ROW), b = operand(DType.FLOAT32, 30, 40, Layout.ROW);
        Operand c = operand(DType.FLOAT32, 20, 40, Layout.ROW);
        write(DType.FLOAT32, a.seg(), a.off(), Double.NaN);
        double c00 = c.get(0, 0, 0);
        Gemm.gemm(DType.FLOAT32, 20, 40, 30, 0, a.seg(), a.off(), a.rs(), a.cs(), b.seg(), b.off(), b.rs(), b.cs(),
                2, c.seg(), c.off(), c.rs(), c.cs());
        assertEquals((float) (2 * c00), c.get(0, 0, 0));
    }

    @Test
    void batched() {
        for (int threads : threadCounts()) {
            Parallel.setNumThreads(threads);
            for (DType dt : DTYPES) {
                int batch = 1 + rnd.nextInt(5), m = 1 + rnd.nextInt(40), n = 1 + rnd.nextInt(40), k = 1 + rnd.nextInt(40);
                double[] ab = ALPHA_BETA[rnd.nextInt(ALPHA_BETA.length)];
                // Every operand batched, any layout.
                check("batched", dt, m, n, k, ab[0], ab[1], operand(dt, batch, false, m, k, anyLayout()),
                        operand(dt, batch, false, k, n, anyLayout()), operand(dt, batch, false, m, n, anyLayout()), true);
                // B broadcast with A and C stacked: folded into one product of batch·m rows.
                long aRs = k + rnd.nextInt(3), cRs = n + rnd.nextInt(3);
                check("broadcast B folded", dt, m, n, k, ab[0], ab[1], operand(dt, batch, m, k, m * aRs, aRs, 1),
                        operand(dt, batch, true, k, n, anyLayout()), operand(dt, batch, m, n, m * cRs, cRs, 1), true);
                // A broadcast with B and C stacked column after column: folded into batch·n columns.
                long bCs = k + rnd.nextInt(3), cCs = m + rnd.nextInt(3);
                check("broadcast A folded", dt, m, n, k, ab[0], ab[1], operand(dt, batch, true, m, k, anyLayout()),
                        operand(dt, batch, k, n, n * bCs, 1, bCs), operand(dt, batch, m, n, n * cCs, 1, cCs), true);
                // A broadcast operand that cannot fold, small products parallel across the batch.
                int many = 16 + rnd.nextInt(20);
                check("broadcast A, many small", dt, 5, 9, 7, ab[0], ab[1], operand(dt, many, true, 5, 7, Layout.COL),
                        operand(dt, many, false, 7, 9, anyLayout()), operand(dt, many, false, 5, 9, anyLayout()), true);
            }
            // Large products one after another, each split across threads.
            check("batched large", DType.FLOAT32, 130, 150, 120, 1, 0.5,
                    operand(DType.FLOAT32, 3, false, 130, 120, Layout.ROW), operand(DType.FLOAT32, 3, true, 120, 150, Layout.COL),
                    operand(DType.FLOAT32, 3, false, 130, 150, Layout.ROW), true);
        }
    }

    @Test
    void batchedZeroSizesAndAliasedOutput() {
        Operand a = operand(DType.FLOAT32, 2, false, 3, 4, Layout.ROW), b = operand(DType.FLOAT32, 2, false, 4, 5, Layout.ROW);
        Operand c = operand(DType.FLOAT32, 2, false, 3, 5, Layout.ROW);
        Gemm.gemmBatched(DType.FLOAT32, 0, 3, 5, 4, 1, a.seg(), a.off(), a.bs(), a.rs(), a.cs(),
                b.seg(), b.off(), b.bs(), b.rs(), b.cs(), 0, c.seg(), c.off(), c.bs(), c.rs(), c.cs());
        var e = assertThrows(IllegalArgumentException.class, () -> Gemm.gemmBatched(DType.FLOAT32, 2, 3, 5, 4, 1,
                a.seg(), a.off(), a.bs(), a.rs(), a.cs(), b.seg(), b.off(), b.bs(), b.rs(), b.cs(), 0, c.seg(), c.off(), 0, c.rs(), c.cs()));
        assertTrue(e.getMessage().contains("refers to a single memory location"), e.getMessage());
        // A row or column stride of 0 in C (an expanded output) is refused as well.
        assertThrows(IllegalArgumentException.class, () -> Gemm.gemm(DType.FLOAT32, 3, 5, 4, 1,
                a.seg(), a.off(), a.rs(), a.cs(), b.seg(), b.off(), b.rs(), b.cs(), 0, c.seg(), c.off(), 0, 1));
        assertThrows(IllegalArgumentException.class, () -> Gemm.gemm(DType.FLOAT32, 3, 5, 4, 1,
                a.seg(), a.off(), a.rs(), a.cs(), b.seg(), b.off(), b.rs(), b.cs(), 0, c.seg(), c.off(), 5, 0));
    }

    @Test
    void badArgumentsAreRejectedBeforeMemoryIsTouched() {
        MemorySegment small = arena.allocate(4L * 10, 64), big = arena.allocate(4L * 100, 64);
        // A of 4×4 needs 16 floats.
        var e = assertThrows(IndexOutOfBoundsException.class, () ->
                Gemm.gemm(DType.FLOAT32, 4, 4, 4, 1, small, 0, 4, 1, big, 0, 4, 1, 0, big, 0, 4, 1));
        assertTrue(e.getMessage().contains("A spans elements [0, 15]"), e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () ->
                Gemm.gemm(DType.FLOAT32, 4, 4, 4, 1, big, 0, 4, 1, big, 0, 4, 1, 0, small, 0, 4, 1));
        assertThrows(IndexOutOfBoundsException.class, () ->
                Gemm.gemm(DType.FLOAT32, 2, 2, 2, 1, big, -1, 2, 1, big, 0, 2, 1, 0, big, 0, 2, 1));
        assertThrows(IndexOutOfBoundsException.class, () ->
                Gemm.gemm(DType.FLOAT32, 2, 2, 2, 1, big, 0, Long.MAX_VALUE / 2, 1, big, 0, 2, 1, 0, big, 0, 2, 1));
        assertThrows(IndexOutOfBoundsException.class, () ->
                Gemm.gemmBatched(DType.FLOAT32, 10, 2, 2, 2, 1, big, 0, 4, 2, 1, big, 0, 0, 2, 1, 0, big, 0, 20, 2, 1));
        var d = assertThrows(IllegalArgumentException.class, () ->
                Gemm.gemm(DType.INT32, 2, 2, 2, 1, big, 0, 2, 1, big, 0, 2, 1, 0, big, 0, 2, 1));
        assertTrue(d.getMessage().contains("int32"), d.getMessage());
        assertThrows(IllegalArgumentException.class, () ->
                Gemm.gemm(DType.FLOAT32, -1, 2, 2, 1, big, 0, 2, 1, big, 0, 2, 1, 0, big, 0, 2, 1));
        assertThrows(IllegalArgumentException.class, () ->
                Gemm.gemm(DType.FLOAT32, 2, 2, 2, 1, big, 0, 2, 1, big, 0, 2, 1, 0, big.asReadOnly(), 0, 2, 1));
    }

    @Test
    void confinedSegmentsStayOnTheCallingThread() {
        Parallel.setNumThreads(threadCounts()[threadCounts().length - 1]);
        try (Arena confined = Arena.ofConfined()) {
            int n = 160;
            MemorySegment a = confined.allocate(4L * n * n, 64), b = confined.allocate(4L * n * n, 64);
            MemorySegment c = confined.allocate(4L * n * n, 64);
            for (long i = 0; i < (long) n * n; i++) {
                a.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextGaussian());
                b.setAtIndex(ValueLayout.JAVA_FLOAT, i, i % (n + 1) == 0 ? 1f : 0f);
            }
            // A·I = A, computed without handing the confined segments to pool threads.
            Gemm.gemm(DType.FLOAT32, n, n, n, 1, a, 0, n, 1, b, 0, n, 1, 0, c, 0, n, 1);
            for (long i = 0; i < (long) n * n; i++) {
                assertEquals(a.getAtIndex(ValueLayout.JAVA_FLOAT, i), c.getAtIndex(ValueLayout.JAVA_FLOAT, i));
            }
        }
    }

    @Test
    void bfloat16RoundsToNearestEvenAndKeepsNan() {
        // 1 + 2^-8 lies halfway between bfloat16 neighbours 1 and 1 + 2^-7: ties go to even (1).
        assertEquals(0x3F80, GemmF32.toBfloat16(1f + 0x1p-8f) & 0xFFFF);
        // 1 + 3·2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: to even (1 + 2^-6).
        assertEquals(0x3F82, GemmF32.toBfloat16(1f + 3 * 0x1p-8f) & 0xFFFF);
        // Just above halfway rounds up.
        assertEquals(0x3F81, GemmF32.toBfloat16(1f + 0x1p-8f + 0x1p-20f) & 0xFFFF);
        assertEquals(0xBF80, GemmF32.toBfloat16(-1f) & 0xFFFF);
        assertEquals(0x7F80, GemmF32.toBfloat16(Float.MAX_VALUE) & 0xFFFF);
        assertEquals(0x7F80, GemmF32.toBfloat16(Float.POSITIVE_INFINITY) & 0xFFFF);
        // A NaN whose payload sits only in the low bits must not turn into infinity.
        float nan = Float.intBitsToFloat(0x7F800001);
        assertTrue(Float.isNaN(Float.intBitsToFloat(GemmF32.toBfloat16(nan) << 16)));
    }

    @Test
    void nanAndInfinityInInputsPropagate() {
        for (DType dt : DTYPES) {
            Operand a = operand(dt, 30, 40, Layout.ROW), b = operand(dt, 40, 50, Layout.ROW), c = operand(dt, 30, 50, Layout.ROW);
            write(dt, a.seg(), a.off() + 3 * a.rs() + 5, Double.NaN);
            Gemm.gemm(dt, 30, 50, 40, 1, a.seg(), a.off(), a.rs(), a.cs(), b.seg(), b.off(), b.rs(), b.cs(),
                    0, c.seg(), c.off(), c.rs(), c.cs());
            List<String> bad = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                for (int j = 0; j < 50; j++) {
                    boolean nan = Double.isNaN(c.get(0, i, j));
                    if (nan != (i == 3)) bad.add(i + "," + j);
                }
            }
            assertTrue(bad.isEmpty(), dt + ": NaN expected in row 3 only, wrong at " + bad);
        }
    }
}
