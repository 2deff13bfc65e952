package dev.ember.memory;

import dev.ember.ffi.Cuda;
import dev.ember.ffi.CudaDriver;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.abort;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The allocators, streams and events on a real device; skipped where no CUDA driver is found. */
@Tag("gpu")
class CudaMemoryGpuTest {
    private static final long KIB = 1024;
    private static final long MIB = 1024 * KIB;

    private static Device device;
    private static CachingAllocator allocator;

    /** Per test rather than per class, so that each is reported as skipped. */
    @BeforeEach
    void requireCuda() {
        assumeTrue(Cuda.isAvailable(), () -> "CUDA is not available: " + Cuda.unavailableReason());
        device = Device.cuda(0);
        allocator = CudaMemory.allocator(device);
    }

    @Test
    void reportsDeviceProperties() {
        DeviceProperties p = device.properties();
        System.out.printf("%s: %s, %s, compute capability %s, %d SMs%n", device, p.name(),
                ByteSizes.format(p.totalMemory()), p.computeCapability(), p.multiprocessorCount());
        assertTrue(!p.name().isBlank());
        assertTrue(p.totalMemory() > 0);
        assertTrue(p.computeCapability().atLeast(5, 0));
        assertTrue(p.multiprocessorCount() > 0);
        assertSame(p, device.properties(), "queried once");
        assertTrue(Device.cudaDeviceCount() >= 1);
    }

    @Test
    void allocatesFreesAndReusesInStreamOrder() {
        // Blocks cached for streams closed by earlier tests stay keyed by their handles, which the
        // driver may hand out again; start from an empty cache so the counts below are exact.
        allocator.emptyCache();
        try (Stream s1 = Stream.create(device); Stream s2 = Stream.create(device)) {
            long mallocs = allocator.stats().deviceMallocs();
            Block a = allocator.allocate(MIB + 4 * KIB, s1);
            CudaDriver.ensureContext(0);
            CudaDriver.memsetD8Async(a.address(), (byte) 7, a.requestedSize(), s1.handle());
            long address = a.address();
            allocator.free(a);
            Block again = allocator.allocate(MIB + 4 * KIB, s1);
            assertEquals(address, again.address(), "same stream: reused at once, the stream orders the uses");
            Block elsewhere = allocator.allocate(MIB + 4 * KIB, s2);
            assertNotEquals(address, elsewhere.address(), "another stream does not get it");
            assertEquals(mallocs + 2, allocator.stats().deviceMallocs());
            allocator.free(again);
            allocator.free(elsewhere);
            s1.synchronize();
            s2.synchronize();
            AllocatorInvariants.check(allocator.snapshot());
        }
    }

    @Test
    void roundTripsRandomDataThroughTheDevice() {
        int n = (int) (3 * MIB + 123);
        byte[] data = new byte[n];
        new Random(42).nextBytes(data);
        Stream legacy = Stream.defaultStream(device);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment source = arena.allocate(n);
            MemorySegment back = arena.allocate(n);
            MemorySegment.copy(data, 0, source, ValueLayout.JAVA_BYTE, 0, n);
            Block x = allocator.allocate(n, legacy);
            Block y = allocator.allocate(n, legacy);
            CudaDriver.ensureContext(0);
            CudaDriver.memcpyHtoD(x.address(), source, n);
            CudaDriver.memcpyDtoD(y.address(), x.address(), n);
            CudaDriver.memcpyDtoH(back, y.address(), n);
            assertEquals(-1, source.mismatch(back), "synchronous host -> device -> device -> host");
            allocator.free(x);
            allocator.free(y);
        }

        PinnedHostAllocator pinned = CudaMemory.pinnedHost(device);
        PinnedBlock in = pinned.allocate(n);
        PinnedBlock out = pinned.allocate(n);
        MemorySegment.copy(data, 0, in.segment(), ValueLayout.JAVA_BYTE, 0, n);
        out.segment().fill((byte) 0);
        try (Stream s = Stream.create(device)) {
            Block x = allocator.allocate(n, s);
            Block y = allocator.allocate(n, s);
            CudaDriver.ensureContext(0);
            CudaDriver.memcpyHtoDAsync(x.address(), in.segment(), n, s.handle());
            CudaDriver.memcpyDtoDAsync(y.address(), x.address(), n, s.handle());
            CudaDriver.memcpyDtoHAsync(out.segment(), y.address(), n, s.handle());
            pinned.recordStream(in, s);
            pinned.recordStream(out, s);
            allocator.free(x);
            allocator.free(y);
            s.synchronize();
            assertEquals(-1, in.segment().mismatch(out.segment()), "asynchronous copies through pinned memory");
            pinned.free(in);
            pinned.free(out);
        }
    }

    @Test
    void pinnedBlockIsNotReusedWhileACopyMayStillReadIt() {
        PinnedHostAllocator pinned = CudaMemory.pinnedHost(device);
        long n = 64 * MIB;
        try (Stream s = Stream.create(device)) {
            Block target = allocator.allocate(n, s);
            PinnedBlock staging = pinned.allocate(n);
            CudaDriver.ensureContext(0);
            for (int i = 0; i < 20; i++) {
                CudaDriver.memcpyHtoDAsync(target.address(), staging.segment(), n, s.handle());
            }
            pinned.recordStream(staging, s);
            long address = staging.address();
            pinned.free(staging);
            boolean busy = !s.query();
            PinnedBlock next = pinned.allocate(n);
            if (busy) {
                assertNotEquals(address, next.address(), "reused while the copies were still queued");
            }
            pinned.free(next);
            s.synchronize();
            PinnedBlock after = pinned.allocate(n);
            assertTrue(after.address() == address || after.address() == next.address());
            pinned.free(after);
            allocator.free(target);
        }
    }

    /**
     * Stream B writes a pattern into a block owned by stream A after a long run of other work,
     * and the block is freed (with recordStream B) while B is still busy. A's next allocation
     * must not get that memory, which the data proves: A's zeros and B's pattern both survive.
     */
    @Test
    void crossStreamFreeWaitsForTheOtherStream() {
        allocator.emptyCache();
        try (Stream a = Stream.create(device); Stream b = Stream.create(device)) {
            long size = 64 * KIB + 7 * 512;
            long scratchBytes = Math.min(1024 * MIB, device.totalMemory() / 8);
            Block scratch = allocator.allocate(scratchBytes, b);
            int repetitions = busyRepetitions(scratch, b);

            Block x = allocator.allocate(size, a);
            long xAddress = x.address();
            b.waitStream(a);
            CudaDriver.ensureContext(0);
            for (int i = 0; i < repetitions; i++) {
                CudaDriver.memsetD8Async(scratch.address(), (byte) i, scratchBytes, b.handle());
            }
            CudaDriver.memsetD8Async(xAddress, (byte) 0xAB, size, b.handle());
            allocator.recordStream(x, b);
            allocator.free(x);

            Block y = allocator.allocate(size, a);
            // B's event was recorded after all its work; if B is busy now, it was not done when
            // allocate() polled the event, so handing out x's memory would have been a bug.
            boolean bWasBusy = !b.query();
            if (!bWasBusy) {
                b.synchronize();
                allocator.free(y);
                allocator.free(scratch);
                abort("stream B finished its busy work before the check, so it proves nothing on this device");
            }
            CudaDriver.memsetD8Async(y.address(), (byte) 0, size, a.handle());
            assertNotEquals(xAddress, y.address(), "memory still in use on stream B was handed to stream A");
            assertEquals(BlockState.PENDING_FREE, stateOf(xAddress));

            a.synchronize();
            b.synchronize();
            assertAllBytes(y.address(), size, (byte) 0, "A's block was overwritten by B");
            assertAllBytes(xAddress, size, (byte) 0xAB, "B's pattern was overwritten by A");

            allocator.free(y);
            Block z = allocator.allocate(size, a);
            assertEquals(xAddress, z.address(), "once B's event completed the block went back to A's pool");
            allocator.free(z);
            allocator.free(scratch);
            AllocatorInvariants.check(allocator.snapshot());
        }
    }

    @Test
    void impossibleAllocationThrowsOutOfMemory() {
        long total = device.totalMemory();
        OutOfMemoryException e = assertThrows(OutOfMemoryException.class,
                () -> allocator.allocate(total + 1024 * MIB, Stream.defaultStream(device)));
        System.out.println(e.getMessage());
        assertEquals(total, e.totalBytes());
        assertEquals(total + 1024 * MIB, e.requestedBytes());
        assertTrue(e.getMessage().startsWith("cuda:0 out of memory. Tried to allocate"));
    }

    @Test
    void eventsTimeAndOrderStreams() {
        try (Stream s = Stream.create(device, -1); Stream t = Stream.create(device);
             Event start = Event.create(device, true); Event end = Event.create(device, true)) {
            Block buffer = allocator.allocate(256 * MIB, s);
            start.record(s);
            CudaDriver.ensureContext(0);
            CudaDriver.memsetD8Async(buffer.address(), (byte) 1, 256 * MIB, s.handle());
            end.record(s);
            t.waitEvent(end);
            t.synchronize();
            assertTrue(end.query(), "t waited for the event, so it has completed");
            float ms = start.elapsedTime(end);
            assertTrue(ms > 0 && ms < 10_000, "elapsed " + ms + " ms");
            System.out.printf("memset of 256 MiB: %.3f ms (%.0f GB/s)%n", ms, 256 * MIB / (ms * 1e6));
            allocator.free(buffer);
            try (Event untimed = Event.create(device)) {
                untimed.record(s);
                assertThrows(IllegalStateException.class, () -> start.elapsedTime(untimed));
            }
        }
    }

    @Test
    void currentStreamIsPerThreadAndRestored() throws Exception {
        try (Stream side = Stream.create(device)) {
            Stream legacy = Stream.defaultStream(device);
            AtomicReference<Stream> seenElsewhere = new AtomicReference<>();
            try (var _ = Stream.use(side)) {
                assertSame(side, Stream.current(device));
                Thread other = Thread.ofPlatform().start(() -> seenElsewhere.set(Stream.current(device)));
                other.join();
            }
            assertSame(legacy, seenElsewhere.get(), "another thread keeps its own current stream");
            assertSame(legacy, Stream.current(device));
        }
    }

    /** How many memsets of the scratch buffer keep a stream busy for about a third of a second. */
    private static int busyRepetitions(Block scratch, Stream stream) {
        try (Event start = Event.create(device, true); Event end = Event.create(device, true)) {
            CudaDriver.ensureContext(0);
            // The first memset may pay for lazy setup; time the second.
            CudaDriver.memsetD8Async(scratch.address(), (byte) 0, scratch.requestedSize(), stream.handle());
            start.record(stream);
            CudaDriver.memsetD8Async(scratch.address(), (byte) 0, scratch.requestedSize(), stream.handle());
            end.record(stream);
            end.synchronize();
            float ms = Math.max(start.elapsedTime(end), 0.01f);
            // Stay well under the driver's queue depth, past which launching itself would block.
            return (int) Math.max(4, Math.min(500, 300 / ms));
        }
    }

    private static BlockState stateOf(long address) {
        for (MemorySnapshot.SegmentInfo s : allocator.snapshot().segments()) {
            for (MemorySnapshot.BlockInfo b : s.blocks()) {
                if (b.address() == address) {
                    return b.state();
                }
            }
        }
        throw new AssertionError("No block at 0x" + Long.toHexString(address));
    }

    private static void assertAllBytes(long deviceAddress, long size, byte expected, String message) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(size);
            CudaDriver.ensureContext(0);
            CudaDriver.memcpyDtoH(host, deviceAddress, size);
            for (long i = 0; i < size; i++) {
                if (host.get(ValueLayout.JAVA_BYTE, i) != expected) {
                    throw new AssertionError(message + ": byte " + i + " is " + host.get(ValueLayout.JAVA_BYTE, i));
                }
            }
        }
    }
}
