package dev.ember.ffi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * NVRTC to PTX and CUBIN, loaded with cuModuleLoadData and launched; the same launch
 * captured into a CUDA graph and replayed.
 */
@Tag("gpu")
class KernelLaunchGpuTest {

    private static final int N = 1000; // deliberately not a multiple of the block size
    private static final int BLOCK = 256;
    private static final float A = 2.5f;

    private DeviceBuffers buffers;
    private float[] x;
    private float[] y0;
    private long xDev;
    private long yDev;
    private long stream;

    @BeforeAll
    static void requireCudaAndNvrtc() {
        Assumptions.assumeTrue(Cuda.isAvailable(), Cuda.unavailableReason());
        Assumptions.assumeTrue(NativeLibrary.NVRTC.isAvailable(), NativeLibrary.NVRTC.describe());
    }

    @BeforeEach
    void setUp() {
        CudaDriver.ensureContext(0);
        buffers = new DeviceBuffers();
        Random random = new Random(3);
        x = DeviceBuffers.randomFloats(random, N);
        y0 = DeviceBuffers.randomFloats(random, N);
        xDev = buffers.upload(x);
        yDev = buffers.upload(y0);
        stream = CudaDriver.streamCreate(CudaDriver.STREAM_NON_BLOCKING);
    }

    @AfterEach
    void tearDown() {
        if (stream != 0) {
            CudaDriver.streamSynchronize(stream);
            CudaDriver.streamDestroy(stream);
        }
        if (buffers != null) {
            buffers.close();
        }
    }

    /** The device's compute capability as "90" for 9.0. */
    private static String arch() {
        int dev = CudaDriver.deviceGet(0);
        return CudaDriver.deviceAttribute(CudaDriver.DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev) + ""
                + CudaDriver.deviceAttribute(CudaDriver.DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
    }

    private void launchSaxpy(long function, long onStream) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = new KernelArgs(arena).addInt(N).addFloat(A).addPointer(xDev).addPointer(yDev).build();
            CudaDriver.launchKernel(function, (N + BLOCK - 1) / BLOCK, 1, 1, BLOCK, 1, 1, 0, onStream, params);
        }
    }

    /** y after `times` applications of y = a * x + y, in float with fused multiply-add as the GPU does. */
    private double[] expectedAfter(int times) {
        double[] expected = new double[N];
        for (int i = 0; i < N; i++) {
            float y = y0[i];
            for (int t = 0; t < times; t++) {
                y = Math.fma(A, x[i], y);
            }
            expected[i] = y;
        }
        return expected;
    }

    private void assertY(int times) {
        double[] scale = new double[N];
        for (int i = 0; i < N; i++) {
            scale[i] = Math.abs(y0[i]) + times * Math.abs(A * x[i]);
        }
        DeviceBuffers.assertClose("y after " + times + " saxpy", expectedAfter(times), scale,
                DeviceBuffers.toDoubles(DeviceBuffers.downloadFloats(yDev, N)), 1e-6);
    }

    @Test
    void ptxFromNvrtcLoadsAndRuns() {
        byte[] ptx = Nvrtc.compileToPtx(LoadedLibrariesTest.SAXPY, "saxpy.cu", "--gpu-architecture=compute_" + arch());
        long module = CudaDriver.moduleLoadData(ptx);
        try {
            long saxpy = CudaDriver.moduleGetFunction(module, "saxpy");
            assertTrue(CudaDriver.funcGetAttribute(CudaDriver.FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, saxpy) >= BLOCK);
            assertTrue(CudaDriver.funcGetAttribute(CudaDriver.FUNC_ATTRIBUTE_NUM_REGS, saxpy) > 0);
            assertTrue(CudaDriver.occupancyMaxActiveBlocksPerMultiprocessor(saxpy, BLOCK, 0) >= 1);
            CudaDriver.funcSetAttribute(saxpy, CudaDriver.FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 0);
            launchSaxpy(saxpy, stream);
            CudaDriver.streamSynchronize(stream);
            assertY(1);
            CudaException missing = assertThrows(CudaException.class,
                    () -> CudaDriver.moduleGetFunction(module, "no_such_kernel"));
            assertTrue(missing.errorText().contains("no_such_kernel"), missing.getMessage());
        } finally {
            CudaDriver.moduleUnload(module);
        }
    }

    @Test
    void cubinFromNvrtcLoadsFromASegmentAndRuns() {
        byte[] cubin = Nvrtc.compileToCubin(LoadedLibrariesTest.SAXPY, "saxpy.cu", "--gpu-architecture=sm_" + arch());
        long module;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment image = arena.allocate(cubin.length, 16);
            MemorySegment.copy(MemorySegment.ofArray(cubin), 0, image, 0, cubin.length);
            module = CudaDriver.moduleLoadData(image);
        }
        try {
            launchSaxpy(CudaDriver.moduleGetFunction(module, "saxpy"), 0);
            CudaDriver.ctxSynchronize();
            assertY(1);
        } finally {
            CudaDriver.moduleUnload(module);
        }
    }

    @Test
    void aCapturedLaunchReplaysAsAGraph() {
        byte[] ptx = Nvrtc.compileToPtx(LoadedLibrariesTest.SAXPY, "saxpy.cu", "--gpu-architecture=compute_" + arch());
        long module = CudaDriver.moduleLoadData(ptx);
        long graph = 0;
        long exec = 0;
        try {
            long saxpy = CudaDriver.moduleGetFunction(module, "saxpy");
            assertEquals(CudaDriver.STREAM_CAPTURE_STATUS_NONE, CudaDriver.streamIsCapturing(stream));
            CudaDriver.streamBeginCapture(stream, CudaDriver.STREAM_CAPTURE_MODE_GLOBAL);
            assertEquals(CudaDriver.STREAM_CAPTURE_STATUS_ACTIVE, CudaDriver.streamIsCapturing(stream));
            launchSaxpy(saxpy, stream); // recorded, not run
            graph = CudaDriver.streamEndCapture(stream);
            assertEquals(CudaDriver.STREAM_CAPTURE_STATUS_NONE, CudaDriver.streamIsCapturing(stream));
            CudaDriver.streamSynchronize(stream);
            assertY(0);

            exec = CudaDriver.graphInstantiate(graph);
            for (int i = 0; i < 3; i++) {
                CudaDriver.graphLaunch(exec, stream);
            }
            CudaDriver.streamSynchronize(stream);
            assertY(3);
        } finally {
            if (exec != 0) {
                CudaDriver.graphExecDestroy(exec);
            }
            if (graph != 0) {
                CudaDriver.graphDestroy(graph);
            }
            CudaDriver.moduleUnload(module);
        }
    }
}
