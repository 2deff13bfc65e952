package dev.ember.ffi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The pointer array KernelArgs builds is what cuLaunchKernel expects: one pointer per argument. */
class KernelArgsTest {

    @Test
    void eachArgumentGetsItsOwnSlotInOrder() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment struct = arena.allocate(12, 4);
            struct.set(JAVA_INT, 0, 7);
            struct.set(JAVA_INT, 4, 8);
            struct.set(JAVA_INT, 8, 9);
            KernelArgs args = new KernelArgs(arena)
                    .addInt(-3).addLong(1L << 40).addFloat(2.5f).addDouble(-0.125)
                    .addPointer(0xdead_beef_0000L).addPointer(MemorySegment.ofAddress(0x1234)).addStruct(struct, 4);
            assertEquals(7, args.size());
            MemorySegment params = args.build();
            assertEquals(7 * ADDRESS.byteSize(), params.byteSize());
            assertEquals(-3, slot(params, 0, 4).get(JAVA_INT, 0));
            assertEquals(1L << 40, slot(params, 1, 8).get(JAVA_LONG, 0));
            assertEquals(2.5f, slot(params, 2, 4).get(JAVA_FLOAT, 0));
            assertEquals(-0.125, slot(params, 3, 8).get(JAVA_DOUBLE, 0));
            assertEquals(0xdead_beef_0000L, slot(params, 4, 8).get(JAVA_LONG, 0));
            assertEquals(0x1234L, slot(params, 5, 8).get(JAVA_LONG, 0));
            MemorySegment copied = slot(params, 6, 12);
            assertEquals(9, copied.get(JAVA_INT, 8));
            assertEquals(0, slot(params, 1, 8).address() % 8, "8-byte values must be 8-byte aligned");
        }
    }

    @Test
    void noArgumentsIsANullArray() {
        try (Arena arena = Arena.ofConfined()) {
            assertEquals(MemorySegment.NULL, new KernelArgs(arena).build());
        }
    }

    @SuppressWarnings("restricted") // binding native code is what this module is for
    private static MemorySegment slot(MemorySegment params, int index, long bytes) {
        return params.getAtIndex(ADDRESS, index).reinterpret(bytes);
    }
}
