package dev.ember.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Checks a {@link MemorySnapshot} for internal consistency: segments do not overlap, blocks
 * tile their segment exactly, no two free neighbours were left unmerged, block sizes match
 * their pool, and every statistic equals a recount from the blocks.
 */
final class AllocatorInvariants {
    private AllocatorInvariants() {
    }

    static void check(MemorySnapshot snapshot) {
        long previousEnd = Long.MIN_VALUE;
        long allocatedBytes = 0;
        long activeBytes = 0;
        long reservedBytes = 0;
        long inactiveSplitBytes = 0;
        long allocations = 0;
        long activeBlocks = 0;
        long inactiveSplitBlocks = 0;
        for (MemorySnapshot.SegmentInfo segment : snapshot.segments()) {
            if (segment.address() < previousEnd) {
                fail("Segment at 0x" + Long.toHexString(segment.address()) + " overlaps the one before it: "
                        + snapshot.segments().stream().map(x -> "0x" + Long.toHexString(x.address()) + "+"
                        + x.totalSize() + "/" + x.blocks().size()).toList());
            }
            previousEnd = segment.address() + segment.totalSize();
            reservedBytes += segment.totalSize();
            if (segment.small()) {
                assertEquals(CachingAllocator.SMALL_BUFFER, segment.totalSize(), "small segment size");
            } else {
                assertEquals(0, segment.totalSize() % CachingAllocator.ROUND_LARGE, "large segment granularity");
            }
            assertTrue(!segment.blocks().isEmpty(), "segment without blocks");
            long cursor = segment.address();
            BlockState previousState = null;
            boolean split = segment.blocks().size() > 1;
            for (MemorySnapshot.BlockInfo block : segment.blocks()) {
                if (block.address() != cursor) {
                    fail("Block at 0x" + Long.toHexString(block.address()) + " does not start where the previous"
                            + " one ends (0x" + Long.toHexString(cursor) + ")");
                }
                assertTrue(block.size() > 0 && block.size() % CachingAllocator.MIN_BLOCK_SIZE == 0,
                        "block size " + block.size());
                cursor += block.size();
                if (previousState == BlockState.FREE && block.state() == BlockState.FREE) {
                    fail("Two adjacent free blocks were not merged at 0x" + Long.toHexString(block.address()));
                }
                previousState = block.state();
                switch (block.state()) {
                    case ALLOCATED -> {
                        long rounded = CachingAllocator.roundSize(block.requestedSize());
                        assertEquals(segment.small(), CachingAllocator.isSmall(rounded), "pool of " + block);
                        if (segment.small()) {
                            assertEquals(rounded, block.size(), "small blocks are split to the rounded size");
                        } else {
                            assertTrue(block.size() >= rounded && block.size() <= rounded + CachingAllocator.SMALL_SIZE,
                                    "large block of " + block.size() + " for a request of " + block.requestedSize());
                        }
                        allocations++;
                        allocatedBytes += block.size();
                        activeBlocks++;
                        activeBytes += block.size();
                    }
                    case PENDING_FREE -> {
                        activeBlocks++;
                        activeBytes += block.size();
                    }
                    case FREE -> {
                        if (split) {
                            inactiveSplitBlocks++;
                            inactiveSplitBytes += block.size();
                        }
                    }
                }
            }
            if (cursor != segment.address() + segment.totalSize()) {
                fail("Blocks of the segment at 0x" + Long.toHexString(segment.address()) + " cover "
                        + (cursor - segment.address()) + " of its " + segment.totalSize() + " bytes");
            }
        }
        AllocatorStats stats = snapshot.stats();
        assertEquals(allocatedBytes, stats.allocatedBytes().current(), "allocated bytes");
        assertEquals(activeBytes, stats.activeBytes().current(), "active bytes");
        assertEquals(reservedBytes, stats.reservedBytes().current(), "reserved bytes");
        assertEquals(inactiveSplitBytes, stats.inactiveSplitBytes().current(), "inactive split bytes");
        assertEquals(allocations, stats.allocations().current(), "allocations");
        assertEquals(activeBlocks, stats.activeBlocks().current(), "active blocks");
        assertEquals(inactiveSplitBlocks, stats.inactiveSplitBlocks().current(), "inactive split blocks");
        assertEquals(snapshot.segments().size(), stats.segments().current(), "segments");
        assertEquals(stats.deviceMallocs() - stats.deviceFrees(), stats.segments().current(), "mallocs - frees");
        for (Stat s : new Stat[] {stats.allocatedBytes(), stats.reservedBytes(), stats.activeBytes(),
                stats.inactiveSplitBytes(), stats.allocations(), stats.segments(), stats.activeBlocks(),
                stats.inactiveSplitBlocks()}) {
            assertTrue(s.peak() >= s.current(), "peak below current in " + s);
            assertEquals(s.current(), s.allocated() - s.freed(), "current = allocated - freed in " + s);
        }
    }

    /** Checks the snapshot and that the device holds exactly what the allocator reserved. */
    static void check(MemorySnapshot snapshot, SimulatedDevice device) {
        check(snapshot);
        AllocatorStats stats = snapshot.stats();
        assertEquals(stats.reservedBytes().current(), device.usedBytes(), "device bytes in use = reserved");
        assertEquals(stats.segments().current(), device.liveAllocations(), "device allocations = segments");
        assertEquals(stats.deviceMallocs(), device.mallocCount(), "device malloc count");
        assertEquals(stats.deviceFrees(), device.freeCount(), "device free count");
    }
}
