package dev.ember.tensor.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ember.ffi.Cublas;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * How row-major products are handed to column-major cuBLAS, checked on the host: which op and
 * leading dimension a view's strides give, when it must be packed, the batch strides, and, with
 * a plain-Java model of cuBLAS's strided-batched GEMM run over the very arguments planned, that
 * the swapped call computes the row-major product for random shapes, layouts and broadcasts.
 */
class CublasLayoutTest {
    private final long seed = System.nanoTime();
    private final Random random = new Random(seed);

    private static void assertOperand(int op, int ld, CublasLayout.Operand actual) {
        assertEquals(new CublasLayout.Operand(op, ld), actual);
    }

    @Test
    void rowMajorViewsAreReadAsTheyLieAndTransposedViewsWithOpT() {
        assertOperand(Cublas.OP_N, 5, CublasLayout.operand(3, 5, 5, 1)); // contiguous
        assertOperand(Cublas.OP_N, 8, CublasLayout.operand(3, 5, 8, 1)); // rows of a wider matrix
        assertOperand(Cublas.OP_T, 3, CublasLayout.operand(3, 5, 1, 3)); // w.t() of a contiguous [5, 3]
        assertOperand(Cublas.OP_T, 4, CublasLayout.operand(3, 5, 1, 4)); // transpose of a column slice
        assertOperand(Cublas.OP_N, 5, CublasLayout.packed(3, 5));
    }

    @Test
    void sizeOneDimsIgnoreTheirStride() {
        assertOperand(Cublas.OP_N, 5, CublasLayout.operand(1, 5, 0, 1)); // a row, e.g. unsqueezed or expanded
        assertOperand(Cublas.OP_N, 5, CublasLayout.operand(1, 5, 123, 1));
        assertOperand(Cublas.OP_N, 7, CublasLayout.operand(4, 1, 7, 9)); // a column read with its row stride
        assertOperand(Cublas.OP_T, 4, CublasLayout.operand(1, 5, 77, 4)); // a row with a step: column-major 1 x 5
        assertOperand(Cublas.OP_N, 1, CublasLayout.operand(1, 1, 0, 0));
        assertOperand(Cublas.OP_N, 1, CublasLayout.operand(0, 0, 0, 0)); // nothing is read
    }

    @Test
    void layoutsNoLeadingDimensionDescribesArePacked() {
        assertNull(CublasLayout.operand(3, 5, 10, 2)); // a step in both dims
        assertNull(CublasLayout.operand(3, 5, 0, 1)); // a row expanded to three
        assertNull(CublasLayout.operand(3, 5, 1, 0)); // a column expanded to five
        assertNull(CublasLayout.operand(3, 5, 1, 1)); // overlapping rows
        assertNull(CublasLayout.operand(3, 5, 4, 1)); // rows overlapping by one element
        assertNull(CublasLayout.operand(4, 1, 0, 1)); // an expanded single element
        assertNull(CublasLayout.operand(3, 5, 1L << 32, 1)); // a leading dimension past int
    }

    @Test
    void dimensionsBeyondIntAreRefusedWithAMessage() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CublasLayout.operand(1L << 31, 2, 2, 1));
        assertEquals("matrix dimension 2147483648 is beyond what cuBLAS takes (at most 2147483647)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CublasLayout.rowMajor(2, 2, 2,
                CublasLayout.packed(2, 2), CublasLayout.NOT_UNIFORM, CublasLayout.packed(2, 2), 4, 3));
    }

    @Test
    void batchStrides() {
        long[] batch = {2, 3};
        assertEquals(15, CublasLayout.batchStride(batch, new long[] {45, 15}));
        assertEquals(0, CublasLayout.batchStride(batch, new long[] {0, 0})); // broadcast over the whole batch
        assertEquals(CublasLayout.NOT_UNIFORM, CublasLayout.batchStride(batch, new long[] {15, 0}));
        assertEquals(CublasLayout.NOT_UNIFORM, CublasLayout.batchStride(batch, new long[] {0, 15}));
        assertEquals(CublasLayout.NOT_UNIFORM, CublasLayout.batchStride(batch, new long[] {15, 45})); // permuted
        assertEquals(20, CublasLayout.batchStride(new long[] {1, 4, 1}, new long[] {999, 20, -7})); // size 1 ignored
        assertEquals(0, CublasLayout.batchStride(new long[0], new long[0]));
        assertEquals(0, CublasLayout.batchStride(new long[] {1, 1}, new long[] {5, 6}));
    }

    @Test
    void aBatchTimesOneMatrixFoldsIntoOneTallProduct() {
        // [4, 3, 5] contiguous @ [5, 2]: one (12 x 5) @ (5 x 2), as cuBLAS's (2 x 12) = (2 x 5)(5 x 12)
        CublasLayout.GemmCall c = CublasLayout.rowMajor(3, 2, 5, CublasLayout.packed(3, 5), 15,
                CublasLayout.packed(5, 2), 0, 4);
        assertEquals(new CublasLayout.GemmCall(Cublas.OP_N, Cublas.OP_N, 2, 12, 5, 2, 0, 5, 0, 2, 0, 1), c);
        // rows not one after the other (a gap between batch entries): no fold
        CublasLayout.GemmCall gap = CublasLayout.rowMajor(3, 2, 5, CublasLayout.packed(3, 5), 20,
                CublasLayout.packed(5, 2), 0, 4);
        assertEquals(4, gap.count());
        assertEquals(3, gap.n());
        // a transposed A cannot fold either
        assertEquals(4, CublasLayout.rowMajor(3, 2, 5, CublasLayout.operand(3, 5, 1, 3), 15,
                CublasLayout.packed(5, 2), 0, 4).count());
    }

    @Test
    void theSwappedCallComputesTheRowMajorProduct() {
        for (int trial = 0; trial < 2000; trial++) {
            int m = 1 + random.nextInt(6), n = 1 + random.nextInt(6), k = 1 + random.nextInt(6);
            long[] batch = new long[random.nextInt(4)];
            for (int d = 0; d < batch.length; d++) batch[d] = 1 + random.nextInt(3);
            View a = View.random(random, batch, m, k), b = View.random(random, batch, k, n);
            double alpha = random.nextBoolean() ? 1 : random.nextDouble() * 4 - 2;
            double beta = random.nextBoolean() ? 0 : random.nextDouble() * 4 - 2;
            long count = 1;
            for (long s : batch) count *= s;
            double[] c0 = new double[(int) (count * m * n)];
            for (int i = 0; i < c0.length; i++) c0[i] = random.nextDouble() * 2 - 1;
            String ctx = "seed " + seed + " trial " + trial + " m=" + m + " n=" + n + " k=" + k + " batch="
                    + Arrays.toString(batch) + " a=" + a + " b=" + b;

            // what CudaMatmul does: pass each operand as it lies, else pack it
            CublasLayout.Operand opA = CublasLayout.operand(m, k, a.rowStride, a.colStride);
            long sA = CublasLayout.batchStride(batch, a.batchStrides);
            if (opA == null || sA == CublasLayout.NOT_UNIFORM) {
                a = a.packed(batch);
                opA = CublasLayout.packed(m, k);
                sA = (long) m * k;
            }
            CublasLayout.Operand opB = CublasLayout.operand(k, n, b.rowStride, b.colStride);
            long sB = CublasLayout.batchStride(batch, b.batchStrides);
            if (opB == null || sB == CublasLayout.NOT_UNIFORM) {
                b = b.packed(batch);
                opB = CublasLayout.packed(k, n);
                sB = (long) k * n;
            }
            CublasLayout.GemmCall call = CublasLayout.rowMajor(m, n, k, opA, sA, opB, sB, count);
            double[] c = c0.clone();
            columnMajorGemm(call, alpha, b.data, b.offset, a.data, a.offset, beta, c, ctx);

            double[] expected = new double[c0.length];
            for (long p = 0; p < count; p++) {
                long[] idx = unravel(p, batch);
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double sum = 0;
                        for (int l = 0; l < k; l++) sum += a.at(idx, i, l) * b.at(idx, l, j);
                        int at = (int) (p * m * n + (long) i * n + j);
                        expected[at] = alpha * sum + (beta == 0 ? 0 : beta * c0[at]);
                    }
                }
            }
            for (int i = 0; i < c.length; i++) {
                if (Math.abs(expected[i] - c[i]) > 1e-12 * Math.max(1, Math.abs(expected[i]))) {
                    throw new AssertionError(ctx + " call=" + call + ": element " + i + " is " + c[i] + ", expected "
                            + expected[i]);
                }
            }
        }
    }

    /**
     * cuBLAS's strided-batched GEMM as documented, column-major: C_p = alpha op(A_p) op(B_p) +
     * beta C_p (C not read when beta is 0), each matrix at its stride from the previous; also
     * checks the arguments cuBLAS would refuse.
     */
    private static void columnMajorGemm(CublasLayout.GemmCall c, double alpha, double[] a, long aOff, double[] b,
                                        long bOff, double beta, double[] out, String ctx) {
        int rowsA = c.transA() == Cublas.OP_N ? c.m() : c.k();
        int rowsB = c.transB() == Cublas.OP_N ? c.k() : c.n();
        if (c.lda() < Math.max(1, rowsA) || c.ldb() < Math.max(1, rowsB) || c.ldc() < Math.max(1, c.m())) {
            throw new AssertionError(ctx + ": cuBLAS would refuse " + c);
        }
        if (c.count() < 1 || c.count() > Integer.MAX_VALUE) throw new AssertionError(ctx + ": batch count " + c);
        for (long p = 0; p < c.count(); p++) {
            for (int i = 0; i < c.m(); i++) {
                for (int j = 0; j < c.n(); j++) {
                    double sum = 0;
                    for (int l = 0; l < c.k(); l++) {
                        long ai = aOff + p * c.strideA() + (c.transA() == Cublas.OP_N ? i + (long) l * c.lda()
                                : l + (long) i * c.lda());
                        long bi = bOff + p * c.strideB() + (c.transB() == Cublas.OP_N ? l + (long) j * c.ldb()
                                : j + (long) l * c.ldb());
                        sum += a[(int) ai] * b[(int) bi];
                    }
                    int ci = (int) (p * c.strideC() + i + (long) j * c.ldc());
                    out[ci] = alpha * sum + (beta == 0 ? 0 : beta * out[ci]);
                }
            }
        }
    }

    private static long[] unravel(long flat, long[] shape) {
        long[] idx = new long[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = flat % shape[d];
            flat /= shape[d];
        }
        return idx;
    }

    /** A strided view of flat storage: batch strides (0 where broadcast) and one matrix's strides. */
    private record View(double[] data, long offset, long[] batchStrides, int rows, int cols, long rowStride,
                        long colStride, String how) {
        double at(long[] idx, int i, int j) {
            long pos = offset + i * rowStride + j * colStride;
            for (int d = 0; d < idx.length; d++) pos += idx[d] * batchStrides[d];
            return data[(int) pos];
        }

        /** The contiguous [batch..., rows, cols] copy CudaMatmul makes. */
        View packed(long[] batch) {
            long count = 1;
            for (long s : batch) count *= s;
            double[] p = new double[(int) (count * rows * cols)];
            int w = 0;
            for (long q = 0; q < count; q++) {
                long[] idx = unravel(q, batch);
                for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) p[w++] = at(idx, i, j);
            }
            long[] st = new long[batch.length];
            long s = (long) rows * cols;
            for (int d = batch.length - 1; d >= 0; d--) {
                st[d] = s;
                s *= batch[d];
            }
            return new View(p, 0, st, rows, cols, cols, 1, "packed");
        }

        /**
         * A random layout: the matrix contiguous, transposed, padded, stepped or expanded; the
         * batch dims contiguous, spaced or permuted, some broadcast (stride 0).
         */
        static View random(Random r, long[] batch, int rows, int cols) {
            long rs, cs, span;
            String how;
            switch (r.nextInt(6)) {
                case 0 -> { rs = cols; cs = 1; span = (long) rows * cols; how = "contiguous"; }
                case 1 -> { rs = 1; cs = rows; span = (long) rows * cols; how = "transposed"; }
                case 2 -> { rs = cols + 2; cs = 1; span = (long) rows * (cols + 2); how = "padded rows"; }
                case 3 -> { rs = 1; cs = rows + 3; span = (long) cols * (rows + 3); how = "padded transposed"; }
                case 4 -> { rs = 2L * cols; cs = 2; span = 2L * rows * cols; how = "stepped"; }
                default -> { rs = 0; cs = 1; span = cols; how = "expanded rows"; }
            }
            long[] bs = new long[batch.length];
            boolean[] broadcast = new boolean[batch.length];
            for (int d = 0; d < batch.length; d++) broadcast[d] = r.nextInt(3) == 0;
            int[] order = new int[batch.length];
            for (int d = 0; d < order.length; d++) order[d] = d;
            boolean permuted = r.nextInt(4) == 0;
            if (permuted) {
                for (int d = order.length - 1; d > 0; d--) {
                    int e = r.nextInt(d + 1);
                    int t = order[d]; order[d] = order[e]; order[e] = t;
                }
            }
            long gap = r.nextInt(4) == 0 ? 2 : 1;
            long step = span * gap;
            for (int q = order.length - 1; q >= 0; q--) {
                int d = order[q];
                if (broadcast[d]) continue;
                bs[d] = step;
                step *= batch[d];
            }
            long offset = r.nextInt(3);
            long extent = offset + 1 + (rows - 1) * rs + (cols - 1) * cs;
            for (int d = 0; d < batch.length; d++) extent += (batch[d] - 1) * bs[d];
            double[] data = new double[(int) extent];
            for (int i = 0; i < data.length; i++) data[i] = r.nextDouble() * 2 - 1;
            return new View(data, offset, bs, rows, cols, rs, cs, how + (permuted ? ", batch permuted" : "")
                    + (gap > 1 ? ", batch spaced" : "") + ", batch strides " + Arrays.toString(bs));
        }

        @Override
        public String toString() { return how; }
    }
}
