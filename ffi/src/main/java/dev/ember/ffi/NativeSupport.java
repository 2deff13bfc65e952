package dev.ember.ffi;

import java.lang.foreign.MemorySegment;

/** Small helpers shared by the bindings. */
final class NativeSupport {

    private NativeSupport() {
    }

    /**
     * What to throw after {@code MethodHandle.invokeExact} threw: unchecked exceptions and
     * errors pass through unchanged (a {@link CudaException} from a missing symbol included);
     * anything checked, which a downcall never throws in practice, is wrapped.
     */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException re) {
            return re;
        }
        if (t instanceof Error error) {
            throw error;
        }
        return new IllegalStateException("unexpected exception from a native call", t);
    }

    /** Reads a NUL-terminated C string; null for a NULL pointer. */
    @SuppressWarnings("restricted") // binding native code is what this module is for
    static String cString(MemorySegment pointer) {
        if (pointer == null || pointer.equals(MemorySegment.NULL)) {
            return null;
        }
        return pointer.reinterpret(Long.MAX_VALUE).getString(0);
    }

    /** Checks that a host segment can take part in a native call of the given size. */
    static void checkHostRange(String what, MemorySegment segment, long bytes) {
        if (segment == null) {
            throw new NullPointerException(what + " is null");
        }
        if (bytes < 0) {
            throw new IllegalArgumentException(what + ": byte count " + bytes + " is negative");
        }
        if (!segment.isNative()) {
            throw new IllegalArgumentException(what + " must be a native (off-heap) segment, not a heap segment");
        }
        if (bytes > segment.byteSize()) {
            throw new IndexOutOfBoundsException(what + ": " + bytes + " bytes requested but the segment holds only "
                    + segment.byteSize());
        }
    }
}
