package dev.ember.tensor;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Recycles released storages so that the next tensor of the same size class reuses them, which
 * is what a training loop does every step. Two tiers:
 * <ul>
 *   <li>small (up to {@link #SMALL_MAX} bytes): per-thread free lists by 64-byte class, capped;
 *       malloc, free and the Cleaner registration cost more than a tiny op's arithmetic;</li>
 *   <li>large: one shared cache by size class (sizes rounded up by at most 1/8), holding at most
 *       {@link #largeCapacity()} bytes; a fresh large block from the C heap is freshly mapped
 *       pages, and faulting those in costs more than an elementwise op over them.</li>
 * </ul>
 * A storage is only recycled once its reference count reached zero, and every tensor checks its
 * own closed flag, so a stale handle never reaches recycled memory. {@link #clear()} returns
 * the large tier to the C heap (also done automatically when an allocation fails).
 */
final class StorageCache {
    static final long SMALL_MAX = 4096;
    private static final int SMALL_CLASS = 64;
    private static final int SMALL_CLASSES = (int) (SMALL_MAX / SMALL_CLASS);
    private static final int SMALL_PER_CLASS = 16;

    private static final ThreadLocal<Storage[][]> SMALL = ThreadLocal.withInitial(() -> new Storage[SMALL_CLASSES][]);
    private static final ThreadLocal<int[]> SMALL_COUNT = ThreadLocal.withInitial(() -> new int[SMALL_CLASSES]);

    private static final Map<Long, ArrayDeque<Storage>> LARGE = new HashMap<>();
    private static long largeBytes;
    private static final long LARGE_CAPACITY = Long.getLong("ember.cpu.cacheBytes", 256L << 20);

    private StorageCache() {}

    /** The size a request is served with: small sizes round to 64 B, large ones up by at most 1/8. */
    static long roundUp(long bytes) {
        if (bytes <= SMALL_MAX) return Math.max(SMALL_CLASS, (bytes + SMALL_CLASS - 1) / SMALL_CLASS * SMALL_CLASS);
        long step = Math.max(4096, Long.highestOneBit(bytes) >> 3);
        return (bytes + step - 1) / step * step;
    }

    /**
     * Bytes the large tier may hold (system property {@code ember.cpu.cacheBytes}, default
     * 256 MiB: a training step's working set, with room to spare, without holding on to memory).
     */
    static long largeCapacity() { return LARGE_CAPACITY; }

    /** A recycled storage for a request of {@code bytes}, or null. */
    static Storage take(long bytes) {
        long size = roundUp(bytes);
        if (size <= SMALL_MAX) {
            int c = (int) (size / SMALL_CLASS) - 1;
            int[] count = SMALL_COUNT.get();
            if (count[c] == 0) return null;
            Storage[] list = SMALL.get()[c];
            Storage s = list[--count[c]];
            list[count[c]] = null;
            return s;
        }
        synchronized (LARGE) {
            ArrayDeque<Storage> q = LARGE.get(size);
            Storage s = q == null ? null : q.pollLast();
            if (s != null) {
                largeBytes -= size;
                MemoryStats.uncached(size);
            }
            return s;
        }
    }

    /** Keeps {@code s} for reuse; false when its tier is full (the caller frees it). */
    static boolean offer(Storage s) {
        long size = s.bytes();
        if (size <= SMALL_MAX) {
            int c = (int) (size / SMALL_CLASS) - 1;
            int[] count = SMALL_COUNT.get();
            if (count[c] == SMALL_PER_CLASS) return false;
            Storage[][] lists = SMALL.get();
            if (lists[c] == null) lists[c] = new Storage[SMALL_PER_CLASS];
            lists[c][count[c]++] = s;
            return true;
        }
        synchronized (LARGE) {
            if (largeBytes + size > LARGE_CAPACITY) return false;
            LARGE.computeIfAbsent(size, k -> new ArrayDeque<>()).addLast(s);
            largeBytes += size;
            MemoryStats.cached(size);
            return true;
        }
    }

    /** Frees every cached large storage back to the C heap. */
    static void clear() {
        synchronized (LARGE) {
            for (ArrayDeque<Storage> q : LARGE.values()) {
                for (Storage s : q) {
                    MemoryStats.uncached(s.bytes());
                    s.free();
                }
            }
            LARGE.clear();
            largeBytes = 0;
        }
    }
}
