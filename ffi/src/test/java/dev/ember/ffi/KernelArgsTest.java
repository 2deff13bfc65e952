package dev.ember.ffi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

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
    void bytesAndShortsKeepExactlyTheirBitsInAlignedSlots() {
        try (Arena arena = Arena.ofConfined()) {
            // uint8_t 200 and uint16_t 65535 go in as their bit patterns; the bf16 bits of 1.0
            // (0x3F80) stand for a half or bfloat16 value passed by its bits.
            KernelArgs args = new KernelArgs(arena)
                    .addByte((byte) 200).addShort((short) 0xFFFF).addByte((byte) 1).addShort((short) 0x3F80)
                    .addLong(-1L).addByte((byte) -7);
            assertEquals(6, args.size());
            MemorySegment params = args.build();
            assertEquals(6 * ADDRESS.byteSize(), params.byteSize());
            assertEquals(200, Byte.toUnsignedInt(slot(params, 0, 1).get(JAVA_BYTE, 0)));
            assertEquals(65535, Short.toUnsignedInt(slot(params, 1, 2).get(JAVA_SHORT, 0)));
            assertEquals(1, slot(params, 2, 1).get(JAVA_BYTE, 0));
            assertEquals((short) 0x3F80, slot(params, 3, 2).get(JAVA_SHORT, 0));
            assertEquals(-1L, slot(params, 4, 8).get(JAVA_LONG, 0));
            assertEquals(-7, slot(params, 5, 1).get(JAVA_BYTE, 0));
            for (int i : new int[] {1, 3}) {
                assertEquals(0, params.getAtIndex(ADDRESS, i).address() % 2, "16-bit values must be 2-byte aligned");
            }
            assertEquals(0, params.getAtIndex(ADDRESS, 4).address() % 8, "a long after bytes and shorts stays 8-byte aligned");
            // Every argument has a slot of its own: no two pointers are the same.
            for (int i = 0; i < 6; i++) {
                for (int j = i + 1; j < 6; j++) {
                    assertNotEquals(params.getAtIndex(ADDRESS, i).address(), params.getAtIndex(ADDRESS, j).address());
                }
            }
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
