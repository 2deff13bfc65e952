package dev.ember.memory;

import java.lang.foreign.MemorySegment;

/**
 * Page-locked host memory from a {@link PinnedHostAllocator}, the source or target of
 * asynchronous copies. Valid until freed.
 */
public final class PinnedBlock {
    final PinnedHostAllocator owner;
    /** The whole cached allocation, a power of two in size. */
    final MemorySegment memory;
    final int bucket;
    MemorySegment view;
    boolean allocated;
    int pendingEvents;
    /** Streams whose queued copies use this block; null until the first. */
    StreamSet streamUses;

    PinnedBlock(PinnedHostAllocator owner, MemorySegment memory, int bucket) {
        this.owner = owner;
        this.memory = memory;
        this.bucket = bucket;
    }

    /** The memory, exactly as many bytes as were requested. */
    public MemorySegment segment() {
        if (!allocated) {
            throw new IllegalStateException("Pinned block used after free");
        }
        return view;
    }

    /** Notes that copies queued on {@code stream} use this block, so it is not reused before they run. */
    public void recordStream(Stream stream) {
        owner.recordStream(this, stream);
    }

    /** Returns this block to its allocator (reused once the copies recorded on its streams have run). */
    public void free() {
        owner.free(this);
    }

    /** Host address of the first byte, for driver calls. */
    public long address() {
        return memory.address();
    }

    /** Bytes requested. */
    public long requestedSize() {
        return view.byteSize();
    }

    /** Bytes held: the request rounded up to a power of two. */
    public long capacity() {
        return memory.byteSize();
    }

    public boolean isAllocated() {
        return allocated;
    }

    @Override
    public String toString() {
        return "PinnedBlock(0x" + Long.toHexString(address()) + ", " + capacity() + " bytes"
                + (allocated ? ", allocated)" : pendingEvents > 0 ? ", pending free)" : ", free)");
    }
}
