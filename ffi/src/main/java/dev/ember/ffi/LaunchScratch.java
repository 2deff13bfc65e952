package dev.ember.ffi;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

/**
 * Native memory for one launch's arguments ({@link KernelArgs}, the structs passed by value),
 * taken from a block each thread keeps, instead of a new {@link Arena} per launch: an op on
 * the GPU is mostly host overhead, and a confined arena costs a malloc, a free and a cleaner
 * each time. {@code cuLaunchKernel} copies the arguments before it returns, so the block is
 * free again as soon as the launch is queued.
 *
 * <pre>{@code
 * try (LaunchScratch scratch = LaunchScratch.open()) {
 *     CudaDriver.launchKernel(f, blocks, 1, 1, 256, 1, 1, 0, stream, new KernelArgs(scratch).addPointer(x).build());
 * }
 * }</pre>
 *
 * Memory comes zeroed, as from an arena, and is valid until {@link #close}. One scratch is open
 * per thread at a time; opening another while one is open (a launch built inside another's
 * building) gets memory of its own, and so does anything larger than the block.
 */
public final class LaunchScratch implements SegmentAllocator, AutoCloseable {
    /** Far above what any launch of the project passes (the largest struct is a few hundred bytes). */
    private static final long BLOCK_BYTES = 4096;
    private static final ThreadLocal<LaunchScratch> OF_THREAD = ThreadLocal.withInitial(
            () -> new LaunchScratch(Arena.ofAuto().allocate(BLOCK_BYTES, 16)));

    /** The thread's block; empty for a nested scratch, whose memory is all overflow. */
    private final MemorySegment block;
    private long used;
    private boolean open;
    /** Memory for what does not fit the block; made on first need, closed with the scratch. */
    private Arena overflow;

    private LaunchScratch(MemorySegment block) {
        this.block = block;
    }

    /** This thread's scratch, empty; or a scratch of its own where this thread's is already open. */
    public static LaunchScratch open() {
        LaunchScratch s = OF_THREAD.get();
        if (s.open) s = new LaunchScratch(MemorySegment.NULL);
        s.open = true;
        return s;
    }

    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        if (!open) throw new IllegalStateException("the launch scratch is closed");
        long start = (used + byteAlignment - 1) & -byteAlignment;
        if (byteAlignment <= 16 && start + byteSize <= block.byteSize()) {
            used = start + byteSize;
            return block.asSlice(start, byteSize).fill((byte) 0);
        }
        if (overflow == null) overflow = Arena.ofConfined();
        return overflow.allocate(byteSize, byteAlignment);
    }

    /** Frees what the launch took: the thread's block for the next launch, and any overflow. */
    @Override
    public void close() {
        used = 0;
        open = false;
        if (overflow != null) {
            overflow.close();
            overflow = null;
        }
    }
}
