package dev.ember.tensor;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Off-heap accounting of CPU tensor storage: live and peak bytes, and how many storages the
 * {@link java.lang.ref.Cleaner} safety net had to reclaim because nobody closed them.
 */
public final class MemoryStats {
    private static final AtomicLong LIVE = new AtomicLong();
    private static final AtomicLong PEAK = new AtomicLong();
    private static final AtomicLong LEAKED = new AtomicLong();
    private static final AtomicLong LIVE_STORAGES = new AtomicLong();
    private static final AtomicLong CACHED = new AtomicLong();

    private MemoryStats() {}

    /** Bytes of off-heap tensor storage currently allocated. */
    public static long liveBytes() { return LIVE.get(); }

    /** The most {@link #liveBytes()} has been since start or the last {@link #resetPeak()}. */
    public static long peakBytes() { return PEAK.get(); }

    /** Storages currently allocated. */
    public static long liveStorages() { return LIVE_STORAGES.get(); }

    /** Storages that became unreachable without being closed and were freed by the Cleaner. */
    public static long leakedStorages() { return LEAKED.get(); }

    /** Bytes released by tensors but kept by the large-storage cache for reuse (not in live bytes). */
    public static long cachedBytes() { return CACHED.get(); }

    /** Frees the storages kept for reuse back to the C heap, as torch.cuda.empty_cache does for the GPU. */
    public static void emptyCache() { StorageCache.clear(); }

    /** Sets the peak to the current live bytes. */
    public static void resetPeak() { PEAK.set(LIVE.get()); }

    static void allocated(long bytes) {
        long live = LIVE.addAndGet(bytes);
        LIVE_STORAGES.incrementAndGet();
        long peak;
        while (live > (peak = PEAK.get()) && !PEAK.compareAndSet(peak, live)) {
            // another thread raised the peak concurrently; retry with its value
        }
    }

    static void cached(long bytes) { CACHED.addAndGet(bytes); }

    static void uncached(long bytes) { CACHED.addAndGet(-bytes); }

    static void freed(long bytes, boolean byCleaner) {
        LIVE.addAndGet(-bytes);
        LIVE_STORAGES.decrementAndGet();
        if (byCleaner) LEAKED.incrementAndGet();
    }
}
