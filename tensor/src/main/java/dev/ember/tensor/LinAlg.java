package dev.ember.tensor;

import dev.ember.tensor.cpu.Elements;
import dev.ember.tensor.cpu.Gemm;
import dev.ember.tensor.cpu.Parallel;

/**
 * Matrix products with torch.matmul's rules. Floating dtypes go to the packed GEMM, which reads
 * operands through their strides, so transposed and sliced views are multiplied without a copy;
 * integer dtypes take a plain exact loop. CUDA tensors go to cuBLAS ({@link CudaMatmul}) once
 * the checks both backends share have passed; it has no integer GEMM, so those are refused there.
 */
final class LinAlg {
    /** The batch shape (and batch strides) of a single product. */
    private static final long[] NO_BATCH = {};

    private LinAlg() {}

    static Tensor matmul(Tensor a, Tensor b) {
        a.checkOpen();
        b.checkOpen();
        int ra = a.dim(), rb = b.dim();
        if (ra == 0 || rb == 0) {
            throw new IllegalArgumentException("both arguments to matmul need to be at least 1D, but they are "
                    + ra + "D and " + rb + "D");
        }
        Elementwise.checkSameDevice(a.device(), b.device());
        if (ra == 1 && rb == 1) return dot(a, b);
        if (ra <= 2 && rb <= 2) {
            // vectors become a row (left) or a column (right) matrix, and the added dim is dropped again
            try (Tensor ma = ra == 1 ? a.unsqueeze(0) : a.alias(a.shape, a.strides, a.offset);
                 Tensor mb = rb == 1 ? b.unsqueeze(1) : b.alias(b.shape, b.strides, b.offset);
                 Tensor p = mm(ma, mb)) {
                if (ra == 1) return p.squeeze(0);
                if (rb == 1) return p.squeeze(1);
                return p.alias(p.shape, p.strides, p.offset);
            }
        }
        try (Tensor ma = ra == 1 ? a.unsqueeze(0) : a.alias(a.shape, a.strides, a.offset);
             Tensor mb = rb == 1 ? b.unsqueeze(1) : b.alias(b.shape, b.strides, b.offset);
             Tensor p = batched(ma, mb)) {
            if (ra == 1) return p.squeeze(-2);
            if (rb == 1) return p.squeeze(-1);
            return p.alias(p.shape, p.strides, p.offset);
        }
    }

    static Tensor mm(Tensor a, Tensor b) {
        a.checkOpen();
        b.checkOpen();
        Elementwise.checkSameDevice(a.device(), b.device());
        if (a.dim() != 2) throw new IllegalArgumentException("self must be a matrix");
        if (b.dim() != 2) throw new IllegalArgumentException("mat2 must be a matrix");
        checkInner(a, b);
        DType t = sameDtype(a, b);
        long m = a.shape[0], n = b.shape[1], k = a.shape[1];
        if (a.isCuda()) {
            CudaMatmul.checkDtype(t, "addmm_cuda");
            Tensor out = Tensor.empty(a.device(), t, m, n);
            CudaMatmul.gemm(a, NO_BATCH, b, NO_BATCH, NO_BATCH, out, m, n, k, 1.0, 0.0);
            return out;
        }
        Tensor out = Tensor.empty(t, m, n);
        multiply(a, a.offset, b, b.offset, out, 0, 0.0, m, n, k);
        return out;
    }

    static Tensor bmm(Tensor a, Tensor b) {
        a.checkOpen();
        b.checkOpen();
        Elementwise.checkSameDevice(a.device(), b.device());
        if (a.dim() != 3) throw new IllegalArgumentException("batch1 must be a 3D tensor");
        if (b.dim() != 3) throw new IllegalArgumentException("batch2 must be a 3D tensor");
        if (b.shape[0] != a.shape[0] || b.shape[1] != a.shape[2]) {
            throw new IllegalArgumentException("Expected size for first two dimensions of batch2 tensor to be: ["
                    + a.shape[0] + ", " + a.shape[2] + "] but got: [" + b.shape[0] + ", " + b.shape[1] + "].");
        }
        return batched(a, b);
    }

    static Tensor addmm(Tensor self, Tensor a, Tensor b, double beta, double alpha) {
        self.checkOpen();
        a.checkOpen();
        b.checkOpen();
        Elementwise.checkSameDevice(self.device(), a.device());
        Elementwise.checkSameDevice(self.device(), b.device());
        if (a.dim() != 2) throw new IllegalArgumentException("mat1 must be a matrix, got " + a.dim() + "-D tensor");
        if (b.dim() != 2) throw new IllegalArgumentException("mat2 must be a matrix, got " + b.dim() + "-D tensor");
        checkInner(a, b);
        DType t = sameDtype(a, b);
        if (self.dtype != t) {
            throw new IllegalArgumentException("expected self and mat2 to have the same dtype, but got: "
                    + self.dtype + " != " + t);
        }
        long m = a.shape[0], n = b.shape[1];
        if (a.isCuda()) CudaMatmul.checkDtype(t, "addmm_cuda");
        Tensor out = Tensor.empty(a.device(), t, m, n);
        try {
            if (beta != 0) out.copy_(self); // self broadcast to [m, n]; cuBLAS scales it by beta in place
            if (a.isCuda()) CudaMatmul.gemm(a, NO_BATCH, b, NO_BATCH, NO_BATCH, out, m, n, a.shape[1], alpha, beta);
            else gemm(a, a.offset, b, b.offset, out, 0, alpha, beta, m, n, a.shape[1]);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        return out;
    }

    static Tensor outer(Tensor a, Tensor b) {
        if (a.dim() != 1 || b.dim() != 1) {
            throw new IllegalArgumentException("outer: expected 1-D tensors, but got " + a.dim() + "-D and " + b.dim() + "-D");
        }
        try (Tensor col = a.unsqueeze(1); Tensor row = b.unsqueeze(0)) {
            return col.mul(row);
        }
    }

    private static Tensor dot(Tensor a, Tensor b) {
        if (a.shape[0] != b.shape[0]) {
            throw new IllegalArgumentException("inconsistent tensor size, expected tensor [" + a.shape[0] + "] and src ["
                    + b.shape[0] + "] to have the same number of elements, but got " + a.shape[0] + " and "
                    + b.shape[0] + " elements respectively");
        }
        DType t = sameDtype(a, b);
        if (a.isCuda()) CudaMatmul.checkDtype(t, "dot");
        Tensor out = Tensor.empty(a.device(), t);
        try (Tensor row = a.unsqueeze(0); Tensor col = b.unsqueeze(1)) {
            if (a.isCuda()) CudaMatmul.gemm(row, NO_BATCH, col, NO_BATCH, NO_BATCH, out, 1, 1, a.shape[0], 1.0, 0.0);
            else multiply(row, row.offset, col, col.offset, out, 0, 0.0, 1, 1, a.shape[0]);
        }
        return out;
    }

    /** [..., m, k] @ [..., k, n] with the batch dims broadcast, into a contiguous [batch..., m, n]. */
    private static Tensor batched(Tensor a, Tensor b) {
        checkInner(a, b);
        DType t = sameDtype(a, b);
        int ra = a.dim(), rb = b.dim();
        long m = a.shape[ra - 2], k = a.shape[ra - 1], n = b.shape[rb - 1];
        long[] batchA = java.util.Arrays.copyOf(a.shape, ra - 2), batchB = java.util.Arrays.copyOf(b.shape, rb - 2);
        long[] batch = Shapes.broadcast(batchA, batchB);
        long[] sa = Shapes.broadcastStrides(batchA, java.util.Arrays.copyOf(a.strides, ra - 2), batch);
        long[] sb = Shapes.broadcastStrides(batchB, java.util.Arrays.copyOf(b.strides, rb - 2), batch);
        long[] outShape = java.util.Arrays.copyOf(batch, batch.length + 2);
        outShape[batch.length] = m;
        outShape[batch.length + 1] = n;
        if (a.isCuda()) {
            CudaMatmul.checkDtype(t, "bmm_cuda");
            Tensor out = Tensor.empty(a.device(), t, outShape);
            CudaMatmul.gemm(a, sa, b, sb, batch, out, m, n, k, 1.0, 0.0);
            return out;
        }
        Tensor out = Tensor.empty(t, outShape);
        long count = Shapes.numel(batch);
        // Small matrices: one GEMM per task across threads. Large ones: each GEMM is itself parallel.
        boolean perTask = m * n * k < (1L << 18);
        Parallel.RangeBody body = (s, e) -> {
            for (long i = s; i < e; i++) {
                long oa = a.offset, ob = b.offset, rest = i;
                for (int d = batch.length - 1; d >= 0; d--) {
                    long idx = rest % batch[d];
                    rest /= batch[d];
                    oa += idx * sa[d];
                    ob += idx * sb[d];
                }
                multiply(a, oa, b, ob, out, i * m * n, 0.0, m, n, k);
            }
        };
        if (perTask) Parallel.forRange(count, 1, body);
        else body.run(0, count);
        return out;
    }

    /** C (contiguous m×n at cOff in out) = A·B + beta·C for the trailing two dims of a and b. */
    private static void multiply(Tensor a, long aOff, Tensor b, long bOff, Tensor out, long cOff, double beta,
                                 long m, long n, long k) {
        gemm(a, aOff, b, bOff, out, cOff, 1.0, beta, m, n, k);
    }

    private static void gemm(Tensor a, long aOff, Tensor b, long bOff, Tensor out, long cOff, double alpha, double beta,
                             long m, long n, long k) {
        int ra = a.dim(), rb = b.dim();
        long aRs = a.strides[ra - 2], aCs = a.strides[ra - 1], bRs = b.strides[rb - 2], bCs = b.strides[rb - 1];
        if (a.dtype.isFloatingPoint()) {
            Gemm.gemm(a.dtype, Math.toIntExact(m), Math.toIntExact(n), Math.toIntExact(k), alpha,
                    a.data(), aOff, aRs, aCs, b.data(), bOff, bRs, bCs, beta, out.data(), cOff, n, 1);
        } else {
            integerGemm(a, aOff, aRs, aCs, b, bOff, bRs, bCs, out, cOff, (long) alpha, (long) beta, m, n, k);
        }
    }

    /** Exact integer product (wrapping like C on overflow), for the dtypes BLAS has no kernel for. */
    private static void integerGemm(Tensor a, long aOff, long aRs, long aCs, Tensor b, long bOff, long bRs, long bCs,
                                    Tensor out, long cOff, long alpha, long beta, long m, long n, long k) {
        var sa = a.data();
        var sb = b.data();
        var so = out.data();
        DType t = a.dtype;
        int size = t.itemSize();
        for (long i = 0; i < m; i++) {
            for (long j = 0; j < n; j++) {
                long acc = 0;
                for (long p = 0; p < k; p++) {
                    acc += Elements.getLong(sa, t, (aOff + i * aRs + p * aCs) * size)
                            * Elements.getLong(sb, t, (bOff + p * bRs + j * bCs) * size);
                }
                long at = (cOff + i * n + j) * size;
                long prior = beta == 0 ? 0 : beta * Elements.getLong(so, t, at);
                Elements.putLong(so, t, at, alpha * acc + prior);
            }
        }
    }

    private static void checkInner(Tensor a, Tensor b) {
        long k1 = a.shape[a.dim() - 1], k2 = b.shape[b.dim() - 2];
        if (k1 != k2) {
            if (a.dim() == 2 && b.dim() == 2) {
                throw new IllegalArgumentException("mat1 and mat2 shapes cannot be multiplied (" + Shapes.formatX(a.shape)
                        + " and " + Shapes.formatX(b.shape) + ")");
            }
            throw new IllegalArgumentException("Expected size for first two dimensions of batch2 tensor to be: ["
                    + k1 + ", " + b.shape[b.dim() - 1] + "] but got: [" + k2 + ", " + b.shape[b.dim() - 1] + "]. (matmul of "
                    + Shapes.format(a.shape) + " and " + Shapes.format(b.shape) + ")");
        }
    }

    private static DType sameDtype(Tensor a, Tensor b) {
        if (a.dtype != b.dtype) {
            throw new IllegalArgumentException("expected m1 and m2 to have the same dtype, but got: " + a.dtype + " != " + b.dtype);
        }
        // (on CUDA, bool is refused with the other non-floating dtypes, in the kernel's own words)
        if (a.dtype == DType.BOOL && !a.isCuda()) {
            throw new IllegalArgumentException("\"addmm_impl_cpu_\" not implemented for 'Bool'");
        }
        return a.dtype;
    }
}
