package dev.ember.memory;

/**
 * Statistics of a {@link PinnedHostAllocator}.
 *
 * @param allocatedBytes capacity of the blocks handed out and not freed
 * @param reservedBytes  page-locked bytes held, handed out or cached
 * @param pendingBlocks  freed blocks waiting for streams that still copy from or to them
 * @param hostAllocs     page-locked allocations made
 * @param hostFrees      page-locked allocations released
 */
public record PinnedHostStats(Stat allocatedBytes, Stat reservedBytes, int pendingBlocks, long hostAllocs,
                              long hostFrees) {
}
