package dev.ember.memory;

import java.lang.foreign.MemorySegment;

/**
 * The operations under {@link PinnedHostAllocator}: page-locked host memory that the device
 * can copy from and to asynchronously, and events on the streams that use it.
 */
public interface RawHostMemory extends RawEvents {
    /** Allocates {@code bytes} of page-locked host memory; throws when that fails. */
    MemorySegment allocate(long bytes);

    /** Frees memory returned by {@link #allocate}. */
    void free(MemorySegment segment);
}
