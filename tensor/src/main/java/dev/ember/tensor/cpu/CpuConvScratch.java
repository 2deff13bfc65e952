package dev.ember.tensor.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Scratch memory for column matrices. Each thread keeps one buffer of up to {@link #KEEP}
 * bytes between calls, so a training loop allocates nothing per step; a larger request gets
 * memory of its own, freed when the lease closes, so one huge convolution does not pin its
 * columns for the life of the thread.
 */
final class CpuConvScratch implements AutoCloseable {
    /** The most a thread keeps: the columns of a 3×3 convolution over 64 channels of 56×56. */
    private static final long KEEP = 8L << 20;
    /** Alignment of the buffers: one cache line, so vector loads do not straddle lines. */
    private static final long ALIGN = 64;
    private static final ThreadLocal<MemorySegment> KEPT = new ThreadLocal<>();

    /** At least the requested bytes, 64-byte aligned; contents undefined. */
    final MemorySegment segment;
    private final Arena owned;

    private CpuConvScratch(MemorySegment segment, Arena owned) {
        this.segment = segment;
        this.owned = owned;
    }

    /** A buffer of at least {@code bytes} for the calling thread; close it when done. */
    static CpuConvScratch take(long bytes) {
        if (bytes > KEEP) {
            // shared, not confined: a product on it may be split across the pool's threads
            Arena arena = Arena.ofShared();
            return new CpuConvScratch(arena.allocate(bytes, ALIGN), arena);
        }
        MemorySegment kept = KEPT.get();
        if (kept == null || kept.byteSize() < bytes) {
            kept = Arena.ofAuto().allocate(Math.max(bytes, 64 << 10), ALIGN);
            KEPT.set(kept);
        }
        return new CpuConvScratch(kept, null);
    }

    @Override
    public void close() {
        if (owned != null) owned.close();
    }
}
