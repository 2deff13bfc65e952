package dev.ember.tensor;

import dev.ember.memory.Block;
import dev.ember.memory.CachingAllocator;
import dev.ember.memory.CudaMemory;
import dev.ember.memory.Device;
import dev.ember.memory.Event;
import dev.ember.memory.PinnedBlock;
import dev.ember.memory.Stream;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A reference-counted block of off-heap memory shared by a tensor and all its views. Each
 * {@link Tensor} holds one reference; the memory is released when the last one is closed. If
 * tensors escape without being closed, the {@link Cleaner} frees the memory once the storage is
 * unreachable and counts it as a leak in {@link MemoryStats#leakedStorages()}.
 *
 * <p>Host storages are off-heap C memory, recycled through {@link StorageCache} rather than
 * freed at once. Device storages are blocks of the device's {@link CachingAllocator} (which does
 * its own caching), allocated on the thread's current stream; their {@link #segment()} refuses
 * to hand out the device address as host memory, so a CPU kernel given a CUDA tensor fails with
 * a message instead of crashing the JVM.
 */
final class Storage {
    private static final Cleaner CLEANER = Cleaner.create();

    /** Host memory; null for a device storage. */
    private final MemorySegment segment;
    /** The device block; null for a host storage. */
    private final Block block;
    /** Page-locked host memory (a pinned host storage); null otherwise. */
    private final PinnedBlock pinned;
    /**
     * An asynchronous device-to-host copy into this (pinned) storage that host reads must wait
     * for; null when none is pending. Set by the thread that queued the copy; like PyTorch's
     * non-blocking copies, other threads see the data only after synchronising with it.
     */
    private Event pendingCopy;
    private final Device device;
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
        this.device = Device.cpu();
        this.block = null;
        this.pinned = null;
        long address = NativeHeap.allocate(bytes);
        this.segment = MemorySegment.ofAddress(address).reinterpret(bytes);
        MemoryStats.allocated(bytes);
        this.deallocator = new Deallocator(address, bytes, null, null, null);
        this.cleanable = CLEANER.register(this, deallocator);
    }

    /** {@code bytes} of memory on a CUDA device, owned by the device's current stream on this thread. */
    static Storage allocate(Device device, long bytes) {
        if (device.isCpu()) return allocate(bytes);
        return new Storage(device, bytes);
    }

    private Storage(Device device, long bytes) {
        CachingAllocator allocator = CudaMemory.allocator(device);
        this.block = allocator.allocate(Math.max(bytes, 1), Stream.current(device));
        this.device = device;
        this.bytes = bytes;
        this.segment = null;
        this.pinned = null;
        this.deallocator = new Deallocator(0, bytes, allocator, block, null);
        this.cleanable = CLEANER.register(this, deallocator);
    }

    /**
     * {@code bytes} of page-locked host memory, from the pinned allocator of the CUDA device
     * that copies will use: a host storage whose copies to and from that device can be queued
     * without the driver staging them.
     */
    static Storage allocatePinned(Device copiesWith, long bytes) {
        return new Storage(CudaMemory.pinnedHost(copiesWith).allocate(Math.max(bytes, 1)), bytes);
    }

    private Storage(PinnedBlock pinned, long bytes) {
        this.pinned = pinned;
        this.block = null;
        this.device = Device.cpu();
        this.bytes = bytes;
        this.segment = pinned.segment().reinterpret(bytes);
        this.deallocator = new Deallocator(0, bytes, null, null, pinned);
        this.cleanable = CLEANER.register(this, deallocator);
    }

    /** Whether this is page-locked host memory. */
    boolean isPinned() { return pinned != null; }

    /** The pinned block (a pinned storage only), e.g. to record the streams whose copies read it. */
    PinnedBlock pinnedBlock() { return pinned; }

    /** Makes host reads wait for {@code copy} (an event recorded after a copy into this storage). */
    void setPendingCopy(Event copy) {
        Event previous = pendingCopy;
        pendingCopy = copy;
        if (previous != null) previous.close();
    }
    Device device() { return device; }

    /** The host memory; fails for a device storage (a CPU kernel was handed a CUDA tensor). */
    MemorySegment segment() {
        if (pendingCopy != null) awaitCopy();
        if (segment == null) {
            throw new IllegalStateException("Expected a tensor on cpu, but got one on " + device
                    + ": this operation reads host memory; move the tensor with .cpu() first");
        }
        return segment;
    }

    private void awaitCopy() {
        Event copy = pendingCopy;
        pendingCopy = null;
        try (copy) {
            copy.synchronize();
        }
    }

    /** The device address of byte 0 (a device storage only). */
    long deviceAddress() {
        if (block == null) throw new IllegalStateException("a host storage has no device address");
        return block.address();
    }

    /** The device block (a device storage only), e.g. to record the streams that use it. */
    Block block() { return block; }

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
        if (r == 0 && (block != null || pinned != null)) {
            if (pendingCopy != null) setPendingCopy(null); // the pinned allocator waits for the copy's stream itself
            deallocator.explicit = true;
            cleanable.clean(); // back to the caching allocator, on the stream that owns the block
        } else if (r == 0) {
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
        private final CachingAllocator allocator;
        private final Block block;
        private final PinnedBlock pinned;
        volatile boolean explicit;

        Deallocator(long address, long bytes, CachingAllocator allocator, Block block, PinnedBlock pinned) {
            this.address = address;
            this.bytes = bytes;
            this.allocator = allocator;
            this.block = block;
            this.pinned = pinned;
        }

        @Override
        public void run() {
            if (block != null) {
                allocator.free(block);
                return;
            }
            if (pinned != null) {
                pinned.free(); // reused only once the copies recorded on its streams have run
                return;
            }
            NativeHeap.free(address);
            // an explicit release already took the bytes off the live count
            if (!explicit) MemoryStats.freed(bytes, true);
        }
    }
}
