package dev.ember.memory;

/**
 * A range of device memory inside a segment obtained from the device, owned by the stream it
 * was allocated on. {@link CachingAllocator#allocate} hands blocks out as allocation handles;
 * inside the allocator, free blocks are split and merged with their neighbours, so a handle
 * must not be used after it has been freed.
 */
public final class Block {
    final CachingAllocator owner;
    final Segment segment;
    /** Fixed at construction, except in a pool's search key. */
    long stream;
    long address;
    long size;
    long requestedSize;
    boolean allocated;
    /** Events recorded at free time on other streams that have not yet been seen complete. */
    int pendingEvents;
    /** Streams other than {@link #stream} this block was used on; null until the first. */
    StreamSet streamUses;
    /** Neighbours within the segment, by address; null at the segment's ends. */
    Block prev;
    Block next;

    Block(CachingAllocator owner, Segment segment, long address, long size) {
        this.owner = owner;
        this.segment = segment;
        this.stream = segment.stream;
        this.address = address;
        this.size = size;
    }

    /** Device address of the first byte. */
    public long address() {
        return address;
    }

    /** Usable bytes: the request rounded up by the allocator. */
    public long size() {
        return size;
    }

    /** The byte count that was asked for. */
    public long requestedSize() {
        return requestedSize;
    }

    /** Handle of the stream the block was allocated on and is ordered by. */
    public long stream() {
        return stream;
    }

    /** True from allocation until {@link CachingAllocator#free}. */
    public boolean isAllocated() {
        return allocated;
    }

    /** Part of a segment that holds other blocks too. */
    boolean isSplit() {
        return prev != null || next != null;
    }

    /** Free and in a pool: neither allocated nor waiting for another stream's events. */
    boolean isInPool() {
        return !allocated && pendingEvents == 0;
    }

    boolean isSmall() {
        return segment.small;
    }

    @Override
    public String toString() {
        return "Block(0x" + Long.toHexString(address) + ", " + size + " bytes, stream 0x" + Long.toHexString(stream)
                + (allocated ? ", allocated)" : pendingEvents > 0 ? ", pending free)" : ", free)");
    }
}
