package dev.ember.tensor.cpu;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Where a heap array lies relative to a cache line, so that GEMM packs its panels of B at
 * 64-byte boundaries. Java aligns arrays to only 8 bytes; a 512-bit load from a panel that
 * starts elsewhere spans two cache lines, and the micro-kernel, which streams B from L2 with
 * such loads, measured about 5% slower that way.
 *
 * <p>The address comes from libc's {@code memmove(p, p, 0)}, which copies nothing and
 * returns p, called as a critical downcall that may see the heap array itself. Where that is
 * not possible (native access denied, no libc) the offset is 0: slower, still correct. The
 * garbage collector may move an array later, which again costs only speed, so callers ask
 * once per call.
 */
final class GemmAlign {
    private GemmAlign() {}

    private static final int LINE = 64;
    private static final MethodHandle MEMMOVE = lookup();

    @SuppressWarnings("restricted")
    private static MethodHandle lookup() {
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find("memmove")
                    .map(f -> linker.downcallHandle(f,
                            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG),
                            Linker.Option.critical(true)))
                    .orElse(null);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** The first index of {@code a} whose element starts a cache line (0 when unknown). */
    static int offset(float[] a) {
        return (int) (bytesToLine(MemorySegment.ofArray(a)) / Float.BYTES);
    }

    /** The first index of {@code a} whose element starts a cache line (0 when unknown). */
    static int offset(double[] a) {
        return (int) (bytesToLine(MemorySegment.ofArray(a)) / Double.BYTES);
    }

    private static long bytesToLine(MemorySegment heap) {
        if (MEMMOVE == null) return 0;
        try {
            long address = (long) MEMMOVE.invokeExact(heap, heap, 0L);
            return (LINE - (address & (LINE - 1))) & (LINE - 1);
        } catch (Throwable e) {
            return 0;
        }
    }
}
