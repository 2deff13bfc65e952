package dev.ember.memory;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CachingAllocatorTest {
    private static final long KIB = 1024;
    private static final long MIB = 1024 * KIB;
    private static final long S1 = 0x100;
    private static final long S2 = 0x200;

    private SimulatedDevice device;
    private SimulatedStreams streams;
    private CachingAllocator allocator;

    @BeforeEach
    void setUp() {
        device = new SimulatedDevice(1024 * MIB);
        streams = device.streams();
        allocator = new CachingAllocator(device, "sim:0");
    }

    private void checkInvariants() {
        AllocatorInvariants.check(allocator.snapshot(), device);
    }

    @Test
    void roundsRequestsTo512Bytes() {
        assertEquals(512, CachingAllocator.roundSize(0));
        assertEquals(512, CachingAllocator.roundSize(1));
        assertEquals(512, CachingAllocator.roundSize(512));
        assertEquals(1024, CachingAllocator.roundSize(513));
        assertEquals(MIB, CachingAllocator.roundSize(MIB));
        assertEquals(MIB + 512, CachingAllocator.roundSize(MIB + 1));
    }

    @Test
    void choosesPoolAndSegmentSizeAsPyTorch() {
        assertTrue(CachingAllocator.isSmall(MIB));
        assertFalse(CachingAllocator.isSmall(MIB + 512));
        assertEquals(2 * MIB, CachingAllocator.segmentSize(512));
        assertEquals(2 * MIB, CachingAllocator.segmentSize(MIB));
        assertEquals(20 * MIB, CachingAllocator.segmentSize(MIB + 512));
        assertEquals(20 * MIB, CachingAllocator.segmentSize(10 * MIB - 512));
        assertEquals(10 * MIB, CachingAllocator.segmentSize(10 * MIB));
        assertEquals(12 * MIB, CachingAllocator.segmentSize(10 * MIB + 512));

        Block small = allocator.allocate(MIB, S1);
        Block large = allocator.allocate(MIB + 1, S1);
        // On another stream, or the large segment's free tail would serve it.
        Block huge = allocator.allocate(11 * MIB, S2);
        List<MemorySnapshot.SegmentInfo> segments = allocator.snapshot().segments();
        assertEquals(3, segments.size());
        assertEquals(List.of(true, false, false), segments.stream().map(MemorySnapshot.SegmentInfo::small).toList());
        assertEquals(List.of(2 * MIB, 20 * MIB, 12 * MIB),
                segments.stream().map(MemorySnapshot.SegmentInfo::totalSize).toList());
        assertEquals(MIB, small.size());
        assertEquals(MIB + 512, large.size());
        assertEquals(MIB + 1, large.requestedSize());
        assertEquals(12 * MIB, huge.size(), "an 11 MiB request takes its whole 12 MiB segment: 1 MiB is not split off");
        checkInvariants();
    }

    @Test
    void zeroByteRequestGetsOneMinimalBlock() {
        Block b = allocator.allocate(0, S1);
        assertEquals(512, b.size());
        assertEquals(0, b.requestedSize());
        assertThrows(IllegalArgumentException.class, () -> allocator.allocate(-1, S1));
    }

    @Test
    void smallBlocksSplitDownTo512ByteRemainders() {
        Block a = allocator.allocate(1000, S1);
        Block b = allocator.allocate(1000, S1);
        assertEquals(a.address() + 1024, b.address(), "carved from the same segment, one after the other");
        assertEquals(1, allocator.stats().segments().current());
        assertEquals(2 * MIB - 2048, allocator.stats().inactiveSplitBytes().current());

        Block c = allocator.allocate(2 * MIB - 2048 - 512, S1);
        checkInvariants();
        // 2 MiB - 2560 is a large request, so it did not come from the small segment.
        assertEquals(2, allocator.stats().segments().current());
        allocator.free(c);

        Block d = allocator.allocate(MIB, S1);
        Block e = allocator.allocate(MIB - 2048 - 512, S1);
        assertEquals(d.address() + MIB, e.address());
        List<MemorySnapshot.BlockInfo> blocks = allocator.snapshot().segments().getFirst().blocks();
        assertEquals(List.of(1024L, 1024L, MIB, MIB - 2560, 512L),
                blocks.stream().map(MemorySnapshot.BlockInfo::size).toList(), "a 512 B remainder is still split off");
        assertEquals(BlockState.FREE, blocks.getLast().state());
        checkInvariants();
    }

    @Test
    void largeBlocksSplitOnlyWhenMoreThanOneMebibyteRemains() {
        Block a = allocator.allocate(2 * MIB, S1);
        assertEquals(2 * MIB, a.size());
        assertEquals(18 * MIB, allocator.stats().inactiveSplitBytes().current());
        Block b = allocator.allocate(17 * MIB + 512 * KIB, S1);
        assertEquals(a.address() + 2 * MIB, b.address());
        assertEquals(18 * MIB, b.size(), "a remainder of 0.5 MiB stays with the block");
        assertEquals(0, allocator.stats().inactiveSplitBytes().current());
        allocator.free(b);
        Block c = allocator.allocate(17 * MIB, S1);
        assertEquals(18 * MIB, c.size(), "exactly 1 MiB left over is not split either");
        allocator.free(c);
        Block d = allocator.allocate(17 * MIB - 512, S1);
        assertEquals(17 * MIB - 512, d.size(), "1 MiB + 512 B left over is split");
        checkInvariants();
    }

    @Test
    void freedBlocksCoalesceWithFreeNeighbours() {
        Block a = allocator.allocate(100 * KIB, S1);
        Block b = allocator.allocate(200 * KIB, S1);
        Block c = allocator.allocate(300 * KIB, S1);
        allocator.free(b);
        checkInvariants();
        assertEquals(List.of(BlockState.ALLOCATED, BlockState.FREE, BlockState.ALLOCATED, BlockState.FREE), states());
        allocator.free(a);
        assertEquals(List.of(BlockState.FREE, BlockState.ALLOCATED, BlockState.FREE), states());
        checkInvariants();
        allocator.free(c);
        assertEquals(List.of(BlockState.FREE), states());
        MemorySnapshot.BlockInfo whole = allocator.snapshot().segments().getFirst().blocks().getFirst();
        assertEquals(2 * MIB, whole.size());
        assertEquals(0, allocator.stats().inactiveSplitBytes().current(), "a whole free segment is not split");
        checkInvariants();
    }

    @Test
    void bestFitTakesTheSmallestFreeBlockThatFits() {
        Block a = allocator.allocate(64 * KIB, S1);
        Block x = allocator.allocate(16 * KIB, S1);
        Block b = allocator.allocate(32 * KIB, S1);
        Block y = allocator.allocate(16 * KIB, S1);
        // Handles are read before free: a freed block may be split or merged and change.
        long aAddress = a.address();
        long bAddress = b.address();
        allocator.free(a);
        allocator.free(b);
        Block fit = allocator.allocate(20 * KIB, S1);
        assertEquals(bAddress, fit.address(), "the 32 KiB hole, not the 64 KiB one or the segment's tail");
        Block fit2 = allocator.allocate(40 * KIB, S1);
        assertEquals(aAddress, fit2.address());
        assertTrue(x.isAllocated() && y.isAllocated());
        checkInvariants();
    }

    @Test
    void blocksAreReusedOnlyOnTheirOwnStream() {
        Block a = allocator.allocate(4 * KIB, S1);
        long address = a.address();
        allocator.free(a);
        Block other = allocator.allocate(4 * KIB, S2);
        assertNotEquals(address, other.address());
        assertEquals(S2, other.stream());
        assertEquals(2, allocator.stats().deviceMallocs(), "the other stream gets its own segment");
        Block same = allocator.allocate(4 * KIB, S1);
        assertEquals(address, same.address());
        assertEquals(2, allocator.stats().deviceMallocs());
        checkInvariants();
    }

    @Test
    void recordStreamDefersReuseUntilTheEventCompletes() {
        Block a = allocator.allocate(8 * KIB, S1);
        long address = a.address();
        allocator.recordStream(a, S2);
        allocator.free(a);
        assertEquals(1, streams.recordedCount(S2), "free recorded an event on the other stream");
        assertEquals(List.of(BlockState.PENDING_FREE, BlockState.FREE), states());
        AllocatorStats stats = allocator.stats();
        assertEquals(0, stats.allocatedBytes().current());
        assertEquals(8 * KIB, stats.activeBytes().current(), "still active until the other stream is done");
        checkInvariants();

        Block b = allocator.allocate(8 * KIB, S1);
        assertNotEquals(address, b.address(), "not reused while stream 2 may still use it");
        allocator.free(b);

        streams.completeAll(S2);
        Block c = allocator.allocate(8 * KIB, S1);
        assertEquals(address, c.address(), "reused once the event completed");
        assertEquals(8 * KIB, allocator.stats().activeBytes().current());
        checkInvariants();
    }

    @Test
    void recordStreamOnTheOwningStreamFreesAtOnce() {
        Block a = allocator.allocate(8 * KIB, S1);
        allocator.recordStream(a, S1);
        allocator.free(a);
        assertEquals(0, streams.recordedCount(S1));
        assertEquals(a.address(), allocator.allocate(8 * KIB, S1).address());
    }

    @Test
    void blockUsedOnSeveralStreamsWaitsForAll() {
        Block a = allocator.allocate(8 * KIB, S1);
        allocator.recordStream(a, S2);
        allocator.recordStream(a, 0x300);
        allocator.recordStream(a, S2);
        allocator.free(a);
        assertEquals(1, streams.recordedCount(S2), "a stream recorded twice gets one event");
        streams.completeAll(S2);
        allocator.allocate(512, S2);
        assertEquals(BlockState.PENDING_FREE, states().getFirst(), "still waiting on the third stream");
        streams.completeAll(0x300);
        allocator.free(allocator.allocate(512, S2));
        assertEquals(BlockState.FREE, states().getFirst());
        checkInvariants();
    }

    @Test
    void doubleFreeAndForeignBlocksAreRejected() {
        Block a = allocator.allocate(4 * KIB, S1);
        allocator.free(a);
        assertThrows(IllegalStateException.class, () -> allocator.free(a));
        assertThrows(IllegalStateException.class, () -> allocator.recordStream(a, S2));
        CachingAllocator other = new CachingAllocator(new SimulatedDevice(64 * MIB), "sim:1");
        Block foreign = other.allocate(4 * KIB, S1);
        assertThrows(IllegalArgumentException.class, () -> allocator.free(foreign));
    }

    @Test
    void emptyCacheReturnsWhollyFreeSegmentsOnly() {
        Block keep = allocator.allocate(4 * KIB, S1);
        Block neighbour = allocator.allocate(4 * KIB, S1);
        Block large = allocator.allocate(30 * MIB, S1);
        Block pending = allocator.allocate(3 * MIB, S2);
        allocator.recordStream(pending, S1);
        allocator.free(neighbour);
        allocator.free(large);
        allocator.free(pending);
        assertEquals(2 * MIB + 30 * MIB + 20 * MIB, allocator.stats().reservedBytes().current());
        allocator.emptyCache();
        AllocatorStats stats = allocator.stats();
        assertEquals(2 * MIB, stats.reservedBytes().current(), "the small segment still holds a live block");
        assertEquals(2, stats.deviceFrees());
        assertEquals(1, streams.completedCount(S1), "emptyCache waited for the pending block's event");
        assertEquals(0, streams.liveEvents(), "idle events are destroyed");
        checkInvariants();
        allocator.free(keep);
        allocator.emptyCache();
        assertEquals(0, allocator.stats().reservedBytes().current());
        assertEquals(0, device.usedBytes());
        checkInvariants();
    }

    @Test
    void peakStatsResetToCurrent() {
        Block a = allocator.allocate(3 * MIB, S1);
        Block b = allocator.allocate(KIB, S1);
        allocator.free(a);
        AllocatorStats before = allocator.stats();
        assertEquals(3 * MIB + KIB, before.allocatedBytes().peak());
        assertEquals(KIB, before.allocatedBytes().current());
        assertEquals(22 * MIB, before.reservedBytes().peak());
        assertEquals(2, before.allocations().peak());
        assertEquals(2, before.allocations().allocated(), "every allocation ever made");
        allocator.resetPeakStats();
        AllocatorStats after = allocator.stats();
        assertEquals(KIB, after.allocatedBytes().peak());
        assertEquals(1, after.allocations().peak());
        assertEquals(22 * MIB, after.reservedBytes().peak(), "nothing was released, so reserved stays at its peak");
        allocator.free(b);
        allocator.allocate(2 * KIB, S1);
        assertEquals(2 * KIB, allocator.stats().allocatedBytes().peak());
        checkInvariants();
    }

    @Test
    void repeatedPatternStopsCallingTheDevice() {
        long[] sizes = {3 * KIB, 700 * KIB, 5 * MIB, 1000, 12 * MIB, 64 * KIB, 2 * MIB + 7};
        long mallocsAfterFirst = -1;
        for (int iteration = 0; iteration < 20; iteration++) {
            List<Block> blocks = new ArrayList<>();
            for (long size : sizes) {
                blocks.add(allocator.allocate(size, S1));
            }
            // free in a different order than allocated, as a training step's temporaries are
            for (int i = blocks.size() - 1; i >= 0; i -= 2) {
                allocator.free(blocks.get(i));
            }
            for (int i = blocks.size() - 2; i >= 0; i -= 2) {
                allocator.free(blocks.get(i));
            }
            if (iteration == 0) {
                mallocsAfterFirst = allocator.stats().deviceMallocs();
            }
        }
        assertEquals(mallocsAfterFirst, allocator.stats().deviceMallocs());
        assertEquals(20 * sizes.length, allocator.stats().allocations().allocated());
        checkInvariants();
    }

    @Test
    @SuppressWarnings("unchecked")
    void snapshotJsonIsWellFormedAndMatchesTheSnapshot() {
        Block a = allocator.allocate(1000, S1);
        Block b = allocator.allocate(3 * MIB, S2);
        allocator.recordStream(b, S1);
        allocator.free(b);
        MemorySnapshot snapshot = allocator.snapshot();
        String json = snapshot.toJson();
        Map<String, Object> root = (Map<String, Object>) MiniJson.parse(json);
        assertEquals("sim:0", root.get("device"));
        List<Object> segments = (List<Object>) root.get("segments");
        assertEquals(snapshot.segments().size(), segments.size());
        for (int i = 0; i < segments.size(); i++) {
            Map<String, Object> segment = (Map<String, Object>) segments.get(i);
            MemorySnapshot.SegmentInfo expected = snapshot.segments().get(i);
            assertEquals(expected.address(), segment.get("address"));
            assertEquals(expected.totalSize(), segment.get("total_size"));
            assertEquals(expected.stream(), segment.get("stream"));
            assertEquals(expected.small() ? "small" : "large", segment.get("segment_type"));
            assertEquals(expected.allocatedSize(), segment.get("allocated_size"));
            assertEquals(expected.activeSize(), segment.get("active_size"));
            List<Object> blocks = (List<Object>) segment.get("blocks");
            assertEquals(expected.blocks().size(), blocks.size());
            for (int j = 0; j < blocks.size(); j++) {
                Map<String, Object> block = (Map<String, Object>) blocks.get(j);
                assertEquals(expected.blocks().get(j).address(), block.get("address"));
                assertEquals(expected.blocks().get(j).size(), block.get("size"));
                assertEquals(expected.blocks().get(j).state().jsonName(), block.get("state"));
            }
        }
        Map<String, Object> stats = (Map<String, Object>) root.get("stats");
        Map<String, Object> allocated = (Map<String, Object>) stats.get("allocated_bytes");
        assertEquals(a.size(), allocated.get("current"));
        assertEquals(3 * MIB + a.size(), allocated.get("peak"));
        assertEquals(2L, stats.get("num_device_alloc"));
        Map<String, Object> active = (Map<String, Object>) stats.get("active_bytes");
        assertEquals(a.size() + 3 * MIB, active.get("current"));

        List<String> states = new ArrayList<>();
        for (Object s : segments) {
            for (Object blk : (List<Object>) ((Map<String, Object>) s).get("blocks")) {
                states.add((String) ((Map<String, Object>) blk).get("state"));
            }
        }
        assertEquals(List.of("active_allocated", "inactive", "active_pending_free", "inactive"), states);
    }

    @Test
    void deviceNameIsEscapedInJson() {
        CachingAllocator odd = new CachingAllocator(new SimulatedDevice(64 * MIB), "quote\" back\\ tab\t");
        Object parsed = MiniJson.parse(odd.snapshot().toJson());
        assertEquals("quote\" back\\ tab\t", ((Map<?, ?>) parsed).get("device"));
    }

    private List<BlockState> states() {
        List<BlockState> states = new ArrayList<>();
        for (MemorySnapshot.SegmentInfo s : allocator.snapshot().segments()) {
            for (MemorySnapshot.BlockInfo b : s.blocks()) {
                states.add(b.state());
            }
        }
        return states;
    }
}
