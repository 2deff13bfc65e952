package dev.ember.memory;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Several threads allocating, sharing across streams and freeing at once while another
 * completes events: no two live blocks may ever overlap, and afterwards the books balance.
 */
class AllocatorConcurrencyTest {
    private static final long MIB = 1024 * 1024;
    private static final int THREADS = 4;
    private static final int OPS_PER_THREAD = 20_000;

    @Test
    void concurrentAllocationsNeverOverlapAndTheBooksBalance() throws Exception {
        SimulatedDevice device = new SimulatedDevice(2048 * MIB);
        SimulatedStreams streams = device.streams();
        CachingAllocator allocator = new CachingAllocator(device, "sim:threads");
        ConcurrentSkipListMap<Long, Long> liveRanges = new ConcurrentSkipListMap<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicBoolean done = new AtomicBoolean();
        CountDownLatch start = new CountDownLatch(1);

        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            long stream = 0x100L * (t + 1);
            long seed = 1000L + t;
            workers.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                    work(allocator, stream, new Random(seed), liveRanges);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        Thread completer = Thread.ofPlatform().start(() -> {
            Random random = new Random(7);
            while (!done.get()) {
                streams.completeAll(0x100L * (1 + random.nextInt(THREADS)));
                Thread.onSpinWait();
            }
        });
        start.countDown();
        for (Thread w : workers) {
            w.join();
        }
        done.set(true);
        completer.join();
        if (failure.get() != null) {
            throw new AssertionError("A worker failed", failure.get());
        }

        assertEquals(THREADS * (long) OPS_PER_THREAD, allocator.stats().allocations().allocated());
        assertEquals(0, allocator.stats().allocatedBytes().current());
        AllocatorInvariants.check(allocator.snapshot(), device);
        allocator.emptyCache();
        AllocatorInvariants.check(allocator.snapshot(), device);
        assertEquals(0, allocator.stats().reservedBytes().current());
        assertEquals(0, allocator.stats().activeBytes().current());
        assertEquals(0, device.usedBytes());
        assertEquals(0, streams.liveEvents());
    }

    private static void work(CachingAllocator allocator, long stream, Random random,
                             ConcurrentSkipListMap<Long, Long> liveRanges) {
        List<Block> mine = new ArrayList<>();
        for (int i = 0; i < OPS_PER_THREAD; i++) {
            long size = random.nextDouble() < 0.8 ? 1 + random.nextInt((int) MIB) : MIB + random.nextInt((int) (15 * MIB));
            Block block = allocator.allocate(size, stream);
            claim(liveRanges, block);
            mine.add(block);
            if (random.nextDouble() < 0.25) {
                allocator.recordStream(block, 0x100L * (1 + random.nextInt(THREADS)));
            }
            while (mine.size() > 16 || (!mine.isEmpty() && random.nextDouble() < 0.4)) {
                Block victim = mine.remove(random.nextInt(mine.size()));
                liveRanges.remove(victim.address());
                allocator.free(victim);
            }
        }
        for (Block b : mine) {
            liveRanges.remove(b.address());
            allocator.free(b);
        }
    }

    /** Records a block's range, failing if it overlaps one another thread still holds. */
    private static void claim(ConcurrentSkipListMap<Long, Long> liveRanges, Block block) {
        long start = block.address();
        long end = start + block.size();
        Map.Entry<Long, Long> below = liveRanges.floorEntry(start);
        Map.Entry<Long, Long> above = liveRanges.ceilingEntry(start);
        if (below != null && below.getValue() > start || above != null && above.getKey() < end) {
            throw new AssertionError("Block " + block + " overlaps a live block");
        }
        if (liveRanges.putIfAbsent(start, end) != null) {
            throw new AssertionError("Address handed out twice: " + block);
        }
    }
}
