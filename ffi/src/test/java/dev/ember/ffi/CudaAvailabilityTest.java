package dev.ember.ffi;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Availability checks and failure reporting that must behave on any machine, GPU or not. */
class CudaAvailabilityTest {

    @Test
    void availabilityNeverThrowsAndExplainsItself() {
        boolean available = assertDoesNotThrow(Cuda::isAvailable);
        String reason = assertDoesNotThrow(Cuda::unavailableReason);
        assertNotNull(reason);
        assertEquals(available, reason.isEmpty(), "isAvailable and unavailableReason disagree: '" + reason + "'");
        assertEquals(available, Cuda.isAvailable(), "the answer changed between calls");
        if (!NativeLibrary.CUDA_DRIVER.isAvailable()) {
            assertFalse(available);
            assertTrue(reason.startsWith("no CUDA driver"), reason);
            assertTrue(reason.contains("libcuda.so.1"), reason);
        }
    }

    @Test
    void describeNeverThrows() {
        String report = assertDoesNotThrow(Cuda::describe);
        assertTrue(report.startsWith("CUDA driver: "), report);
        assertTrue(report.contains("cuBLAS: "), report);
        assertTrue(report.contains("cuDNN: "), report);
        assertTrue(report.contains("NVRTC: "), report);
    }

    @Test
    void withoutADriverEveryCallFailsWithTheSearchReportNotAClassLoadingError() {
        Assumptions.assumeFalse(NativeLibrary.CUDA_DRIVER.isAvailable(), "a driver is installed here");
        for (int attempt = 0; attempt < 2; attempt++) {
            // Twice: the second call must not become a NoClassDefFoundError.
            NativeLibraryNotFoundException e = assertThrows(NativeLibraryNotFoundException.class, CudaDriver::deviceCount);
            assertTrue(e.getMessage().contains("libcuda.so.1"), e.getMessage());
            assertFalse(e.searched().isEmpty());
        }
        assertThrows(NativeLibraryNotFoundException.class, () -> CudaDriver.memAlloc(16));
        assertEquals("CUDA_ERROR_UNKNOWN_CODE_2", CudaDriver.errorName(2), "names need the driver; the fallback says so");
    }

    @Test
    void formatVersionReadsLikeNvidiaSmi() {
        assertEquals("12.0", Cuda.formatVersion(12000));
        assertEquals("12.4", Cuda.formatVersion(12040));
        assertEquals("13.0", Cuda.formatVersion(13000));
    }

    @Test
    void exceptionsCarryEveryPart() {
        CudaException e = new CudaException(CudaException.Api.DRIVER, "cuMemAlloc_v2", 2,
                "CUDA_ERROR_OUT_OF_MEMORY", "out of memory");
        assertEquals("cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory [CUDA driver]", e.getMessage());
        assertEquals("cuMemAlloc_v2", e.call());
        assertEquals(2, e.code());
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", e.errorName());
        assertEquals("out of memory", e.errorText());
        assertTrue(e.isOutOfMemory());
        assertFalse(new CudaException(CudaException.Api.CUBLAS, "cublasCreate_v2", 2, "X", "y").isOutOfMemory());
    }

    @Test
    void hostBuffersAreCheckedBeforeAnyNativeCall() {
        // Checked in Java, so these fail the same way with or without a driver.
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            var small = arena.allocate(16);
            assertThrows(IndexOutOfBoundsException.class, () -> CudaDriver.memcpyHtoD(0, small, 17));
            assertThrows(IndexOutOfBoundsException.class, () -> CudaDriver.memcpyDtoHAsync(small, 0, 32, 0));
            assertThrows(IllegalArgumentException.class, () -> CudaDriver.memcpyDtoH(small, 0, -1));
            var heap = java.lang.foreign.MemorySegment.ofArray(new byte[16]);
            assertThrows(IllegalArgumentException.class, () -> CudaDriver.memcpyHtoD(0, heap, 16));
            assertThrows(IllegalArgumentException.class,
                    () -> CudaDriver.launchKernel(0, 0, 1, 1, 1, 1, 1, 0, 0, java.lang.foreign.MemorySegment.NULL));
        }
    }
}
