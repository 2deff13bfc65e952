package dev.ember.tensor;

import dev.ember.ffi.Cublas;
import dev.ember.memory.Stream;
import dev.ember.tensor.cuda.CublasHandles;
import dev.ember.tensor.cuda.HandlePool;
import dev.ember.tensor.cuda.CublasLayout;
import java.util.Arrays;

/**
 * Matrix products of CUDA tensors through cuBLAS, for {@link LinAlg}'s mm, bmm, matmul, addmm
 * and dot once its shared checks have passed. Row-major products are asked of column-major
 * cuBLAS with the operands swapped ({@link CublasLayout}), so contiguous and transposed views
 * are read where they lie; other layouts are packed into one contiguous copy first. float16 and
 * bfloat16 accumulate in float32, float64 in float64, and float32 in float32 unless
 * {@link Ember#allowTf32Matmul()} lets tensor cores round the inputs to TF32. The work goes on
 * the device's current stream, like every other op.
 */
final class CudaMatmul {
    /**
     * Matrices per strided-batched call. cuBLAS takes an int count, and some cuBLAS releases
     * failed past 65535 (the grid's y/z limit), so as a precaution large batches go in chunks
     * of a rounder size below that; a chunk is still a large launch.
     */
    private static final int MAX_BATCH = 63 * 1024;

    private CudaMatmul() {}

    /**
     * Fails as PyTorch does for a dtype cuBLAS has no GEMM for (integers and bool), naming the
     * kernel PyTorch's message names ({@code addmm_cuda}, {@code bmm_cuda}, {@code dot}).
     */
    static void checkDtype(DType t, String kernel) {
        if (!t.isFloatingPoint()) {
            throw new IllegalArgumentException("\"" + kernel + "\" not implemented for '" + TypePromotion.scalarTypeName(t) + "'");
        }
    }

    /**
     * out = alpha · a·b + beta · out over a batch: out holds contiguous [batch..., m, n] from its
     * offset; a's and b's last two dims are the matrices, and their batch dims are walked with
     * {@code aBatch} and {@code bBatch} (one stride per dim of {@code batch}, 0 where broadcast).
     * With beta = 0, out is not read, so it may be uninitialised.
     */
    static void gemm(Tensor a, long[] aBatch, Tensor b, long[] bBatch, long[] batch, Tensor out,
                     long m, long n, long k, double alpha, double beta) {
        long count = Shapes.numel(batch);
        if (count == 0 || m == 0 || n == 0) return;
        if (k == 0) { // an empty sum: cuBLAS's bounds on the leading dims need not hold, so no call
            if (beta == 0) out.zero_();
            else if (beta != 1) out.mul_(beta);
            return;
        }
        Tensor pa = null, pb = null;
        try {
            Tensor ta = a, tb = b;
            int ra = a.dim(), rb = b.dim();
            CublasLayout.Operand opA = CublasLayout.operand(m, k, a.strides[ra - 2], a.strides[ra - 1]);
            long sA = CublasLayout.batchStride(batch, aBatch);
            if (opA == null || sA == CublasLayout.NOT_UNIFORM) {
                ta = pa = packed(a, aBatch, batch, m, k);
                opA = CublasLayout.packed(m, k);
                sA = m * k;
            }
            CublasLayout.Operand opB = CublasLayout.operand(k, n, b.strides[rb - 2], b.strides[rb - 1]);
            long sB = CublasLayout.batchStride(batch, bBatch);
            if (opB == null || sB == CublasLayout.NOT_UNIFORM) {
                tb = pb = packed(b, bBatch, batch, k, n);
                opB = CublasLayout.packed(k, n);
                sB = k * n;
            }
            run(CublasLayout.rowMajor(m, n, k, opA, sA, opB, sB, count), out.dtype,
                    CudaOps.address(tb), CudaOps.address(ta), CudaOps.address(out), alpha, beta, out);
        } finally {
            if (pa != null) pa.close();
            if (pb != null) pb.close();
        }
    }

    /** A contiguous copy of x's [batch..., rows, cols] (broadcast batch dims made real), owned by no scope. */
    private static Tensor packed(Tensor x, long[] batchStrides, long[] batch, long rows, long cols) {
        int r = x.dim();
        long[] shape = Arrays.copyOf(batch, batch.length + 2);
        shape[batch.length] = rows;
        shape[batch.length + 1] = cols;
        long[] strides = Arrays.copyOf(batchStrides, batch.length + 2);
        strides[batch.length] = x.strides[r - 2];
        strides[batch.length + 1] = x.strides[r - 1];
        try (Tensor view = x.alias(shape, strides, x.offset)) {
            return view.contiguousAs(x.dtype);
        }
    }

    /**
     * One planned call (in chunks where the batch is large). {@code first} is cuBLAS's A (our
     * B), {@code second} its B (our A).
     */
    private static void run(CublasLayout.GemmCall c, DType t, long first, long second, long dst,
                            double alpha, double beta, Tensor out) {
        int type = dataType(t);
        int compute = computeType(t);
        long size = t.itemSize();
        Stream stream = CudaOps.stream(out.device());
        try (HandlePool.Lease lease = CublasHandles.acquire(stream)) {
            long h = lease.handle();
            if (c.count() == 1) {
                Cublas.gemmEx(h, c.transA(), c.transB(), c.m(), c.n(), c.k(), alpha, first, type, c.lda(),
                        second, type, c.ldb(), beta, dst, type, c.ldc(), compute, Cublas.GEMM_DEFAULT);
                return;
            }
            for (long start = 0; start < c.count(); start += MAX_BATCH) {
                int chunk = (int) Math.min(MAX_BATCH, c.count() - start);
                Cublas.gemmStridedBatchedEx(h, c.transA(), c.transB(), c.m(), c.n(), c.k(), alpha,
                        first + start * c.strideA() * size, type, c.lda(), c.strideA(),
                        second + start * c.strideB() * size, type, c.ldb(), c.strideB(), beta,
                        dst + start * c.strideC() * size, type, c.ldc(), c.strideC(),
                        chunk, compute, Cublas.GEMM_DEFAULT);
            }
        }
    }

    /** The cudaDataType of a floating dtype's matrices. */
    private static int dataType(DType t) {
        return switch (t) {
            case FLOAT32 -> Cublas.R_32F;
            case FLOAT64 -> Cublas.R_64F;
            case FLOAT16 -> Cublas.R_16F;
            case BFLOAT16 -> Cublas.R_16BF;
            default -> throw new IllegalArgumentException("cuBLAS has no GEMM for " + t);
        };
    }

    /** What the products accumulate in: float32 for the half types, TF32 inputs only where allowed. */
    private static int computeType(DType t) {
        return switch (t) {
            case FLOAT64 -> Cublas.COMPUTE_64F;
            case FLOAT32 -> Ember.allowTf32Matmul() ? Cublas.COMPUTE_32F_FAST_TF32 : Cublas.COMPUTE_32F;
            default -> Cublas.COMPUTE_32F;
        };
    }
}
