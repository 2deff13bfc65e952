package dev.ember.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Stand-in for page-locked host memory: ordinary off-heap memory, one arena per allocation
 * so that a free really releases it and a use after free fails. Freeing twice or freeing
 * memory it did not return throws. Events come from {@link SimulatedStreams}. Thread-safe.
 */
public final class SimulatedHost implements RawHostMemory, SimulatedEvents {
    private final SimulatedStreams streams;
    private record Allocation(Arena arena, long size) {
    }

    private final Map<Long, Allocation> live = new HashMap<>();
    private final Set<Long> released = new HashSet<>();
    private long allocationCount;
    private long freeCount;
    private long usedBytes;

    public SimulatedHost() {
        this(new SimulatedStreams());
    }

    public SimulatedHost(SimulatedStreams streams) {
        this.streams = streams;
    }

    @Override
    public SimulatedStreams streams() {
        return streams;
    }

    @Override
    public synchronized MemorySegment allocate(long bytes) {
        Arena arena = Arena.ofShared();
        MemorySegment segment = arena.allocate(bytes, 64);
        live.put(segment.address(), new Allocation(arena, bytes));
        released.remove(segment.address());
        allocationCount++;
        usedBytes += bytes;
        return segment;
    }

    @Override
    public synchronized void free(MemorySegment segment) {
        Allocation allocation = live.remove(segment.address());
        if (allocation == null) {
            throw new IllegalStateException((released.contains(segment.address()) ? "Double free of host address 0x"
                    : "Free of unknown host address 0x") + Long.toHexString(segment.address()));
        }
        released.add(segment.address());
        usedBytes -= allocation.size();
        freeCount++;
        allocation.arena().close();
    }

    public synchronized long allocationCount() {
        return allocationCount;
    }

    public synchronized long freeCount() {
        return freeCount;
    }

    public synchronized long usedBytes() {
        return usedBytes;
    }
}
