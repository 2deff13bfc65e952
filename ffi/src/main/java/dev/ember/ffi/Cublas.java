package dev.ember.ffi;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Map;

/**
 * cuBLAS (v2 API) as static methods. Handles, streams and device matrices are {@code long}s.
 *
 * <p>Matrices are column-major, as in BLAS. The scalars {@code alpha} and {@code beta} are
 * passed from host memory: {@link #create()} puts the handle in host pointer mode and this
 * class never changes it. A handle belongs to the context current when it was created
 * (see {@link CudaDriver#ensureContext(int)}) and is not safe to share between threads that
 * use it at the same time. Every status is checked; failures throw {@link CudaException}.
 */
public final class Cublas {

    /** CUBLAS_OP_N: use the matrix as it is. */
    public static final int OP_N = 0;
    /** CUBLAS_OP_T: use the transpose. */
    public static final int OP_T = 1;
    /** CUBLAS_OP_C: use the conjugate transpose. */
    public static final int OP_C = 2;

    /** CUBLAS_DEFAULT_MATH: full-precision float32 unless a compute type says otherwise. */
    public static final int DEFAULT_MATH = 0;
    /** CUBLAS_PEDANTIC_MATH: no tensor-core shortcuts at all. */
    public static final int PEDANTIC_MATH = 2;
    /** CUBLAS_TF32_TENSOR_OP_MATH: float32 routines may use TF32 tensor cores (about 1e-3 relative error). */
    public static final int TF32_TENSOR_OP_MATH = 3;

    /** cudaDataType CUDA_R_32F: float. */
    public static final int R_32F = 0;
    /** cudaDataType CUDA_R_64F: double. */
    public static final int R_64F = 1;
    /** cudaDataType CUDA_R_16F: half. */
    public static final int R_16F = 2;
    /** cudaDataType CUDA_R_8I: signed 8-bit integer. */
    public static final int R_8I = 3;
    /** cudaDataType CUDA_R_32I: signed 32-bit integer. */
    public static final int R_32I = 10;
    /** cudaDataType CUDA_R_16BF: bfloat16. */
    public static final int R_16BF = 14;

    /** CUBLAS_COMPUTE_16F: half precision accumulate. */
    public static final int COMPUTE_16F = 64;
    /** CUBLAS_COMPUTE_32F: float accumulate. */
    public static final int COMPUTE_32F = 68;
    /** CUBLAS_COMPUTE_32F_PEDANTIC: float accumulate, no reduced-precision shortcuts. */
    public static final int COMPUTE_32F_PEDANTIC = 69;
    /** CUBLAS_COMPUTE_64F: double accumulate. */
    public static final int COMPUTE_64F = 70;
    /** CUBLAS_COMPUTE_32I: 32-bit integer accumulate. */
    public static final int COMPUTE_32I = 72;
    /** CUBLAS_COMPUTE_32F_FAST_16F: float accumulate, inputs may be rounded to half. */
    public static final int COMPUTE_32F_FAST_16F = 74;
    /** CUBLAS_COMPUTE_32F_FAST_16BF: float accumulate, inputs may be rounded to bfloat16. */
    public static final int COMPUTE_32F_FAST_16BF = 75;
    /** CUBLAS_COMPUTE_32F_FAST_TF32: float accumulate, inputs may be rounded to TF32. */
    public static final int COMPUTE_32F_FAST_TF32 = 77;

    /** CUBLAS_GEMM_DEFAULT: let cuBLAS choose the algorithm. */
    public static final int GEMM_DEFAULT = -1;

    /** CUBLAS_POINTER_MODE_HOST. */
    private static final int POINTER_MODE_HOST = 0;

    /** libraryPropertyType values. */
    private static final int MAJOR_VERSION = 0;
    private static final int MINOR_VERSION = 1;
    private static final int PATCH_LEVEL = 2;

    /** cublasStatus_t names, by value (cublas_api.h). */
    private static final Map<Integer, String> STATUS_NAMES = Map.of(
            0, "CUBLAS_STATUS_SUCCESS",
            1, "CUBLAS_STATUS_NOT_INITIALIZED",
            3, "CUBLAS_STATUS_ALLOC_FAILED",
            7, "CUBLAS_STATUS_INVALID_VALUE",
            8, "CUBLAS_STATUS_ARCH_MISMATCH",
            11, "CUBLAS_STATUS_MAPPING_ERROR",
            13, "CUBLAS_STATUS_EXECUTION_FAILED",
            14, "CUBLAS_STATUS_INTERNAL_ERROR",
            15, "CUBLAS_STATUS_NOT_SUPPORTED",
            16, "CUBLAS_STATUS_LICENSE_ERROR");

    /** Our own words for each status, used when the library cannot describe it. */
    private static final Map<Integer, String> STATUS_TEXTS = Map.of(
            0, "success",
            1, "the library was not initialized (is a CUDA context current?)",
            3, "resource allocation failed",
            7, "an unsupported value or parameter was passed",
            8, "the device does not support this operation",
            11, "access to GPU memory space failed",
            13, "the GPU program failed to execute",
            14, "an internal cuBLAS operation failed",
            15, "the requested functionality is not supported",
            16, "the requested functionality requires a license");

    private Cublas() {
    }

    private static final class H {
        static final MethodHandle cublasCreate = bind(CublasFunctions.cublasCreate);
        static final MethodHandle cublasDestroy = bind(CublasFunctions.cublasDestroy);
        static final MethodHandle cublasGetProperty = bind(CublasFunctions.cublasGetProperty);
        static final MethodHandle cublasSetStream = bind(CublasFunctions.cublasSetStream);
        static final MethodHandle cublasSetMathMode = bind(CublasFunctions.cublasSetMathMode);
        static final MethodHandle cublasSetPointerMode = bind(CublasFunctions.cublasSetPointerMode);
        static final MethodHandle cublasSetWorkspace = bind(CublasFunctions.cublasSetWorkspace);
        static final MethodHandle cublasGetStatusString = bind(CublasFunctions.cublasGetStatusString);
        static final MethodHandle cublasSgemm = bind(CublasFunctions.cublasSgemm);
        static final MethodHandle cublasDgemm = bind(CublasFunctions.cublasDgemm);
        static final MethodHandle cublasGemmEx = bind(CublasFunctions.cublasGemmEx);
        static final MethodHandle cublasGemmStridedBatchedEx = bind(CublasFunctions.cublasGemmStridedBatchedEx);

        private static MethodHandle bind(NativeFunction function) {
            return function.bind(NativeLibrary.CUBLAS, CudaException.Api.CUBLAS);
        }
    }

    /** The symbolic name of a cuBLAS status, for example {@code CUBLAS_STATUS_INVALID_VALUE}. */
    public static String statusName(int status) {
        return STATUS_NAMES.getOrDefault(status, "CUBLAS_STATUS_UNKNOWN_" + status);
    }

    /** cuBLAS's text for a status (our own when the library cannot say). */
    public static String statusString(int status) {
        try {
            String text = NativeSupport.cString((MemorySegment) H.cublasGetStatusString.invokeExact(status));
            if (text != null && !text.isBlank()) {
                return text;
            }
        } catch (Throwable t) {
            // Fall through to our own words.
        }
        return STATUS_TEXTS.getOrDefault(status, "unrecognised cuBLAS status " + status);
    }

    private static void check(int status, NativeFunction function) {
        if (status != 0) {
            throw new CudaException(CudaException.Api.CUBLAS, function.symbol(), status, statusName(status),
                    statusString(status));
        }
    }

    /** The loaded cuBLAS version as major * 10000 + minor * 100 + patch (130000 for 13.0.0). */
    public static int version() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(JAVA_INT);
            int[] parts = new int[3];
            int[] properties = {MAJOR_VERSION, MINOR_VERSION, PATCH_LEVEL};
            for (int i = 0; i < 3; i++) {
                check((int) H.cublasGetProperty.invokeExact(properties[i], value), CublasFunctions.cublasGetProperty);
                parts[i] = value.get(JAVA_INT, 0);
            }
            return parts[0] * 10000 + parts[1] * 100 + parts[2];
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** Creates a handle bound to the current context, in host pointer mode. */
    public static long create() {
        long handle;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            check((int) H.cublasCreate.invokeExact(out), CublasFunctions.cublasCreate);
            handle = out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        try {
            check((int) H.cublasSetPointerMode.invokeExact(handle, POINTER_MODE_HOST),
                    CublasFunctions.cublasSetPointerMode);
        } catch (Throwable t) {
            destroy(handle);
            throw NativeSupport.rethrow(t);
        }
        return handle;
    }

    /** Destroys a handle, after the work it queued has finished. */
    public static void destroy(long handle) {
        int status;
        try {
            status = (int) H.cublasDestroy.invokeExact(handle);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, CublasFunctions.cublasDestroy);
    }

    /** Routes the handle's future work to a stream (0 for the legacy default stream). */
    public static void setStream(long handle, long stream) {
        int status;
        try {
            status = (int) H.cublasSetStream.invokeExact(handle, stream);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, CublasFunctions.cublasSetStream);
    }

    /** Sets the math mode: {@link #DEFAULT_MATH}, {@link #TF32_TENSOR_OP_MATH} or {@link #PEDANTIC_MATH}. */
    public static void setMathMode(long handle, int mode) {
        int status;
        try {
            status = (int) H.cublasSetMathMode.invokeExact(handle, mode);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, CublasFunctions.cublasSetMathMode);
    }

    /**
     * Gives cuBLAS a workspace in device memory (the caller keeps it alive while the handle may
     * use it). Needed for graph capture, where cuBLAS must not allocate.
     */
    public static void setWorkspace(long handle, long workspace, long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("setWorkspace: byte count " + bytes + " is negative");
        }
        int status;
        try {
            status = (int) H.cublasSetWorkspace.invokeExact(handle, workspace, bytes);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, CublasFunctions.cublasSetWorkspace);
    }

    /** C = alpha * op(A) * op(B) + beta * C in float32 (column-major; op(A) is m x k, op(B) k x n). */
    public static void sgemm(long handle, int transA, int transB, int m, int n, int k,
                             float alpha, long a, int lda, long b, int ldb, float beta, long c, int ldc) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment alphaPtr = arena.allocateFrom(JAVA_FLOAT, alpha);
            MemorySegment betaPtr = arena.allocateFrom(JAVA_FLOAT, beta);
            check((int) H.cublasSgemm.invokeExact(handle, transA, transB, m, n, k,
                    alphaPtr, a, lda, b, ldb, betaPtr, c, ldc), CublasFunctions.cublasSgemm);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** C = alpha * op(A) * op(B) + beta * C in float64 (column-major). */
    public static void dgemm(long handle, int transA, int transB, int m, int n, int k,
                             double alpha, long a, int lda, long b, int ldb, double beta, long c, int ldc) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment alphaPtr = arena.allocateFrom(JAVA_DOUBLE, alpha);
            MemorySegment betaPtr = arena.allocateFrom(JAVA_DOUBLE, beta);
            check((int) H.cublasDgemm.invokeExact(handle, transA, transB, m, n, k,
                    alphaPtr, a, lda, b, ldb, betaPtr, c, ldc), CublasFunctions.cublasDgemm);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /**
     * Mixed-precision GEMM: matrices of data types {@link #R_32F}, {@link #R_16F},
     * {@link #R_16BF}, ... computed with a compute type such as {@link #COMPUTE_32F} or
     * {@link #COMPUTE_32F_FAST_TF32}. {@code alpha} and {@code beta} are converted to the
     * scalar type the compute type calls for (double for 64F, half for 16F, int for 32I,
     * float otherwise). {@code algo} is usually {@link #GEMM_DEFAULT}.
     */
    public static void gemmEx(long handle, int transA, int transB, int m, int n, int k, double alpha,
                              long a, int aType, int lda, long b, int bType, int ldb, double beta,
                              long c, int cType, int ldc, int computeType, int algo) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment alphaPtr = scalar(arena, computeType, alpha);
            MemorySegment betaPtr = scalar(arena, computeType, beta);
            check((int) H.cublasGemmEx.invokeExact(handle, transA, transB, m, n, k, alphaPtr,
                    a, aType, lda, b, bType, ldb, betaPtr, c, cType, ldc, computeType, algo),
                    CublasFunctions.cublasGemmEx);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /**
     * {@link #gemmEx} over a batch: matrix i of A starts {@code strideA} elements after matrix i-1,
     * and likewise for B and C.
     */
    public static void gemmStridedBatchedEx(long handle, int transA, int transB, int m, int n, int k, double alpha,
                                            long a, int aType, int lda, long strideA,
                                            long b, int bType, int ldb, long strideB, double beta,
                                            long c, int cType, int ldc, long strideC,
                                            int batchCount, int computeType, int algo) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment alphaPtr = scalar(arena, computeType, alpha);
            MemorySegment betaPtr = scalar(arena, computeType, beta);
            check((int) H.cublasGemmStridedBatchedEx.invokeExact(handle, transA, transB, m, n, k, alphaPtr,
                    a, aType, lda, strideA, b, bType, ldb, strideB, betaPtr, c, cType, ldc, strideC,
                    batchCount, computeType, algo), CublasFunctions.cublasGemmStridedBatchedEx);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** A host scalar of the type cuBLAS expects for alpha/beta with this compute type. */
    private static MemorySegment scalar(Arena arena, int computeType, double value) {
        return switch (computeType) {
            case COMPUTE_64F, COMPUTE_64F + 1 -> arena.allocateFrom(JAVA_DOUBLE, value); // 64F, 64F_PEDANTIC
            case COMPUTE_16F, COMPUTE_16F + 1 -> // 16F, 16F_PEDANTIC
                    arena.allocateFrom(JAVA_SHORT, Float.floatToFloat16((float) value));
            case COMPUTE_32I, COMPUTE_32I + 1 -> arena.allocateFrom(JAVA_INT, (int) value); // 32I, 32I_PEDANTIC
            default -> arena.allocateFrom(JAVA_FLOAT, (float) value);
        };
    }
}
