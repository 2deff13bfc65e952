package dev.ember.memory;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * A caching allocator of page-locked host memory for asynchronous copies, like PyTorch's
 * CachingHostAllocator. Page-locking is slow (it maps and pins pages), so blocks are kept
 * after free, in free lists by size rounded up to a power of two.
 *
 * <p>An asynchronous copy reads or writes the block after the call returns, so a block
 * freed while copies are queued must not be handed out again yet: after
 * {@link #recordStream} names the streams the copies were queued on, {@link #free} records
 * an event on each and the block returns to its free list once they have all completed.
 * Thread-safe.
 */
public final class PinnedHostAllocator {
    /** The smallest block; smaller requests are rounded up to it. */
    public static final long MIN_SIZE = 512;
    private static final int BUCKETS = 64;

    private final RawHostMemory raw;
    private final Device device;
    private final ReentrantLock lock = new ReentrantLock();
    /** Free blocks, indexed by log2 of their size. */
    private final List<ArrayDeque<PinnedBlock>> freeLists = new ArrayList<>(BUCKETS);
    private final PendingEvents<PinnedBlock> pendingEvents;
    private final Consumer<PinnedBlock> onEventCompleted = this::eventCompleted;
    private final StatCounter allocatedBytes = new StatCounter();
    private final StatCounter reservedBytes = new StatCounter();
    private int pendingBlocks;
    private long hostAllocs;
    private long hostFrees;

    public PinnedHostAllocator(RawHostMemory raw) {
        this(raw, null);
    }

    /** The allocator serving streams of one CUDA device; see {@link CudaMemory#pinnedHost(Device)}. */
    PinnedHostAllocator(RawHostMemory raw, Device device) {
        this.raw = Objects.requireNonNull(raw, "raw");
        this.device = device;
        this.pendingEvents = new PendingEvents<>(raw);
        for (int i = 0; i < BUCKETS; i++) {
            freeLists.add(new ArrayDeque<>());
        }
    }

    /** The size a request is served with: a power of two, at least {@link #MIN_SIZE}. */
    public static long roundSize(long bytes) {
        if (bytes <= MIN_SIZE) {
            return MIN_SIZE;
        }
        return Long.highestOneBit(bytes - 1) << 1;
    }

    /** Page-locked memory of at least {@code bytes}, from the cache when a block of its size class is free. */
    public PinnedBlock allocate(long bytes) {
        if (bytes < 0 || bytes > (1L << 62)) {
            throw new IllegalArgumentException("Cannot allocate " + bytes + " bytes of pinned memory");
        }
        long size = roundSize(bytes);
        int bucket = Long.numberOfTrailingZeros(size);
        lock.lock();
        try {
            pendingEvents.poll(onEventCompleted);
            PinnedBlock block = freeLists.get(bucket).pollFirst();
            if (block == null) {
                block = new PinnedBlock(this, allocateHost(size), bucket);
                hostAllocs++;
                reservedBytes.increase(size);
            }
            block.allocated = true;
            block.view = block.memory.asSlice(0, bytes);
            allocatedBytes.increase(size);
            return block;
        } finally {
            lock.unlock();
        }
    }

    /** Notes that copies queued on the stream with this handle use {@code block}. */
    public void recordStream(PinnedBlock block, long stream) {
        checkOwner(block);
        lock.lock();
        try {
            if (!block.allocated) {
                throw new IllegalStateException("recordStream on a freed block: " + block);
            }
            if (block.streamUses == null) {
                block.streamUses = new StreamSet();
            }
            block.streamUses.add(stream);
        } finally {
            lock.unlock();
        }
    }

    /** Notes that copies queued on {@code stream} use {@code block}. */
    public void recordStream(PinnedBlock block, Stream stream) {
        Objects.requireNonNull(stream, "stream");
        if (device != null && !stream.device().equals(device)) {
            throw new IllegalArgumentException("The pinned allocator of " + device + " cannot track a stream of "
                    + stream.device());
        }
        recordStream(block, stream.handle());
    }

    /** Returns a block; it is reused once the copies queued on its recorded streams have completed. */
    public void free(PinnedBlock block) {
        checkOwner(block);
        lock.lock();
        try {
            if (!block.allocated) {
                throw new IllegalStateException("Double free of " + block);
            }
            pendingEvents.poll(onEventCompleted);
            block.allocated = false;
            block.view = null;
            allocatedBytes.decrease(block.memory.byteSize());
            StreamSet uses = block.streamUses;
            if (uses == null || uses.isEmpty()) {
                freeLists.get(block.bucket).addFirst(block);
                return;
            }
            for (int i = 0; i < uses.size(); i++) {
                pendingEvents.record(uses.get(i), block);
                block.pendingEvents++;
            }
            uses.clear();
            pendingBlocks++;
        } finally {
            lock.unlock();
        }
    }

    /** Waits for pending copies' events and releases every cached block. */
    public void emptyCache() {
        lock.lock();
        try {
            pendingEvents.drain(onEventCompleted);
            releaseCached();
            pendingEvents.destroyIdleEvents();
        } finally {
            lock.unlock();
        }
    }

    public PinnedHostStats stats() {
        lock.lock();
        try {
            return new PinnedHostStats(allocatedBytes.snapshot(), reservedBytes.snapshot(), pendingBlocks, hostAllocs,
                    hostFrees);
        } finally {
            lock.unlock();
        }
    }

    /** Allocates page-locked memory; on failure releases the cache and tries once more. */
    private MemorySegment allocateHost(long size) {
        try {
            return raw.allocate(size);
        } catch (RuntimeException first) {
            if (reservedBytes.current() == allocatedBytes.current() && pendingBlocks == 0) {
                throw first;
            }
            pendingEvents.drain(onEventCompleted);
            releaseCached();
            return raw.allocate(size);
        }
    }

    private void eventCompleted(PinnedBlock block) {
        if (--block.pendingEvents == 0) {
            pendingBlocks--;
            freeLists.get(block.bucket).addFirst(block);
        }
    }

    private void releaseCached() {
        for (ArrayDeque<PinnedBlock> list : freeLists) {
            PinnedBlock block;
            while ((block = list.pollFirst()) != null) {
                raw.free(block.memory);
                hostFrees++;
                reservedBytes.decrease(block.memory.byteSize());
            }
        }
    }

    private void checkOwner(PinnedBlock block) {
        Objects.requireNonNull(block, "block");
        if (block.owner != this) {
            throw new IllegalArgumentException(block + " does not belong to this pinned allocator");
        }
    }
}
