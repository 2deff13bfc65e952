package dev.ember.ffi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Packs kernel arguments the way {@code cuLaunchKernel} takes them: each value in its own
 * slot of memory from an arena, and an array of pointers to those slots.
 *
 * <pre>{@code
 * try (Arena arena = Arena.ofConfined()) {
 *     MemorySegment params = new KernelArgs(arena).addInt(n).addFloat(2f).addPointer(x).addPointer(y).build();
 *     CudaDriver.launchKernel(saxpy, blocks, 1, 1, 256, 1, 1, 0, stream, params);
 * }
 * }</pre>
 *
 * The launch copies the values, so the arena may close as soon as {@code launchKernel}
 * returns. Add arguments in the order of the kernel's parameters, with the C types' widths:
 * {@code uint8_t}/{@code int8_t}/{@code bool} → {@link #addByte}, {@code uint16_t}/{@code short}
 * (and the bits of a {@code __half} or {@code __nv_bfloat16}) → {@link #addShort},
 * {@code int}/{@code unsigned} → {@link #addInt}, {@code long long}/{@code size_t} →
 * {@link #addLong}, a device pointer → {@link #addPointer(long)}.
 */
public final class KernelArgs {

    private final SegmentAllocator arena;
    private final List<MemorySegment> slots = new ArrayList<>();

    /** Argument values and the pointer array are allocated from this arena or {@link LaunchScratch}. */
    public KernelArgs(SegmentAllocator arena) {
        this.arena = arena;
    }

    /**
     * An 8-bit argument ({@code uint8_t}, {@code int8_t}, {@code char}, {@code bool}): exactly
     * this byte, in a slot of its own. An unsigned parameter reads the same bits, so pass
     * {@code (byte) 200} for a {@code uint8_t} of 200.
     */
    public KernelArgs addByte(byte value) {
        slot(JAVA_BYTE).set(JAVA_BYTE, 0, value);
        return this;
    }

    /**
     * A 16-bit argument ({@code uint16_t}, {@code int16_t}, {@code short}), 2-byte aligned.
     * Also the way to pass a {@code __half} or {@code __nv_bfloat16} by its bits, and an
     * unsigned value by its low 16 bits ({@code (short) 0xFFFF} for 65535).
     */
    public KernelArgs addShort(short value) {
        slot(JAVA_SHORT).set(JAVA_SHORT, 0, value);
        return this;
    }

    /** A 32-bit integer argument ({@code int}, {@code unsigned int}). */
    public KernelArgs addInt(int value) {
        slot(JAVA_INT).set(JAVA_INT, 0, value);
        return this;
    }

    /** A 64-bit integer argument ({@code long long}, {@code size_t}, {@code int64_t}). */
    public KernelArgs addLong(long value) {
        slot(JAVA_LONG).set(JAVA_LONG, 0, value);
        return this;
    }

    /** A {@code float} argument. */
    public KernelArgs addFloat(float value) {
        slot(JAVA_FLOAT).set(JAVA_FLOAT, 0, value);
        return this;
    }

    /** A {@code double} argument. */
    public KernelArgs addDouble(double value) {
        slot(JAVA_DOUBLE).set(JAVA_DOUBLE, 0, value);
        return this;
    }

    /** A device pointer argument ({@code float*}, {@code void*}, ... in device memory). */
    public KernelArgs addPointer(long devicePointer) {
        slot(JAVA_LONG).set(JAVA_LONG, 0, devicePointer);
        return this;
    }

    /** A pointer argument given as a segment's address (for example mapped or managed host memory). */
    public KernelArgs addPointer(MemorySegment pointer) {
        slot(ADDRESS).set(ADDRESS, 0, pointer);
        return this;
    }

    /**
     * A struct passed by value: its bytes are copied into a slot with the struct's alignment
     * (the largest alignment among its C fields).
     */
    public KernelArgs addStruct(MemorySegment bytes, long alignment) {
        MemorySegment slot = arena.allocate(Math.max(1, bytes.byteSize()), alignment);
        MemorySegment.copy(bytes, 0, slot, 0, bytes.byteSize());
        slots.add(slot);
        return this;
    }

    /** The number of arguments added so far. */
    public int size() {
        return slots.size();
    }

    /** The array of pointers to the argument values, ready for {@link CudaDriver#launchKernel}. */
    public MemorySegment build() {
        if (slots.isEmpty()) {
            return MemorySegment.NULL;
        }
        MemorySegment pointers = arena.allocate(ADDRESS, slots.size());
        for (int i = 0; i < slots.size(); i++) {
            pointers.setAtIndex(ADDRESS, i, slots.get(i));
        }
        return pointers;
    }

    /** Allocates and records the slot for the next argument. */
    private MemorySegment slot(ValueLayout layout) {
        MemorySegment slot = arena.allocate(layout);
        slots.add(slot);
        return slot;
    }
}
