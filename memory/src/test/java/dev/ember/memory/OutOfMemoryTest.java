package dev.ember.memory;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The out-of-memory path on a 64 MiB simulated device: a request that only fits once the
 * cache is released succeeds with one retry (the fragmentation case PyTorch's allocator was
 * fixed for), and a request that cannot fit throws with the numbers that explain why.
 */
class OutOfMemoryTest {
    private static final long MIB = 1024 * 1024;
    private static final long S1 = 0x100;
    private static final long S2 = 0x200;

    private SimulatedDevice device;
    private CachingAllocator allocator;

    @BeforeEach
    void setUp() {
        device = new SimulatedDevice(64 * MIB);
        allocator = new CachingAllocator(device, "sim:0");
    }

    @Test
    void largeRequestSucceedsByReleasingCachedLargeSegments() {
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            blocks.add(allocator.allocate(12 * MIB, S1));
        }
        blocks.forEach(allocator::free);
        AllocatorStats cached = allocator.stats();
        assertEquals(60 * MIB, cached.reservedBytes().current(), "five free 12 MiB segments stay cached");
        assertEquals(0, cached.allocatedBytes().current());

        Block big = allocator.allocate(40 * MIB, S1);

        AllocatorStats after = allocator.stats();
        assertEquals(1, after.allocRetries());
        assertEquals(5, after.deviceFrees(), "every cached segment went back to the device");
        assertEquals(0, after.ooms());
        assertEquals(40 * MIB, after.reservedBytes().current());
        assertEquals(40 * MIB, big.size());
        assertEquals(1, device.failedMallocCount());
        AllocatorInvariants.check(allocator.snapshot(), device);
    }

    @Test
    void largeRequestSucceedsByReleasingCachedSmallSegments() {
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            blocks.add(allocator.allocate(MIB, S1));
        }
        assertEquals(15, allocator.stats().segments().current(), "two 1 MiB blocks per 2 MiB segment");
        blocks.forEach(allocator::free);
        assertEquals(30 * MIB, allocator.stats().reservedBytes().current());

        allocator.allocate(50 * MIB, S2);

        AllocatorStats after = allocator.stats();
        assertEquals(1, after.allocRetries());
        assertEquals(15, after.deviceFrees());
        assertEquals(50 * MIB, after.reservedBytes().current());
        AllocatorInvariants.check(allocator.snapshot(), device);
    }

    @Test
    void pendingCrossStreamFreesAreWaitedForBeforeGivingUp() {
        Block used = allocator.allocate(40 * MIB, S1);
        allocator.recordStream(used, S2);
        allocator.free(used);
        assertEquals(40 * MIB, allocator.stats().activeBytes().current());

        allocator.allocate(40 * MIB, 0x300);

        assertEquals(1, device.streams().completedCount(S2), "the allocator waited for stream 2's event");
        assertEquals(1, allocator.stats().allocRetries());
        assertEquals(40 * MIB, allocator.stats().activeBytes().current());
        AllocatorInvariants.check(allocator.snapshot(), device);
    }

    @Test
    void aBlockFreedByWaitingIsReusedWithoutGoingBackToTheDevice() {
        Block keep = allocator.allocate(2 * MIB, S1);
        Block used = allocator.allocate(17 * MIB, S1);
        long usedAddress = used.address();
        allocator.recordStream(used, S2);
        allocator.free(used);
        allocator.allocate(44 * MIB, S2);
        long mallocs = allocator.stats().deviceMallocs();

        // The device is full and nothing in the cache is wholly free: the 20 MiB segment this
        // request would need cannot be had, but the pending block fits once its event is waited for.
        Block reused = allocator.allocate(10 * MIB - 512, S1);
        assertEquals(usedAddress, reused.address());
        assertEquals(mallocs, allocator.stats().deviceMallocs());
        assertEquals(0, allocator.stats().allocRetries());
        assertTrue(keep.isAllocated());
        AllocatorInvariants.check(allocator.snapshot(), device);
    }

    @Test
    void impossibleRequestThrowsWithTheNumbers() {
        Block live = allocator.allocate(12 * MIB, S1);
        List<Block> cached = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            cached.add(allocator.allocate(12 * MIB, S1));
        }
        cached.forEach(allocator::free);

        OutOfMemoryException e = assertThrows(OutOfMemoryException.class, () -> allocator.allocate(56 * MIB, S1));

        assertEquals(56 * MIB, e.requestedBytes());
        assertEquals(12 * MIB, e.allocatedBytes());
        assertEquals(12 * MIB, e.reservedBytes(), "the cache was released before giving up");
        assertEquals(52 * MIB, e.freeBytes());
        assertEquals(64 * MIB, e.totalBytes());
        String message = e.getMessage();
        assertTrue(message.startsWith("sim:0 out of memory. Tried to allocate 56.00 MiB (58720256 bytes)."), message);
        assertTrue(message.contains("total capacity of 64.00 MiB of which 52.00 MiB is free"), message);
        assertTrue(message.contains("12.00 MiB allocated and 12.00 MiB reserved"), message);
        assertTrue(message.contains("0 B is reserved but unallocated"), message);

        AllocatorStats stats = allocator.stats();
        assertEquals(1, stats.ooms());
        assertEquals(1, stats.allocRetries());
        AllocatorInvariants.check(allocator.snapshot(), device);

        // The allocator is still usable afterwards.
        allocator.free(allocator.allocate(40 * MIB, S1));
        allocator.free(live);
        AllocatorInvariants.check(allocator.snapshot(), device);
    }

    @Test
    void requestLargerThanTheDeviceThrows() {
        OutOfMemoryException e = assertThrows(OutOfMemoryException.class, () -> allocator.allocate(100 * MIB, S1));
        assertEquals(100 * MIB, e.requestedBytes());
        assertEquals(0, e.allocatedBytes());
        assertEquals(64 * MIB, e.freeBytes());
        assertEquals(64 * MIB, e.totalBytes());
        assertTrue(e.getMessage().contains("Tried to allocate 100.00 MiB"), e.getMessage());
        assertEquals(1, allocator.stats().ooms());
    }
}
