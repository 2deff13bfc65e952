package dev.ember.memory;

/**
 * One allocation from the device, carved into blocks. All its blocks belong to the stream
 * and pool it was allocated for; it is returned to the device only when it is one free block.
 */
final class Segment {
    final long address;
    final long size;
    final long stream;
    final boolean small;
    /** The block at {@link #address}: the start of the block list, updated as blocks split and merge. */
    Block head;

    Segment(long address, long size, long stream, boolean small) {
        this.address = address;
        this.size = size;
        this.stream = stream;
        this.small = small;
    }
}
