package dev.ember.ffi;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The driver API on a real device: queries, contexts, memory, streams, events and errors. */
@Tag("gpu")
class DriverGpuTest {

    @BeforeAll
    static void requireCuda() {
        Assumptions.assumeTrue(Cuda.isAvailable(), Cuda.unavailableReason());
    }

    @BeforeEach
    void makeContextCurrent() {
        CudaDriver.ensureContext(0);
    }

    @Test
    void deviceQueriesDescribeARealGpu() {
        assertTrue(CudaDriver.driverVersion() >= Cuda.MIN_DRIVER_VERSION);
        assertTrue(CudaDriver.deviceCount() >= 1);
        int dev = CudaDriver.deviceGet(0);
        assertFalse(CudaDriver.deviceName(dev).isBlank());
        long total = CudaDriver.deviceTotalMem(dev);
        assertTrue(total > (1L << 30), "total memory " + total);
        assertTrue(CudaDriver.deviceAttribute(CudaDriver.DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev) >= 5);
        assertTrue(CudaDriver.deviceAttribute(CudaDriver.DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev) >= 0);
        assertEquals(32, CudaDriver.deviceAttribute(CudaDriver.DEVICE_ATTRIBUTE_WARP_SIZE, dev));
        assertTrue(CudaDriver.deviceAttribute(CudaDriver.DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev) > 0);
        assertEquals(1024, CudaDriver.deviceAttribute(CudaDriver.DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, dev));
        long[] info = CudaDriver.memGetInfo();
        assertTrue(info[0] > 0 && info[0] <= info[1], "free " + info[0] + ", total " + info[1]);
        assertEquals(total, info[1]);
    }

    @Test
    void contextsAreRetainedOnceAndMadeCurrent() {
        long ctx = CudaDriver.ensureContext(0);
        assertTrue(ctx != 0);
        assertEquals(ctx, CudaDriver.ctxGetCurrent());
        assertEquals(ctx, CudaDriver.ensureContext(0));
        CudaDriver.ctxSetCurrent(0);
        assertEquals(0, CudaDriver.ctxGetCurrent());
        assertEquals(ctx, CudaDriver.ensureContext(0));
        assertEquals(ctx, CudaDriver.ctxGetCurrent());
        // An extra retain of the same primary context, released again.
        int dev = CudaDriver.deviceGet(0);
        assertEquals(ctx, CudaDriver.primaryCtxRetain(dev));
        CudaDriver.primaryCtxRelease(dev);
        CudaDriver.ctxSynchronize();
    }

    @Test
    void aNewThreadGetsTheSameContext() throws Exception {
        long ctx = CudaDriver.ensureContext(0);
        long[] seen = new long[2];
        Thread thread = new Thread(() -> {
            seen[0] = CudaDriver.ctxGetCurrent();
            seen[1] = CudaDriver.ensureContext(0);
        });
        thread.start();
        thread.join();
        assertEquals(0, seen[0], "a fresh thread has no current context");
        assertEquals(ctx, seen[1]);
    }

    @Test
    void synchronousCopiesRoundTripRandomBytes() {
        Random random = new Random(11);
        for (int size : new int[] {1, 4093, 1 << 20}) {
            byte[] data = new byte[size];
            random.nextBytes(data);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment host = arena.allocateFrom(JAVA_BYTE, data);
                MemorySegment back = arena.allocate(size);
                long a = CudaDriver.memAlloc(size);
                long b = CudaDriver.memAlloc(size);
                try {
                    CudaDriver.memcpyHtoD(a, host, size);
                    CudaDriver.memcpyDtoD(b, a, size);
                    CudaDriver.ctxSynchronize();
                    CudaDriver.memcpyDtoH(back, b, size);
                    assertArrayEquals(data, back.toArray(JAVA_BYTE), "size " + size);
                } finally {
                    CudaDriver.memFree(a);
                    CudaDriver.memFree(b);
                }
            }
        }
    }

    @Test
    void asyncCopiesAndMemsetsThroughPinnedMemory() {
        int size = 3 * 1024 * 1024 + 12;
        long stream = CudaDriver.streamCreate(CudaDriver.STREAM_NON_BLOCKING);
        MemorySegment pinned = CudaDriver.memAllocHost(size);
        MemorySegment pinnedBack = CudaDriver.memAllocHost(size);
        long a = CudaDriver.memAlloc(size);
        long b = CudaDriver.memAlloc(size);
        try {
            assertEquals(size, pinned.byteSize());
            byte[] data = new byte[size];
            new Random(12).nextBytes(data);
            MemorySegment.copy(data, 0, pinned, JAVA_BYTE, 0, size);
            CudaDriver.memcpyHtoDAsync(a, pinned, size, stream);
            CudaDriver.memcpyDtoDAsync(b, a, size, stream);
            CudaDriver.memcpyDtoHAsync(pinnedBack, b, size, stream);
            CudaDriver.streamSynchronize(stream);
            assertTrue(CudaDriver.streamQuery(stream));
            assertArrayEquals(data, pinnedBack.toArray(JAVA_BYTE));

            CudaDriver.memsetD8Async(a, (byte) 0xA5, size, stream);
            CudaDriver.memsetD32Async(b, 0x12345678, size / 4, stream);
            CudaDriver.memcpyDtoHAsync(pinned, a, size, stream);
            CudaDriver.memcpyDtoHAsync(pinnedBack, b, size, stream);
            CudaDriver.streamSynchronize(stream);
            for (int i = 0; i < size; i += 4099) {
                assertEquals((byte) 0xA5, pinned.get(JAVA_BYTE, i));
            }
            for (int i = 0; i < size / 4; i += 1021) {
                assertEquals(0x12345678, pinnedBack.getAtIndex(JAVA_INT.withByteAlignment(1), i));
            }

            CudaDriver.memsetD8(a, (byte) 3, 16);
            CudaDriver.memsetD32(a, 7, 4);
            CudaDriver.memcpyDtoH(pinned, a, 16);
            assertEquals(7, pinned.get(JAVA_INT, 12));
        } finally {
            CudaDriver.memFree(a);
            CudaDriver.memFree(b);
            CudaDriver.memFreeHost(pinned);
            CudaDriver.memFreeHost(pinnedBack);
            CudaDriver.streamDestroy(stream);
        }
    }

    @Test
    void streamsAndEventsOrderAndTimeWork() {
        int[] range = CudaDriver.streamPriorityRange();
        assertTrue(range[1] <= range[0], "greatest priority " + range[1] + " is numerically <= least " + range[0]);
        long first = CudaDriver.streamCreateWithPriority(CudaDriver.STREAM_NON_BLOCKING, range[1]);
        long second = CudaDriver.streamCreate(CudaDriver.STREAM_DEFAULT);
        long start = CudaDriver.eventCreate(CudaDriver.EVENT_DEFAULT);
        long end = CudaDriver.eventCreate(CudaDriver.EVENT_DEFAULT);
        long done = CudaDriver.eventCreate(CudaDriver.EVENT_DISABLE_TIMING);
        long bytes = 64L << 20;
        long buffer = CudaDriver.memAlloc(bytes);
        try {
            assertTrue(CudaDriver.eventQuery(done), "a never-recorded event counts as complete");
            CudaDriver.eventRecord(start, first);
            for (int i = 0; i < 8; i++) {
                CudaDriver.memsetD8Async(buffer, (byte) i, bytes, first);
            }
            CudaDriver.eventRecord(end, first);
            CudaDriver.eventRecord(done, first);
            CudaDriver.streamWaitEvent(second, done);
            CudaDriver.memsetD32Async(buffer, 42, 1, second);
            CudaDriver.streamSynchronize(second);
            assertTrue(CudaDriver.eventQuery(done), "second waited for first");
            CudaDriver.eventSynchronize(end);
            float ms = CudaDriver.eventElapsedTime(start, end);
            assertTrue(ms > 0 && ms < 10_000, "elapsed " + ms + " ms");
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment word = arena.allocate(JAVA_INT);
                CudaDriver.memcpyDtoH(word, buffer, 4);
                assertEquals(42, word.get(JAVA_INT, 0), "the waiting stream's write came last");
            }
        } finally {
            CudaDriver.memFree(buffer);
            CudaDriver.eventDestroy(start);
            CudaDriver.eventDestroy(end);
            CudaDriver.eventDestroy(done);
            CudaDriver.streamDestroy(first);
            CudaDriver.streamDestroy(second);
        }
    }

    @Test
    void failuresNameTheCallTheErrorAndItsText() {
        CudaException oom = assertThrows(CudaException.class, () -> CudaDriver.memAlloc(1L << 50));
        assertTrue(oom.isOutOfMemory(), oom.getMessage());
        assertEquals("cuMemAlloc_v2", oom.call());
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", oom.errorName());
        assertFalse(oom.errorText().isBlank());

        CudaException badImage = assertThrows(CudaException.class, () -> CudaDriver.moduleLoadData(
                ".version 7.0\n.target sm_50\n.address_size 64\nthis is not ptx\n".getBytes(StandardCharsets.US_ASCII)));
        assertEquals("cuModuleLoadDataEx", badImage.call());
        assertTrue(badImage.errorName().startsWith("CUDA_ERROR_"), badImage.getMessage());

        assertEquals("CUDA_ERROR_NOT_READY", CudaDriver.errorName(CudaDriver.CUDA_ERROR_NOT_READY));
        assertFalse(CudaDriver.errorString(CudaDriver.CUDA_ERROR_OUT_OF_MEMORY).isBlank());
    }
}
