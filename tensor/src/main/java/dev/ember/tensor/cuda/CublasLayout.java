package dev.ember.tensor.cuda;

import dev.ember.ffi.Cublas;

/**
 * How a row-major matrix product is handed to cuBLAS, which is column-major. Pure arithmetic on
 * shapes and strides (no device), so it is tested on every machine.
 *
 * <p>A contiguous row-major C[m, n] read column-major is Cᵀ (n × m, leading dimension n). So
 * C = A·B is asked of cuBLAS as Cᵀ = Bᵀ·Aᵀ: the operands swap places and m and n swap, and
 * nothing is transposed in memory. Each operand is then passed as it lies: a row-major view
 * (column stride 1) read column-major already is the transpose the swapped product needs
 * ({@link Cublas#OP_N}); a transposed view (row stride 1, as {@code w.t()} in Linear) is the
 * matrix itself, so cuBLAS is told to transpose it ({@link Cublas#OP_T}). Any other strides
 * (a step in both dims, a stride-0 broadcast, overlapping rows) cannot be described by a
 * leading dimension, and the caller packs that operand first.
 */
public final class CublasLayout {
    /** {@link #batchStride} of batch strides that no single stride describes. */
    public static final long NOT_UNIFORM = Long.MIN_VALUE;

    private CublasLayout() {}

    /** An operand as cuBLAS reads it in the swapped product: its op and leading dimension. */
    public record Operand(int op, int ld) {}

    /**
     * The operand for a row-major {@code rows × cols} view with these strides (in elements), or
     * null when it must be packed. A dim of size 1 never moves, so its stride does not matter
     * and the leading dimension only has to satisfy cuBLAS's lower bound.
     */
    public static Operand operand(long rows, long cols, long rowStride, long colStride) {
        checkDim(rows);
        checkDim(cols);
        if (rows == 0 || cols == 0) return new Operand(Cublas.OP_N, (int) Math.max(1, cols)); // nothing is read
        // read column-major as (cols × rows), leading dimension rowStride: OP_N in the swapped product
        if ((colStride == 1 || cols <= 1) && (rows <= 1 || rowStride >= Math.max(1, cols))) {
            long ld = rows <= 1 ? Math.max(1, cols) : rowStride;
            if (ld <= Integer.MAX_VALUE) return new Operand(Cublas.OP_N, (int) ld);
        }
        // the storage is a column-major (rows × cols) with leading dimension colStride: OP_T
        if ((rowStride == 1 || rows <= 1) && (cols <= 1 || colStride >= Math.max(1, rows))) {
            long ld = cols <= 1 ? Math.max(1, rows) : colStride;
            if (ld <= Integer.MAX_VALUE) return new Operand(Cublas.OP_T, (int) ld);
        }
        return null;
    }

    /** The operand of a packed (contiguous row-major) {@code rows × cols} matrix. */
    public static Operand packed(long rows, long cols) {
        return operand(rows, cols, cols, 1);
    }

    /**
     * The one stride that steps through the flattened (row-major) batch, given each batch dim's
     * stride (0 where the operand is broadcast), or {@link #NOT_UNIFORM}. Size-1 dims are
     * ignored; an operand broadcast over the whole batch has stride 0, which cuBLAS's
     * strided-batched GEMM accepts, so it is read in place.
     */
    public static long batchStride(long[] batch, long[] strides) {
        if (batch.length != strides.length) {
            throw new IllegalArgumentException("batch of rank " + batch.length + " with " + strides.length + " strides");
        }
        long stride = 0, next = 0;
        boolean found = false;
        for (int d = batch.length - 1; d >= 0; d--) {
            if (batch[d] == 1) continue;
            if (!found) {
                stride = strides[d];
                found = true;
            } else if (strides[d] != next) {
                return NOT_UNIFORM;
            }
            next = strides[d] * batch[d];
        }
        return stride;
    }

    /**
     * The arguments of one cuBLAS (strided-batched) GEMM for {@code count} row-major products
     * C[m, n] = A[m, k]·B[k, n], C packed with {@code m * n} elements per matrix. transA, lda and
     * strideA describe cuBLAS's first operand, which is our B; transB, ldb and strideB our A.
     */
    public record GemmCall(int transA, int transB, int m, int n, int k, int lda, long strideA, int ldb, long strideB,
                           int ldc, long strideC, long count) {}

    /**
     * The swapped call: cuBLAS's (m, n, k) = our (n, m, k), its A our B, its B our A. When B is
     * the same matrix for the whole batch and A's matrices lie one after the other as rows of
     * one taller matrix (a [..., m, k] input times a weight), the batch folds into a single
     * (count·m) × k product, which is one GEMM instead of many small ones.
     */
    public static GemmCall rowMajor(long m, long n, long k, Operand a, long aBatchStride, Operand b, long bBatchStride,
                                    long count) {
        checkDim(m);
        checkDim(n);
        checkDim(k);
        if (aBatchStride == NOT_UNIFORM || bBatchStride == NOT_UNIFORM) {
            throw new IllegalArgumentException("an operand without a uniform batch stride must be packed first");
        }
        int ldc = (int) Math.max(1, n);
        if (count > 1 && bBatchStride == 0 && a.op() == Cublas.OP_N && aBatchStride == m * a.ld()
                && count * m <= Integer.MAX_VALUE) {
            return new GemmCall(b.op(), a.op(), (int) n, (int) (count * m), (int) k, b.ld(), 0, a.ld(), 0, ldc, 0, 1);
        }
        return new GemmCall(b.op(), a.op(), (int) n, (int) m, (int) k, b.ld(), bBatchStride, a.ld(), aBatchStride,
                ldc, m * n, count);
    }

    private static void checkDim(long size) {
        if (size < 0 || size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("matrix dimension " + size + " is beyond what cuBLAS takes (at most "
                    + Integer.MAX_VALUE + ")");
        }
    }
}
