package dev.ember.bench.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * OpenBLAS, the sgemm peer, called through Panama. Debian's {@code libopenblas0} uses 32-bit
 * integers ({@code blasint} = int), which the descriptors below assume. The library is loaded
 * only by the benchmark that uses it, so OpenBLAS's worker threads never share a JVM with an
 * Ember measurement. {@code EMBER_OPENBLAS} may name another library file.
 */
final class OpenBlas {
    static final String DEFAULT_LIBRARY = "libopenblas.so.0";

    // CBLAS enum values (cblas.h)
    private static final int ROW_MAJOR = 101;
    private static final int NO_TRANS = 111;

    private final MethodHandle sgemm;
    private final MethodHandle setNumThreads;

    private OpenBlas(SymbolLookup lib, String name) {
        Linker linker = Linker.nativeLinker();
        sgemm = linker.downcallHandle(find(lib, name, "cblas_sgemm"), FunctionDescriptor.ofVoid(
                JAVA_INT, JAVA_INT, JAVA_INT,      // order, transA, transB
                JAVA_INT, JAVA_INT, JAVA_INT,      // M, N, K
                JAVA_FLOAT, ADDRESS, JAVA_INT,     // alpha, A, lda
                ADDRESS, JAVA_INT,                 // B, ldb
                JAVA_FLOAT, ADDRESS, JAVA_INT));   // beta, C, ldc
        setNumThreads = linker.downcallHandle(find(lib, name, "openblas_set_num_threads"),
                FunctionDescriptor.ofVoid(JAVA_INT));
    }

    /** Loads OpenBLAS or fails with a message that says how to install it. */
    static OpenBlas load() {
        String name = System.getenv().getOrDefault("EMBER_OPENBLAS", DEFAULT_LIBRARY);
        SymbolLookup lib;
        try {
            lib = SymbolLookup.libraryLookup(name, Arena.global());
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("OpenBLAS (" + name + ") could not be loaded: " + e.getMessage()
                    + ". The sgemm benchmark compares against it: apt-get install libopenblas0"
                    + " (or point EMBER_OPENBLAS at a libopenblas.so).", e);
        }
        return new OpenBlas(lib, name);
    }

    private static MemorySegment find(SymbolLookup lib, String name, String symbol) {
        return lib.find(symbol).orElseThrow(() -> new IllegalStateException(
                name + " has no symbol " + symbol + "; is it OpenBLAS? apt-get install libopenblas0"));
    }

    /** As {@code openblas_set_num_threads}. */
    void setNumThreads(int n) {
        try {
            setNumThreads.invokeExact(n);
        } catch (Throwable t) {
            throw new IllegalStateException("openblas_set_num_threads failed", t);
        }
    }

    /** C = A·B for row-major, contiguous n×n float32 matrices. */
    void sgemm(int n, MemorySegment a, MemorySegment b, MemorySegment c) {
        try {
            sgemm.invokeExact(ROW_MAJOR, NO_TRANS, NO_TRANS, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        } catch (Throwable t) {
            throw new IllegalStateException("cblas_sgemm failed", t);
        }
    }
}
