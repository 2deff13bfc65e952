package dev.ember.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A reference-counted block of off-heap memory shared by a tensor and all its views. Each
 * {@link Tensor} holds one reference; the memory is released when the last one is closed. If
 * tensors escape without being closed, the {@link Cleaner} frees the memory once the storage is
 * unreachable and counts it as a leak in {@link MemoryStats#leakedStorages()}.
 *
 * <p>Released storages are recycled through {@link StorageCache} rather than freed at once.
 */
final class Storage {
    private static final Cleaner CLEANER = Cleaner.create();

    private final MemorySegment segment;
    private final long bytes;
    private final AtomicInteger refs = new AtomicInteger(1);
    /** Bumped by every in-place write through any view, so autograd can tell a saved tensor changed. */
    int version;
    private final Deallocator deallocator;
    private final Cleaner.Cleanable cleanable;

    /** A storage of at least {@code bytes} bytes (uninitialised), holding one reference. */
    static Storage allocate(long bytes) {
        Storage s = StorageCache.take(bytes);
        if (s != null) {
            s.refs.set(1);
            s.version = 0;
            s.deallocator.explicit = false;
            MemoryStats.allocated(s.bytes);
            return s;
        }
        long size = StorageCache.roundUp(bytes);
        try {
            return new Storage(size);
        } catch (OutOfMemoryError e) {
            StorageCache.clear(); // cached blocks of other sizes may be what stands in the way
            return new Storage(size);
        }
    }

    private Storage(long bytes) {
        this.bytes = bytes;
        long address = NativeHeap.allocate(bytes);
        this.segment = MemorySegment.ofAddress(address).reinterpret(bytes);
        MemoryStats.allocated(bytes);
        this.deallocator = new Deallocator(address, bytes);
        this.cleanable = CLEANER.register(this, deallocator);
    }

    MemorySegment segment() { return segment; }

    long bytes() { return bytes; }

    boolean isOpen() { return refs.get() > 0; }

    /** Adds a reference for a new view; fails if the storage was already released. */
    void retain() {
        int r;
        do {
            r = refs.get();
            if (r <= 0) throw new IllegalStateException("Tensor storage was already freed (use after close)");
        } while (!refs.compareAndSet(r, r + 1));
    }

    /** Drops a reference; releases the memory (to the pool or the C heap) when it was the last. */
    void release() {
        int r = refs.decrementAndGet();
        if (r == 0) {
            MemoryStats.freed(bytes, false);
            // A cached storage is reachable from the cache; should a thread's small cache be
            // dropped (the thread ended), the Cleaner frees the memory without counting a leak.
            deallocator.explicit = true;
            if (!StorageCache.offer(this)) cleanable.clean();
        } else if (r < 0) {
            throw new IllegalStateException("Tensor storage released more often than retained");
        }
    }

    /** Returns the memory of a storage nobody refers to (one leaving the cache) to the C heap. */
    void free() {
        cleanable.clean();
    }

    /** Holds no reference to the Storage, so the Cleaner can run once the storage is unreachable. */
    private static final class Deallocator implements Runnable {
        private final long address;
        private final long bytes;
        volatile boolean explicit;

        Deallocator(long address, long bytes) {
            this.address = address;
            this.bytes = bytes;
        }

        @Override
        public void run() {
            NativeHeap.free(address);
            // an explicit release already took the bytes off the live count
            if (!explicit) MemoryStats.freed(bytes, true);
        }
    }
}
