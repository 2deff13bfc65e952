package dev.ember.memory;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A randomised run of allocations, frees, cross-stream uses, event completions and cache
 * releases on a bounded simulated device, with every invariant checked after every step.
 * The seed is printed; rerun one with {@code -Dember.seed=N}.
 */
class AllocatorStressTest {
    private static final long KIB = 1024;
    private static final long MIB = 1024 * KIB;
    private static final int STEPS = 100_000;
    private static final int MAX_LIVE = 120;
    private static final long[] STREAMS = {0x0, 0x1000, 0x2000, 0x3000, 0x4000};

    /**
     * A block the test holds and, for each stream other than its own that used it, the
     * number of that stream's last use (see {@link #useOnOtherStreams}).
     */
    private record Live(Block block, Map<Long, Long> uses) {
    }

    /**
     * Memory freed while another stream might still use it: no allocation may overlap
     * [start, end) until that stream has run past its last use, work number {@code sequence}.
     */
    private record Guard(long start, long end, long stream, long sequence) {
    }

    private final TreeMap<Long, Live> live = new TreeMap<>();
    private final List<Guard> guards = new ArrayList<>();
    /** One event per stream that the test records to stand for work using a block there. */
    private final Map<Long, Long> useMarkers = new HashMap<>();

    @Test
    void randomOperationsKeepEveryInvariant() {
        long seed = Long.getLong("ember.seed", 20_250_601L);
        System.out.println("AllocatorStressTest seed = " + seed + " (rerun with -Dember.seed=" + seed + ")");
        Random random = new Random(seed);
        // Small enough that the run reaches the out-of-memory path now and then.
        SimulatedDevice device = new SimulatedDevice(640 * MIB);
        SimulatedStreams streams = device.streams();
        CachingAllocator allocator = new CachingAllocator(device, "sim:stress");
        int allocs = 0;
        int frees = 0;
        int crossStreamFrees = 0;
        int ooms = 0;
        int maxGuards = 0;

        for (int step = 0; step < STEPS; step++) {
            double op = random.nextDouble();
            try {
                if (op < 0.45 && live.size() < MAX_LIVE || live.isEmpty()) {
                    long size = randomSize(random);
                    long stream = STREAMS[random.nextInt(STREAMS.length)];
                    try {
                        Block block = allocator.allocate(size, stream);
                        assertTrue(block.size() >= size && block.stream() == stream && block.isAllocated());
                        live.put(block.address(), new Live(block, new HashMap<>()));
                        allocs++;
                    } catch (OutOfMemoryException e) {
                        ooms++;
                        assertEquals(size, e.requestedBytes());
                        assertEquals(device.capacity(), e.totalBytes());
                        assertEquals(allocator.stats().allocatedBytes().current(), e.allocatedBytes());
                        assertTrue(e.reservedBytes() + e.freeBytes() <= e.totalBytes());
                    }
                } else if (op < 0.80) {
                    Live victim = randomLive(random);
                    if (random.nextDouble() < 0.3) {
                        useOnOtherStreams(allocator, streams, victim, random, 1 + random.nextInt(2));
                    }
                    long start = victim.block().address();
                    long end = start + victim.block().size();
                    live.remove(start);
                    allocator.free(victim.block());
                    frees++;
                    if (!victim.uses().isEmpty()) {
                        crossStreamFrees++;
                    }
                    victim.uses().forEach((stream, lastUse) -> guards.add(new Guard(start, end, stream, lastUse)));
                } else if (op < 0.88) {
                    useOnOtherStreams(allocator, streams, randomLive(random), random, 1);
                } else if (op < 0.9995) {
                    long stream = STREAMS[random.nextInt(STREAMS.length)];
                    for (int n = 1 + random.nextInt(4); n > 0; n--) {
                        streams.completeNext(stream);
                    }
                } else {
                    allocator.emptyCache();
                }
                maxGuards = Math.max(maxGuards, guards.size());
                verify(allocator, device, streams);
            } catch (AssertionError e) {
                throw new AssertionError("At step " + step + " with seed " + seed + ": " + e.getMessage(), e);
            }
        }
        AllocatorStats stats = allocator.stats();
        System.out.printf("AllocatorStressTest: %d allocations, %d frees (%d after cross-stream use), %d OOMs,"
                        + " at most %d guarded ranges; %d device mallocs, %d retries, peak reserved %s%n",
                allocs, frees, crossStreamFrees, ooms, maxGuards, stats.deviceMallocs(), stats.allocRetries(),
                ByteSizes.format(stats.reservedBytes().peak()));
        assertTrue(crossStreamFrees > 1000, "the run exercised cross-stream frees");
        assertTrue(stats.allocRetries() > 0, "the run exercised the out-of-memory path");

        for (Live l : live.values()) {
            allocator.free(l.block());
        }
        live.clear();
        useMarkers.values().forEach(streams::destroyEvent);
        allocator.emptyCache();
        AllocatorInvariants.check(allocator.snapshot(), device);
        assertEquals(0, device.usedBytes(), "everything went back to the device");
        assertEquals(0, streams.liveEvents(), "no event leaked");
    }

    /** Sizes across both pools: mostly small, some medium large, a few big, rare huge, and the boundaries. */
    private static long randomSize(Random random) {
        double kind = random.nextDouble();
        if (kind < 0.003) {
            return logUniform(random, 64 * MIB, 400 * MIB);
        }
        if (kind < 0.02) {
            long[] edges = {0, 1, 511, 512, 513, MIB - 1, MIB, MIB + 1, 10 * MIB - 1, 10 * MIB, 10 * MIB + 1};
            return edges[random.nextInt(edges.length)];
        }
        if (kind < 0.62) {
            return logUniform(random, 1, MIB);
        }
        if (kind < 0.92) {
            return logUniform(random, MIB + 1, 10 * MIB);
        }
        return logUniform(random, 10 * MIB, 48 * MIB);
    }

    private static long logUniform(Random random, long low, long high) {
        double l = Math.log(low);
        double h = Math.log(high);
        return Math.min(high, Math.max(low, (long) Math.exp(l + random.nextDouble() * (h - l))));
    }

    private Live randomLive(Random random) {
        long probe = live.firstKey() + (long) (random.nextDouble() * (live.lastKey() - live.firstKey() + 1));
        Map.Entry<Long, Live> e = live.ceilingEntry(probe);
        return e != null ? e.getValue() : live.firstEntry().getValue();
    }

    /**
     * Uses a block on random streams: queues "work" there (the stream's use marker, recorded
     * again) and tells the allocator, as a kernel launch followed by recordStream would. The
     * test's guard then rests on the test's own record of the work, not on the allocator's events.
     */
    private void useOnOtherStreams(CachingAllocator allocator, SimulatedStreams streams, Live l, Random random,
                                   int count) {
        for (int i = 0; i < count; i++) {
            long stream = STREAMS[random.nextInt(STREAMS.length)];
            long marker = useMarkers.computeIfAbsent(stream, s -> streams.createEvent());
            streams.recordEvent(marker, stream);
            allocator.recordStream(l.block(), stream);
            if (stream != l.block().stream()) {
                l.uses().put(stream, streams.recordedCount(stream));
            }
        }
    }

    private void verify(CachingAllocator allocator, SimulatedDevice device, SimulatedStreams streams) {
        MemorySnapshot snapshot = allocator.snapshot();
        AllocatorInvariants.check(snapshot, device);

        // The allocator's allocated blocks are exactly the ones the test holds.
        int allocated = 0;
        for (MemorySnapshot.SegmentInfo segment : snapshot.segments()) {
            for (MemorySnapshot.BlockInfo block : segment.blocks()) {
                if (block.state() == BlockState.ALLOCATED) {
                    allocated++;
                    Live l = live.get(block.address());
                    if (l == null || l.block().size() != block.size() || l.block().stream() != segment.stream()) {
                        fail("Allocated block at 0x" + Long.toHexString(block.address()) + " is not one the test holds");
                    }
                }
            }
        }
        assertEquals(live.size(), allocated, "allocated blocks");

        // No two live blocks overlap.
        long previousEnd = Long.MIN_VALUE;
        for (Live l : live.values()) {
            if (l.block().address() < previousEnd) {
                fail("Live blocks overlap at 0x" + Long.toHexString(l.block().address()));
            }
            previousEnd = l.block().address() + l.block().size();
        }

        // Memory freed after use on another stream is not handed out before that stream's event.
        Iterator<Guard> it = guards.iterator();
        while (it.hasNext()) {
            Guard g = it.next();
            if (streams.completedCount(g.stream()) >= g.sequence()) {
                it.remove();
                continue;
            }
            Map.Entry<Long, Live> below = live.lowerEntry(g.end());
            if (below != null && below.getKey() + below.getValue().block().size() > g.start()) {
                fail("Block at 0x" + Long.toHexString(below.getKey()) + " reuses memory that stream 0x"
                        + Long.toHexString(g.stream()) + " may still use (event " + g.sequence() + " not complete)");
            }
        }
    }
}
