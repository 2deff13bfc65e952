package dev.ember.memory;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PinnedHostAllocatorTest {
    private static final long S1 = 0x100;
    private static final long S2 = 0x200;

    private SimulatedHost host;
    private SimulatedStreams streams;
    private PinnedHostAllocator allocator;

    @BeforeEach
    void setUp() {
        host = new SimulatedHost();
        streams = host.streams();
        allocator = new PinnedHostAllocator(host);
    }

    @Test
    void roundsToPowersOfTwo() {
        assertEquals(512, PinnedHostAllocator.roundSize(0));
        assertEquals(512, PinnedHostAllocator.roundSize(1));
        assertEquals(512, PinnedHostAllocator.roundSize(512));
        assertEquals(1024, PinnedHostAllocator.roundSize(513));
        assertEquals(4096, PinnedHostAllocator.roundSize(4096));
        assertEquals(8192, PinnedHostAllocator.roundSize(4097));
        assertEquals(1L << 40, PinnedHostAllocator.roundSize((1L << 39) + 1));
    }

    @Test
    void freedBlocksAreReusedForTheSameSizeClass() {
        PinnedBlock a = allocator.allocate(3000);
        assertEquals(3000, a.segment().byteSize());
        assertEquals(4096, a.capacity());
        long address = a.address();
        allocator.free(a);
        PinnedBlock b = allocator.allocate(4000);
        assertEquals(address, b.address());
        assertEquals(4000, b.segment().byteSize());
        PinnedBlock c = allocator.allocate(5000);
        assertNotEquals(address, c.address());
        assertEquals(2, allocator.stats().hostAllocs());
        assertEquals(4096 + 8192, allocator.stats().allocatedBytes().current());
    }

    @Test
    void blockUsedByAnAsyncCopyIsReusedOnlyAfterItsEvent() {
        PinnedBlock staging = allocator.allocate(1 << 16);
        staging.segment().set(ValueLayout.JAVA_INT, 0, 42);
        long address = staging.address();
        allocator.recordStream(staging, S1);
        allocator.recordStream(staging, S2);
        allocator.free(staging);
        assertEquals(1, allocator.stats().pendingBlocks());

        PinnedBlock meanwhile = allocator.allocate(1 << 16);
        assertNotEquals(address, meanwhile.address(), "the copy on stream 1 may still be reading it");
        allocator.free(meanwhile);

        streams.completeAll(S1);
        PinnedBlock stillWaiting = allocator.allocate(1 << 16);
        assertNotEquals(address, stillWaiting.address(), "stream 2 has not finished with it");
        allocator.free(stillWaiting);

        streams.completeAll(S2);
        PinnedBlock reused = allocator.allocate(1 << 16);
        assertEquals(address, reused.address(), "the block whose copies finished last is handed out first");
        assertEquals(42, reused.segment().get(ValueLayout.JAVA_INT, 0));
        assertEquals(0, allocator.stats().pendingBlocks());
        assertEquals(2, allocator.stats().hostAllocs(), "only two page-locked allocations for the whole dance");
    }

    @Test
    void useAfterFreeAndDoubleFreeAreRejected() {
        PinnedBlock a = allocator.allocate(100);
        allocator.free(a);
        assertThrows(IllegalStateException.class, a::segment);
        assertThrows(IllegalStateException.class, () -> allocator.free(a));
        PinnedHostAllocator other = new PinnedHostAllocator(new SimulatedHost());
        assertThrows(IllegalArgumentException.class, () -> allocator.free(other.allocate(10)));
    }

    @Test
    void emptyCacheWaitsForPendingBlocksAndReleasesEverythingCached() {
        PinnedBlock kept = allocator.allocate(1000);
        PinnedBlock pending = allocator.allocate(1000);
        allocator.recordStream(pending, S1);
        allocator.free(pending);
        allocator.free(allocator.allocate(1 << 20));
        allocator.emptyCache();
        PinnedHostStats stats = allocator.stats();
        assertEquals(1024, stats.reservedBytes().current());
        assertEquals(2, stats.hostFrees());
        assertEquals(1024, host.usedBytes());
        assertEquals(0, streams.liveEvents());
        allocator.free(kept);
        allocator.emptyCache();
        assertEquals(0, host.usedBytes());
    }

    @Test
    void failedAllocationReleasesTheCacheAndRetries() {
        PinnedHostAllocator capped = new PinnedHostAllocator(new CappedHost(new SimulatedHost(), 8192));
        PinnedBlock a = capped.allocate(4096);
        capped.free(a);
        PinnedBlock b = capped.allocate(8192);
        assertEquals(8192, b.capacity());
        assertEquals(1, capped.stats().hostFrees());
        assertThrows(IllegalStateException.class, () -> capped.allocate(8192));
    }

    /** A host that refuses to hold more than a cap, to drive the retry path. */
    private record CappedHost(SimulatedHost inner, long cap) implements RawHostMemory {
        @Override
        public MemorySegment allocate(long bytes) {
            if (inner.usedBytes() + bytes > cap) {
                throw new IllegalStateException("pinned memory exhausted");
            }
            return inner.allocate(bytes);
        }

        @Override
        public void free(MemorySegment segment) {
            inner.free(segment);
        }

        @Override
        public long createEvent() {
            return inner.createEvent();
        }

        @Override
        public void recordEvent(long event, long stream) {
            inner.recordEvent(event, stream);
        }

        @Override
        public boolean eventDone(long event) {
            return inner.eventDone(event);
        }

        @Override
        public void synchronizeEvent(long event) {
            inner.synchronizeEvent(event);
        }

        @Override
        public void destroyEvent(long event) {
            inner.destroyEvent(event);
        }
    }
}
