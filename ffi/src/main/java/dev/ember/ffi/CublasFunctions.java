package dev.ember.ffi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The table of every cuBLAS function {@link Cublas} binds, checked against cuBLAS's
 * {@code cublas_api.h} (CUDA 12 and 13). Status-returning functions return
 * {@code cublasStatus_t} (an enum, {@code int}); the handle, the stream and device matrices
 * are bound as {@code long}; host scalars ({@code alpha}, {@code beta}) as {@code ADDRESS}.
 * cuBLAS exports the v2 API under {@code _v2} names where {@code cublas_v2.h} defines them.
 */
final class CublasFunctions {

    private static final List<NativeFunction> ALL_FUNCTIONS = new ArrayList<>();

    /** Every binding, in declaration order. */
    static final List<NativeFunction> ALL = Collections.unmodifiableList(ALL_FUNCTIONS);

    private static final MemoryLayout STATUS = JAVA_INT; // cublasStatus_t
    private static final MemoryLayout HANDLE = JAVA_LONG; // cublasHandle_t, cudaStream_t
    private static final MemoryLayout DEVPTR = JAVA_LONG; // matrices and workspace in device memory
    private static final MemoryLayout INT = JAVA_INT; // int and enums
    private static final MemoryLayout STRIDE = JAVA_LONG; // long long int
    private static final MemoryLayout SIZE = JAVA_LONG; // size_t
    private static final MemoryLayout PTR = ADDRESS; // host pointers

    static final NativeFunction cublasCreate = fn("cublasCreate_v2", PTR);
    static final NativeFunction cublasDestroy = fn("cublasDestroy_v2", HANDLE);
    static final NativeFunction cublasGetProperty = fn("cublasGetProperty", INT, PTR);
    static final NativeFunction cublasSetStream = fn("cublasSetStream_v2", HANDLE, HANDLE);
    static final NativeFunction cublasSetMathMode = fn("cublasSetMathMode", HANDLE, INT);
    static final NativeFunction cublasSetPointerMode = fn("cublasSetPointerMode_v2", HANDLE, INT);
    static final NativeFunction cublasSetWorkspace = fn("cublasSetWorkspace_v2", HANDLE, DEVPTR, SIZE);
    // const char* cublasGetStatusString(cublasStatus_t): a table look-up, never blocks.
    static final NativeFunction cublasGetStatusString = register(new NativeFunction("cublasGetStatusString",
            List.of(), FunctionDescriptor.of(ADDRESS, INT), true));

    static final NativeFunction cublasSgemm = fn("cublasSgemm_v2",
            HANDLE, INT, INT, INT, INT, INT, PTR, DEVPTR, INT, DEVPTR, INT, PTR, DEVPTR, INT);
    static final NativeFunction cublasDgemm = fn("cublasDgemm_v2",
            HANDLE, INT, INT, INT, INT, INT, PTR, DEVPTR, INT, DEVPTR, INT, PTR, DEVPTR, INT);
    static final NativeFunction cublasGemmEx = fn("cublasGemmEx",
            HANDLE, INT, INT, INT, INT, INT, PTR,
            DEVPTR, INT, INT,
            DEVPTR, INT, INT,
            PTR,
            DEVPTR, INT, INT,
            INT, INT);
    static final NativeFunction cublasGemmStridedBatchedEx = fn("cublasGemmStridedBatchedEx",
            HANDLE, INT, INT, INT, INT, INT, PTR,
            DEVPTR, INT, INT, STRIDE,
            DEVPTR, INT, INT, STRIDE,
            PTR,
            DEVPTR, INT, INT, STRIDE,
            INT, INT, INT);

    private CublasFunctions() {
    }

    private static NativeFunction fn(String symbol, MemoryLayout... args) {
        return register(new NativeFunction(symbol, List.of(), FunctionDescriptor.of(STATUS, args), false));
    }

    private static NativeFunction register(NativeFunction function) {
        ALL_FUNCTIONS.add(function);
        return function;
    }
}
