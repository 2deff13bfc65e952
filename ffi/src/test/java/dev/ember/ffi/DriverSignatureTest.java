package dev.ember.ffi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every driver-API binding against the prototypes in cuda.h: argument count, and each
 * argument's width and register class, after cuda.h's own macros have renamed the API to
 * the exported symbols. Runs without a GPU; skipped only where cuda.h is absent.
 */
class DriverSignatureTest {

    private static CHeader cudaH;

    @BeforeAll
    static void parseCudaHeader() throws IOException {
        Path header = cudaHeader();
        Assumptions.assumeTrue(Files.isRegularFile(header), "no cuda.h at " + header + " (set CUDA_HOME)");
        cudaH = CHeader.parse(List.of(header), CHeader.LINUX_X86_64_GCC);
    }

    static Path cudaHeader() {
        String home = System.getenv("CUDA_HOME");
        return Path.of(home != null && !home.isBlank() ? home : "/usr/local/cuda", "include", "cuda.h");
    }

    @Test
    void everyDriverBindingMatchesCudaH() {
        List<String> problems = new ArrayList<>();
        for (NativeFunction function : DriverFunctions.ALL) {
            // Every name the binding may use and the header declares must match; an older header
            // may lack the preferred symbol (cuEventElapsedTime_v2 arrived in 12.8) but then must
            // declare a fallback.
            boolean declared = false;
            for (String name : function.names()) {
                var prototype = cudaH.prototype(name);
                if (prototype.isPresent()) {
                    declared = true;
                    problems.addAll(SignatureCheck.compare(name, function.descriptor(), prototype.get()));
                }
            }
            if (!declared) {
                problems.add(String.join(" / ", function.names()) + ": no prototype in cuda.h");
            }
        }
        if (!problems.isEmpty()) {
            fail(problems.size() + " binding(s) disagree with " + cudaHeader() + ":\n  " + String.join("\n  ", problems));
        }
    }

    @Test
    void bindingsUseTheExportedSymbolsNotTheApiMacros() {
        // cuda.h #defines cuMemAlloc as cuMemAlloc_v2 and so on; binding the macro's name would
        // bind the old, differently-typed entry point. Fallbacks are deliberately older names.
        List<String> macroNames = new ArrayList<>();
        for (NativeFunction function : DriverFunctions.ALL) {
            if (cudaH.isMacro(function.symbol())) {
                macroNames.add(function.symbol());
            }
        }
        assertTrue(macroNames.isEmpty(), "bound under a name cuda.h redefines: " + macroNames);
    }

    @Test
    void everyBindingIsListedOnceAndReturnsCuResult() {
        Set<String> seen = new HashSet<>();
        for (NativeFunction function : DriverFunctions.ALL) {
            assertTrue(seen.add(function.symbol()), "listed twice: " + function.symbol());
            assertEquals(JAVA_INT, function.descriptor().returnLayout().orElseThrow(), function.symbol());
        }
        assertTrue(DriverFunctions.ALL.size() >= 50, "the table lost entries: " + DriverFunctions.ALL.size());
    }

    @Test
    void theParserSeesTheWholeHeader() {
        assertTrue(cudaH.prototypeCount() > 400, "only " + cudaH.prototypeCount() + " prototypes parsed");
        var alloc = cudaH.prototype("cuMemAlloc_v2").orElseThrow();
        assertEquals(List.of(CHeader.Kind.POINTER, CHeader.Kind.INT64), alloc.params().stream().map(CHeader.Param::kind).toList());
        assertEquals(CHeader.Kind.INT32, alloc.returnKind());
        var launch = cudaH.prototype("cuLaunchKernel").orElseThrow();
        assertEquals(11, launch.params().size());
        // The legacy block gives the pre-12.8 cuEventElapsedTime its own prototype.
        assertTrue(cudaH.prototype("cuEventElapsedTime").isPresent());
    }

    // ------------------------------------------------------------ the check itself can fail

    @Test
    void aWrongWidthIsCaught() {
        var alloc = cudaH.prototype("cuMemAlloc_v2").orElseThrow();
        // size_t bound as a 4-byte int: the classic mistake the _v2 entry points fixed.
        List<String> problems = SignatureCheck.compare("cuMemAlloc_v2",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), alloc);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("argument 2"), problems.get(0));
    }

    @Test
    void aWrongArgumentCountIsCaught() {
        var wait = cudaH.prototype("cuStreamWaitEvent").orElseThrow();
        List<String> problems = SignatureCheck.compare("cuStreamWaitEvent",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG), wait);
        assertFalse(problems.isEmpty());
        assertTrue(problems.get(0).contains("binds 2 arguments but the header declares 3"), problems.get(0));
    }

    @Test
    void aFloatBoundAsAnIntegerIsCaught() {
        CHeader snippet = CHeader.parseText("""
                typedef unsigned long long CUdeviceptr_v2;
                typedef CUdeviceptr_v2 CUdeviceptr;
                typedef enum cudaError_enum { CUDA_SUCCESS = 0 } CUresult;
                #define CUDAAPI
                #define cuScale cuScale_v2
                CUresult CUDAAPI cuScale(CUdeviceptr p, float factor, unsigned int n);
                """, CHeader.LINUX_X86_64_GCC);
        var scale = snippet.prototype("cuScale_v2").orElseThrow();
        assertTrue(SignatureCheck.compare("cuScale_v2",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_FLOAT, JAVA_INT), scale).isEmpty());
        List<String> problems = SignatureCheck.compare("cuScale_v2",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT), scale);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("FLOAT"), problems.get(0));
    }

    @Test
    void thePreprocessorFollowsConditionsAndMacros() {
        CHeader snippet = CHeader.parseText("""
                #if defined(_WIN32)
                #define API __stdcall
                #else
                #define API
                #endif
                #define PTDS(f) f ## _ptds
                #define PLAIN(f) f
                #ifdef PER_THREAD
                #define cuCopy PTDS(cuCopy_v2)
                #else
                #define cuCopy PLAIN(cuCopy_v2)
                #endif
                #if __GNUC__ >= 4 && !defined(__cplusplus)
                typedef struct Handle_st *Handle;
                #else
                typedef int Handle;
                #endif
                int API cuCopy(Handle h, const void *src, unsigned long long bytes);
                """, CHeader.LINUX_X86_64_GCC);
        var copy = snippet.prototype("cuCopy_v2").orElseThrow();
        assertEquals(List.of(CHeader.Kind.POINTER, CHeader.Kind.POINTER, CHeader.Kind.INT64),
                copy.params().stream().map(CHeader.Param::kind).toList());
        assertTrue(snippet.prototype("cuCopy_v2_ptds").isEmpty());
    }
}
