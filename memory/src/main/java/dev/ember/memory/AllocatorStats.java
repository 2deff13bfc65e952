package dev.ember.memory;

/**
 * A consistent copy of a {@link CachingAllocator}'s statistics, named as in
 * {@code torch.cuda.memory_stats()}.
 *
 * @param allocatedBytes      bytes in blocks handed out and not yet freed
 * @param reservedBytes       bytes obtained from the device: the sum of all segments
 * @param activeBytes         allocated bytes plus freed bytes still waiting for other streams' events
 * @param inactiveSplitBytes  free bytes in segments that also hold other blocks, so cannot be released
 * @param allocations         blocks handed out; {@link Stat#allocated()} counts every allocation ever made
 * @param segments            device allocations held
 * @param activeBlocks        blocks allocated or waiting for events
 * @param inactiveSplitBlocks free blocks inside split segments
 * @param deviceMallocs       calls that obtained memory from the device
 * @param deviceFrees         calls that returned memory to the device
 * @param allocRetries        device allocations retried after freeing the cache
 * @param ooms                out-of-memory errors thrown
 */
public record AllocatorStats(Stat allocatedBytes, Stat reservedBytes, Stat activeBytes, Stat inactiveSplitBytes,
                             Stat allocations, Stat segments, Stat activeBlocks, Stat inactiveSplitBlocks,
                             long deviceMallocs, long deviceFrees, long allocRetries, long ooms) {

    /** Reserved bytes not handed out: what the cache holds. */
    public long cachedBytes() {
        return reservedBytes.current() - allocatedBytes.current();
    }

    @Override
    public String toString() {
        return String.format("""
                        %-22s %12s %12s
                        %-22s %12s %12s
                        %-22s %12s %12s
                        %-22s %12s %12s
                        %-22s %12s %12s
                        %-22s %12d %12d
                        %-22s %12d %12d
                        device malloc/free: %d/%d, retries: %d, OOMs: %d""",
                "", "current", "peak",
                "allocated", ByteSizes.format(allocatedBytes.current()), ByteSizes.format(allocatedBytes.peak()),
                "reserved", ByteSizes.format(reservedBytes.current()), ByteSizes.format(reservedBytes.peak()),
                "active", ByteSizes.format(activeBytes.current()), ByteSizes.format(activeBytes.peak()),
                "inactive split", ByteSizes.format(inactiveSplitBytes.current()),
                ByteSizes.format(inactiveSplitBytes.peak()),
                "allocations", allocations.current(), allocations.peak(),
                "segments", segments.current(), segments.peak(),
                deviceMallocs, deviceFrees, allocRetries, ooms);
    }
}
