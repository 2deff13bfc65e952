package dev.ember.memory;

/**
 * Thrown when a device allocation fails even after the allocator released its cache. The
 * message says what was asked for and where the memory is, as PyTorch's "CUDA out of
 * memory" error does, and the same numbers are available as fields.
 */
public final class OutOfMemoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final long requestedBytes;
    private final long allocatedBytes;
    private final long reservedBytes;
    private final long freeBytes;
    private final long totalBytes;

    public OutOfMemoryException(String device, long requestedBytes, long allocatedBytes, long reservedBytes,
                                long freeBytes, long totalBytes) {
        super(message(device, requestedBytes, allocatedBytes, reservedBytes, freeBytes, totalBytes));
        this.requestedBytes = requestedBytes;
        this.allocatedBytes = allocatedBytes;
        this.reservedBytes = reservedBytes;
        this.freeBytes = freeBytes;
        this.totalBytes = totalBytes;
    }

    private static String message(String device, long requested, long allocated, long reserved, long free,
                                  long total) {
        return device + " out of memory. Tried to allocate " + ByteSizes.format(requested)
                + " (" + requested + " bytes). The device has a total capacity of " + ByteSizes.format(total)
                + " of which " + ByteSizes.format(free) + " is free. Ember has " + ByteSizes.format(allocated)
                + " allocated and " + ByteSizes.format(reserved) + " reserved, of which "
                + ByteSizes.format(reserved - allocated) + " is reserved but unallocated (free space in segments"
                + " that also hold live blocks, or blocks still in use by other streams).";
    }

    /** Bytes the failed allocation asked for. */
    public long requestedBytes() {
        return requestedBytes;
    }

    /** Bytes held in live allocations when it failed. */
    public long allocatedBytes() {
        return allocatedBytes;
    }

    /** Bytes the allocator held from the device when it failed. */
    public long reservedBytes() {
        return reservedBytes;
    }

    /** Free device bytes as the driver reported them. */
    public long freeBytes() {
        return freeBytes;
    }

    /** Device capacity in bytes. */
    public long totalBytes() {
        return totalBytes;
    }
}
