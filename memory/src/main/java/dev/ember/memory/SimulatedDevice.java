package dev.ember.memory;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A device of bounded capacity in plain Java: the raw memory the allocator tests and the
 * CPU-side benchmarks run on. Addresses come from a first-fit address space starting at a
 * device-looking base, so fragmentation behaves as on a real device; nothing is backed by
 * memory. Freeing an address twice or one it never returned throws, which turns allocator
 * bookkeeping bugs into test failures. Events come from {@link SimulatedStreams}. Thread-safe.
 */
public final class SimulatedDevice implements RawDeviceMemory, SimulatedEvents {
    /** Where the simulated address space begins. */
    public static final long BASE_ADDRESS = 0x7000_0000_0000L;
    /** cudaMalloc returns at least 256-byte aligned memory; we keep 512 to match the block size. */
    private static final long ALIGNMENT = 512;

    private final long capacity;
    private final SimulatedStreams streams;
    /** Free address ranges: start to length, coalesced. */
    private final TreeMap<Long, Long> freeRanges = new TreeMap<>();
    private final Map<Long, Long> live = new HashMap<>();
    private final Set<Long> released = new HashSet<>();
    private long used;
    private long mallocCount;
    private long freeCount;
    private long failedMallocCount;

    public SimulatedDevice(long capacity) {
        this(capacity, new SimulatedStreams());
    }

    public SimulatedDevice(long capacity, SimulatedStreams streams) {
        if (capacity <= 0 || capacity % ALIGNMENT != 0) {
            throw new IllegalArgumentException("Capacity must be a positive multiple of " + ALIGNMENT + ", got "
                    + capacity);
        }
        this.capacity = capacity;
        this.streams = streams;
        freeRanges.put(BASE_ADDRESS, capacity);
    }

    /** The streams whose events this device records; the test completes them. */
    @Override
    public SimulatedStreams streams() {
        return streams;
    }

    @Override
    public synchronized long malloc(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("malloc of " + bytes + " bytes");
        }
        long size = (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        for (Map.Entry<Long, Long> range : freeRanges.entrySet()) {
            // Read the entry before changing the map: TreeMap may reuse its node for another key.
            long address = range.getKey();
            long length = range.getValue();
            if (length >= size) {
                freeRanges.remove(address);
                if (length > size) {
                    freeRanges.put(address + size, length - size);
                }
                live.put(address, size);
                released.remove(address);
                used += size;
                mallocCount++;
                return address;
            }
        }
        failedMallocCount++;
        return 0;
    }

    @Override
    public synchronized void free(long address) {
        Long size = live.remove(address);
        if (size == null) {
            throw new IllegalStateException((released.contains(address) ? "Double free of device address 0x"
                    : "Free of unknown device address 0x") + Long.toHexString(address));
        }
        released.add(address);
        used -= size;
        freeCount++;
        long start = address;
        long length = size;
        Map.Entry<Long, Long> before = freeRanges.floorEntry(address);
        if (before != null && before.getKey() + before.getValue() == address) {
            start = before.getKey();
            length += before.getValue();
            freeRanges.remove(before.getKey());
        }
        Long after = freeRanges.remove(address + size);
        if (after != null) {
            length += after;
        }
        freeRanges.put(start, length);
    }

    @Override
    public synchronized long[] memInfo() {
        return new long[] {capacity - used, capacity};
    }

    public long capacity() {
        return capacity;
    }

    /** Bytes currently allocated from this device. */
    public synchronized long usedBytes() {
        return used;
    }

    /** Allocations currently live. */
    public synchronized int liveAllocations() {
        return live.size();
    }

    public synchronized long mallocCount() {
        return mallocCount;
    }

    public synchronized long freeCount() {
        return freeCount;
    }

    /** Calls to {@link #malloc} that returned 0 for lack of memory. */
    public synchronized long failedMallocCount() {
        return failedMallocCount;
    }
}
