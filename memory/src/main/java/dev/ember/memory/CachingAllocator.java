package dev.ember.memory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The caching, stream-ordered device allocator, following PyTorch's CUDACachingAllocator.
 *
 * <ul>
 * <li>Requests are rounded up to multiples of 512 B. Requests up to 1 MiB come from the small
 *     pool, carved from 2 MiB segments; larger ones from the large pool, whose segments are
 *     20 MiB for requests under 10 MiB and the request rounded up to 2 MiB otherwise.</li>
 * <li>A request takes the smallest free block of its pool on its stream that fits (best fit),
 *     and the block is split when the rest is worth keeping: at least 512 B in the small pool,
 *     more than 1 MiB in the large pool. A freed block merges with free neighbours.</li>
 * <li>Every block belongs to the stream it was allocated on, and is reused only by work on
 *     that stream, which the stream orders after earlier uses. A block also used on other
 *     streams ({@link #recordStream}) is not reused until events recorded on each of those
 *     streams at free time have completed; they are polled on every allocate and free.</li>
 * <li>When the device is out of memory, the allocator waits for its pending events, returns
 *     every cached segment that is wholly free, and retries once; if that fails too it throws
 *     {@link OutOfMemoryException}.</li>
 * </ul>
 *
 * The allocator works on a {@link RawDeviceMemory}, so the same code runs on a GPU and on a
 * {@link SimulatedDevice}. It is thread-safe: one lock guards all state, and the common path
 * (a cached block fits) takes it once and makes no device call.
 */
public final class CachingAllocator {
    /** Every block size is a multiple of this. */
    public static final long MIN_BLOCK_SIZE = 512;
    /** Largest request served from the small pool. */
    public static final long SMALL_SIZE = 1L << 20;
    /** Segment size of the small pool. */
    public static final long SMALL_BUFFER = 2L << 20;
    /** Segment size for large-pool requests under {@link #MIN_LARGE_ALLOC}. */
    public static final long LARGE_BUFFER = 20L << 20;
    /** Large-pool requests from this size get a segment of their own size, rounded to {@link #ROUND_LARGE}. */
    public static final long MIN_LARGE_ALLOC = 10L << 20;
    /** Granularity of large segments. */
    public static final long ROUND_LARGE = 2L << 20;
    /** Beyond any device; keeps the rounding arithmetic from overflowing. */
    private static final long MAX_REQUEST = 1L << 60;

    private final RawDeviceMemory raw;
    private final String deviceName;
    /** The CUDA device whose streams this allocator serves, or null for a simulated device. */
    private final Device device;
    private final ReentrantLock lock = new ReentrantLock();
    private final BlockPool smallPool = new BlockPool(true);
    private final BlockPool largePool = new BlockPool(false);
    private final Set<Segment> segments = new HashSet<>();
    private final PendingEvents<Block> pendingEvents;
    private final Consumer<Block> onEventCompleted = this::eventCompleted;

    private final StatCounter allocatedBytes = new StatCounter();
    private final StatCounter reservedBytes = new StatCounter();
    private final StatCounter activeBytes = new StatCounter();
    private final StatCounter inactiveSplitBytes = new StatCounter();
    private final StatCounter allocations = new StatCounter();
    private final StatCounter segmentCount = new StatCounter();
    private final StatCounter activeBlocks = new StatCounter();
    private final StatCounter inactiveSplitBlocks = new StatCounter();
    private long deviceMallocs;
    private long deviceFrees;
    private long allocRetries;
    private long ooms;

    /**
     * An allocator over {@code raw}; {@code deviceName} names the device in error messages
     * and snapshots.
     */
    public CachingAllocator(RawDeviceMemory raw, String deviceName) {
        this(raw, deviceName, null);
    }

    /** The allocator for a CUDA device; see {@link CudaMemory#allocator(Device)}. */
    CachingAllocator(RawDeviceMemory raw, Device device) {
        this(raw, device.toString(), device);
    }

    private CachingAllocator(RawDeviceMemory raw, String deviceName, Device device) {
        this.raw = Objects.requireNonNull(raw, "raw");
        this.deviceName = Objects.requireNonNull(deviceName, "deviceName");
        this.device = device;
        this.pendingEvents = new PendingEvents<>(raw);
    }

    /** The request rounded up to a multiple of {@link #MIN_BLOCK_SIZE}; at least one block. */
    public static long roundSize(long bytes) {
        if (bytes < MIN_BLOCK_SIZE) {
            return MIN_BLOCK_SIZE;
        }
        return (bytes + MIN_BLOCK_SIZE - 1) / MIN_BLOCK_SIZE * MIN_BLOCK_SIZE;
    }

    /** True when a request of this (rounded) size is served from the small pool. */
    public static boolean isSmall(long roundedSize) {
        return roundedSize <= SMALL_SIZE;
    }

    /** The size of the segment obtained from the device when no cached block fits a rounded request. */
    public static long segmentSize(long roundedSize) {
        if (roundedSize <= SMALL_SIZE) {
            return SMALL_BUFFER;
        }
        if (roundedSize < MIN_LARGE_ALLOC) {
            return LARGE_BUFFER;
        }
        return (roundedSize + ROUND_LARGE - 1) / ROUND_LARGE * ROUND_LARGE;
    }

    /** Whether a block with {@code remaining} bytes left over is split (PyTorch's should_split). */
    static boolean shouldSplit(boolean small, long remaining) {
        return small ? remaining >= MIN_BLOCK_SIZE : remaining > SMALL_SIZE;
    }

    /** The device name used in messages and snapshots. */
    public String deviceName() {
        return deviceName;
    }

    /** Allocates at least {@code bytes} (a zero-byte request gets one 512 B block) ordered by {@code stream}. */
    public Block allocate(long bytes, Stream stream) {
        return allocate(bytes, streamHandle(stream));
    }

    /**
     * Allocates at least {@code bytes} for use on the stream with this handle. The block may
     * be used at once by work queued on that stream; see {@link #recordStream} for others.
     *
     * @throws OutOfMemoryException when the device cannot provide the memory even after the cache is freed
     */
    public Block allocate(long bytes, long stream) {
        if (bytes < 0 || bytes > MAX_REQUEST) {
            throw new IllegalArgumentException("Cannot allocate " + bytes + " bytes");
        }
        long size = roundSize(bytes);
        BlockPool pool = isSmall(size) ? smallPool : largePool;
        lock.lock();
        try {
            pendingEvents.poll(onEventCompleted);
            Block block = pool.bestFit(stream, size);
            if (block != null) {
                pool.remove(block);
            } else {
                block = blockFromDevice(bytes, size, stream, pool);
            }
            return handOut(block, size, bytes, pool);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Returns a block. If it was used on streams other than its own, it becomes reusable only
     * once the work queued on those streams up to now has completed.
     */
    public void free(Block block) {
        checkOwner(block);
        lock.lock();
        try {
            if (!block.allocated) {
                throw new IllegalStateException("Double free of " + block);
            }
            pendingEvents.poll(onEventCompleted);
            block.allocated = false;
            allocations.decrease(1);
            allocatedBytes.decrease(block.size);
            StreamSet uses = block.streamUses;
            if (uses == null || uses.isEmpty()) {
                freeBlock(block);
                return;
            }
            for (int i = 0; i < uses.size(); i++) {
                pendingEvents.record(uses.get(i), block);
                block.pendingEvents++;
            }
            uses.clear();
        } finally {
            lock.unlock();
        }
    }

    /** Notes that {@code block} is used by work on {@code stream}, like {@code Tensor.record_stream}. */
    public void recordStream(Block block, Stream stream) {
        recordStream(block, streamHandle(stream));
    }

    /**
     * Notes that {@code block} is used by work queued on the stream with this handle, so
     * that when the block is freed it is not reused before that work has run. Uses on the
     * block's own stream need nothing: the stream orders them.
     */
    public void recordStream(Block block, long stream) {
        checkOwner(block);
        lock.lock();
        try {
            if (!block.allocated) {
                throw new IllegalStateException("recordStream on a freed block: " + block);
            }
            if (stream == block.stream) {
                return;
            }
            if (block.streamUses == null) {
                block.streamUses = new StreamSet();
            }
            block.streamUses.add(stream);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits for pending cross-stream events, then returns every cached segment with no
     * allocated block to the device, like {@code torch.cuda.empty_cache()}.
     */
    public void emptyCache() {
        lock.lock();
        try {
            pendingEvents.drain(onEventCompleted);
            releaseCachedSegments();
            pendingEvents.destroyIdleEvents();
        } finally {
            lock.unlock();
        }
    }

    public AllocatorStats stats() {
        lock.lock();
        try {
            return statsLocked();
        } finally {
            lock.unlock();
        }
    }

    /** Sets every peak to its current value, like {@code torch.cuda.reset_peak_memory_stats()}. */
    public void resetPeakStats() {
        lock.lock();
        try {
            for (StatCounter s : List.of(allocatedBytes, reservedBytes, activeBytes, inactiveSplitBytes, allocations,
                    segmentCount, activeBlocks, inactiveSplitBlocks)) {
                s.resetPeak();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Every segment and block, with the statistics of the same instant. */
    public MemorySnapshot snapshot() {
        lock.lock();
        try {
            List<Segment> ordered = new ArrayList<>(segments);
            ordered.sort(Comparator.comparingLong(s -> s.address));
            List<MemorySnapshot.SegmentInfo> infos = new ArrayList<>(ordered.size());
            for (Segment segment : ordered) {
                List<MemorySnapshot.BlockInfo> blocks = new ArrayList<>();
                for (Block b = segment.head; b != null; b = b.next) {
                    BlockState state = b.allocated ? BlockState.ALLOCATED
                            : b.pendingEvents > 0 ? BlockState.PENDING_FREE : BlockState.FREE;
                    blocks.add(new MemorySnapshot.BlockInfo(b.address, b.size,
                            state == BlockState.ALLOCATED ? b.requestedSize : 0, state));
                }
                infos.add(new MemorySnapshot.SegmentInfo(segment.address, segment.size, segment.stream, segment.small,
                        blocks));
            }
            return new MemorySnapshot(deviceName, infos, statsLocked());
        } finally {
            lock.unlock();
        }
    }

    /** Gets a new segment from the device, freeing the cache and retrying once when it is full. */
    private Block blockFromDevice(long requested, long size, long stream, BlockPool pool) {
        long segmentSize = segmentSize(size);
        long address = raw.malloc(segmentSize);
        if (address == 0) {
            // Blocks waiting on other streams may hold what we need: wait for them (PyTorch's
            // synchronize_and_free_events). One may now fit in a split segment, which the
            // release below would keep anyway, so look before going back to the device.
            pendingEvents.drain(onEventCompleted);
            Block block = pool.bestFit(stream, size);
            if (block != null) {
                pool.remove(block);
                return block;
            }
            releaseCachedSegments();
            allocRetries++;
            address = raw.malloc(segmentSize);
            if (address == 0) {
                ooms++;
                long[] info = raw.memInfo();
                throw new OutOfMemoryException(deviceName, requested, allocatedBytes.current(),
                        reservedBytes.current(), info[0], info[1]);
            }
        }
        Segment segment = new Segment(address, segmentSize, stream, pool.small);
        Block block = new Block(this, segment, address, segmentSize);
        segment.head = block;
        segments.add(segment);
        deviceMallocs++;
        reservedBytes.increase(segmentSize);
        segmentCount.increase(1);
        return block;
    }

    /** Marks a block taken from a pool (or a new segment) allocated, splitting off what it does not need. */
    private Block handOut(Block block, long size, long requested, BlockPool pool) {
        boolean alreadySplit = block.isSplit();
        if (shouldSplit(pool.small, block.size - size)) {
            // The front part is handed out and the original block keeps the rest, as in PyTorch.
            Block front = new Block(this, block.segment, block.address, size);
            front.prev = block.prev;
            if (front.prev != null) {
                front.prev.next = front;
            } else {
                block.segment.head = front;
            }
            front.next = block;
            block.prev = front;
            block.address += size;
            block.size -= size;
            pool.add(block);
            if (alreadySplit) {
                inactiveSplitBytes.decrease(size);
            } else {
                inactiveSplitBytes.increase(block.size);
                inactiveSplitBlocks.increase(1);
            }
            block = front;
        } else if (alreadySplit) {
            inactiveSplitBytes.decrease(block.size);
            inactiveSplitBlocks.decrease(1);
        }
        block.allocated = true;
        block.requestedSize = requested;
        allocations.increase(1);
        allocatedBytes.increase(block.size);
        activeBlocks.increase(1);
        activeBytes.increase(block.size);
        return block;
    }

    /** Returns a block that nothing uses any more to its pool, merged with free neighbours. */
    private void freeBlock(Block block) {
        long originalSize = block.size;
        BlockPool pool = block.isSmall() ? smallPool : largePool;
        long splitBlocksDelta = 0;
        long splitBytesDelta = 0;
        long merged = mergeInto(block, block.prev, pool);
        if (merged > 0) {
            splitBlocksDelta--;
            splitBytesDelta -= merged;
        }
        merged = mergeInto(block, block.next, pool);
        if (merged > 0) {
            splitBlocksDelta--;
            splitBytesDelta -= merged;
        }
        pool.add(block);
        if (block.isSplit()) {
            splitBlocksDelta++;
            splitBytesDelta += block.size;
        }
        inactiveSplitBlocks.change(splitBlocksDelta);
        inactiveSplitBytes.change(splitBytesDelta);
        activeBlocks.decrease(1);
        activeBytes.decrease(originalSize);
    }

    /** Absorbs neighbour {@code src} into {@code dst} if it is free; returns the bytes absorbed. */
    private static long mergeInto(Block dst, Block src, BlockPool pool) {
        if (src == null || !src.isInPool()) {
            return 0;
        }
        pool.remove(src);
        if (dst.prev == src) {
            dst.address = src.address;
            dst.prev = src.prev;
            if (dst.prev != null) {
                dst.prev.next = dst;
            } else {
                dst.segment.head = dst;
            }
        } else {
            dst.next = src.next;
            if (dst.next != null) {
                dst.next.prev = dst;
            }
        }
        dst.size += src.size;
        src.prev = null;
        src.next = null;
        return src.size;
    }

    private void eventCompleted(Block block) {
        if (--block.pendingEvents == 0) {
            freeBlock(block);
        }
    }

    /** Returns every segment that is one free block to the device (PyTorch's release_cached_blocks). */
    private void releaseCachedSegments() {
        for (BlockPool pool : List.of(smallPool, largePool)) {
            List<Block> whole = new ArrayList<>();
            for (Block b : pool.blocks()) {
                if (!b.isSplit()) {
                    whole.add(b);
                }
            }
            for (Block b : whole) {
                pool.remove(b);
                Segment segment = b.segment;
                raw.free(segment.address);
                segments.remove(segment);
                deviceFrees++;
                reservedBytes.decrease(segment.size);
                segmentCount.decrease(1);
            }
        }
    }

    private AllocatorStats statsLocked() {
        return new AllocatorStats(allocatedBytes.snapshot(), reservedBytes.snapshot(), activeBytes.snapshot(),
                inactiveSplitBytes.snapshot(), allocations.snapshot(), segmentCount.snapshot(),
                activeBlocks.snapshot(), inactiveSplitBlocks.snapshot(), deviceMallocs, deviceFrees, allocRetries,
                ooms);
    }

    private long streamHandle(Stream stream) {
        Objects.requireNonNull(stream, "stream");
        if (device != null && !stream.device().equals(device)) {
            throw new IllegalArgumentException("The allocator of " + device + " cannot serve a stream of "
                    + stream.device());
        }
        return stream.handle();
    }

    private void checkOwner(Block block) {
        Objects.requireNonNull(block, "block");
        if (block.owner != this) {
            throw new IllegalArgumentException(block + " does not belong to the allocator of " + deviceName);
        }
    }

    @Override
    public String toString() {
        return "CachingAllocator(" + deviceName + ")";
    }
}
