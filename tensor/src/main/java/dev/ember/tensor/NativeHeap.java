package dev.ember.tensor;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * 64-byte-aligned off-heap memory from the C library's {@code aligned_alloc}. An arena per
 * storage would be simpler, but closing a shared arena costs a thread handshake (microseconds);
 * malloc/free cost tens of nanoseconds, which matters for the per-op overhead of small tensors.
 * Use-after-free is prevented one level up: {@link Storage} checks that it is open before any
 * access.
 */
final class NativeHeap {
    static final long ALIGNMENT = 64;

    private static final MethodHandle ALIGNED_ALLOC;
    private static final MethodHandle FREE;

    static {
        Linker linker = Linker.nativeLinker();
        var libc = linker.defaultLookup();
        ALIGNED_ALLOC = linker.downcallHandle(libc.find("aligned_alloc").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG),
                Linker.Option.critical(false));
        FREE = linker.downcallHandle(libc.find("free").orElseThrow(),
                FunctionDescriptor.ofVoid(ValueLayout.ADDRESS), Linker.Option.critical(false));
    }

    private NativeHeap() {}

    /** Allocates at least {@code bytes} (rounded up to the alignment; at least one line). */
    static long allocate(long bytes) {
        long rounded = Math.max(ALIGNMENT, (bytes + ALIGNMENT - 1) & -ALIGNMENT);
        MemorySegment p;
        try {
            p = (MemorySegment) ALIGNED_ALLOC.invokeExact(ALIGNMENT, rounded);
        } catch (Throwable t) {
            throw new IllegalStateException("aligned_alloc failed", t);
        }
        if (p.address() == 0) {
            throw new OutOfMemoryError("Ember: could not allocate " + bytes + " bytes of off-heap memory"
                    + " (live: " + MemoryStats.liveBytes() + " bytes)");
        }
        return p.address();
    }

    static void free(long address) {
        try {
            FREE.invokeExact(MemorySegment.ofAddress(address));
        } catch (Throwable t) {
            throw new IllegalStateException("free failed", t);
        }
    }
}
