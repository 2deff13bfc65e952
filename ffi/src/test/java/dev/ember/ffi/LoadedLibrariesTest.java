package dev.ember.ffi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Calls into cuBLAS, cuDNN and NVRTC that need no GPU and no driver: versions, status names,
 * and NVRTC compiling to PTX and CUBIN. Each test is skipped where its library is not installed
 * (point EMBER_LIBCUBLAS / EMBER_LIBCUDNN / EMBER_LIBNVRTC or VIRTUAL_ENV at one to run it).
 */
class LoadedLibrariesTest {

    static final String SAXPY = """
            extern "C" __global__ void saxpy(int n, float a, const float *x, float *y) {
                int i = blockIdx.x * blockDim.x + threadIdx.x;
                if (i < n) {
                    y[i] = a * x[i] + y[i];
                }
            }
            """;

    @Test
    void cublasReportsItsVersionAndStatusNames() {
        Assumptions.assumeTrue(NativeLibrary.CUBLAS.isAvailable(), NativeLibrary.CUBLAS.describe());
        int version = Cublas.version();
        assertTrue(version >= 120000 && version < 140000, "cuBLAS version " + version);
        assertEquals("CUBLAS_STATUS_INVALID_VALUE", Cublas.statusName(7));
        assertTrue(!Cublas.statusString(7).isBlank());
        assertEquals("CUBLAS_STATUS_UNKNOWN_99", Cublas.statusName(99));
    }

    @Test
    void cudnnReportsItsVersionAndStatusNames() {
        Assumptions.assumeTrue(NativeLibrary.CUDNN.isAvailable(), NativeLibrary.CUDNN.describe());
        long version = Cudnn.version();
        assertTrue(version >= 90000 && version < 100000, "cuDNN version " + version);
        assertEquals("CUDNN_STATUS_BAD_PARAM", Cudnn.statusName(2000));
        assertEquals("CUDNN_STATUS_SUCCESS", Cudnn.statusName(0));
    }

    @Test
    void nvrtcCompilesCudaToPtxAndCubin() {
        Assumptions.assumeTrue(NativeLibrary.NVRTC.isAvailable(), NativeLibrary.NVRTC.describe());
        int[] version = Nvrtc.version();
        assertTrue(version[0] >= 12, "NVRTC " + version[0] + "." + version[1]);

        byte[] ptx = Nvrtc.compileToPtx(SAXPY, "saxpy.cu", "--gpu-architecture=compute_80");
        assertEquals(0, ptx[ptx.length - 1], "PTX must end with its NUL for cuModuleLoadData");
        String text = new String(ptx, 0, ptx.length - 1, StandardCharsets.US_ASCII);
        assertTrue(text.contains(".visible .entry saxpy("), text);
        assertTrue(text.contains(".target sm_80"), text);

        byte[] cubin = Nvrtc.compileToCubin(SAXPY, "saxpy.cu", "--gpu-architecture=sm_80");
        assertTrue(cubin.length > 64);
        assertEquals(0x7f, cubin[0]); // an ELF image
        assertEquals('E', cubin[1]);
    }

    @Test
    void nvrtcCompileErrorsCarryTheLog() {
        Assumptions.assumeTrue(NativeLibrary.NVRTC.isAvailable(), NativeLibrary.NVRTC.describe());
        CudaException e = assertThrows(CudaException.class,
                () -> Nvrtc.compileToPtx("extern \"C\" __global__ void broken(float *x) { x[0] = undeclared; }",
                        "broken.cu", "--gpu-architecture=compute_80"));
        assertEquals(CudaException.Api.NVRTC, e.api());
        assertEquals(Nvrtc.NVRTC_ERROR_COMPILATION, e.code());
        assertEquals("NVRTC_ERROR_COMPILATION", e.errorName());
        assertTrue(e.errorText().contains("undeclared"), e.errorText());
        assertTrue(e.errorText().contains("broken.cu"), e.errorText());
    }

    @Test
    void nvrtcLowersTemplateNames() {
        Assumptions.assumeTrue(NativeLibrary.NVRTC.isAvailable(), NativeLibrary.NVRTC.describe());
        long program = Nvrtc.createProgram("""
                #include "scale.h"
                template <typename T> __global__ void scale(T *x, T a) { x[threadIdx.x] *= a * FACTOR; }
                """, "scale.cu", java.util.Map.of("scale.h", "#define FACTOR 2\n"));
        try {
            Nvrtc.addNameExpression(program, "scale<float>");
            Nvrtc.compileProgram(program, "--gpu-architecture=compute_80");
            String lowered = Nvrtc.getLoweredName(program, "scale<float>");
            assertTrue(lowered.startsWith("_Z"), lowered);
            assertTrue(new String(Nvrtc.getPTX(program), StandardCharsets.US_ASCII).contains(lowered));
            assertEquals("", Nvrtc.getProgramLog(program).strip());
        } finally {
            Nvrtc.destroyProgram(program);
        }
    }
}
