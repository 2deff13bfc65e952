package dev.ember.ffi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class LaunchScratchTest {

    @Test
    void memoryComesZeroedAndAlignedAndTheBlockIsReusedAfterClose() {
        long first;
        try (LaunchScratch s = LaunchScratch.open()) {
            MemorySegment a = s.allocate(ValueLayout.JAVA_BYTE);
            MemorySegment b = s.allocate(328, 8);
            first = a.address();
            assertEquals(0, b.address() % 8, "aligned as asked");
            assertTrue(b.address() >= a.address() + 1, "no overlap");
            b.fill((byte) 7);
        }
        try (LaunchScratch s = LaunchScratch.open()) {
            MemorySegment a = s.allocate(ValueLayout.JAVA_BYTE);
            MemorySegment b = s.allocate(328, 8);
            assertEquals(first, a.address(), "the thread's block again");
            for (long i = 0; i < b.byteSize(); i++) assertEquals(0, b.get(ValueLayout.JAVA_BYTE, i), "zeroed at " + i);
        }
    }

    @Test
    void aScratchOpenedInsideAnotherGetsMemoryOfItsOwn() {
        try (LaunchScratch outer = LaunchScratch.open()) {
            MemorySegment o = outer.allocate(64, 8);
            o.fill((byte) 1);
            try (LaunchScratch inner = LaunchScratch.open()) {
                MemorySegment i = inner.allocate(64, 8);
                assertFalse(overlap(o, i), "nested memory must not alias the open scratch");
                i.fill((byte) 2);
            }
            assertEquals(1, o.get(ValueLayout.JAVA_BYTE, 63), "the outer scratch's bytes survive the inner one");
        }
    }

    @Test
    void moreThanTheBlockOverflowsIntoMemoryFreedOnClose() {
        try (LaunchScratch s = LaunchScratch.open()) {
            MemorySegment big = s.allocate(10_000, 8);
            big.set(ValueLayout.JAVA_LONG, 9_992, 42L);
            assertEquals(42L, big.get(ValueLayout.JAVA_LONG, 9_992));
            MemorySegment wide = s.allocate(64, 64);
            assertEquals(0, wide.address() % 64, "an alignment beyond the block's goes to the overflow, aligned");
        }
    }

    @Test
    void aClosedScratchRefusesToAllocate() {
        LaunchScratch s = LaunchScratch.open();
        s.close();
        assertThrows(IllegalStateException.class, () -> s.allocate(8, 8));
    }

    @Test
    void kernelArgumentsBuildFromTheScratch() {
        try (LaunchScratch s = LaunchScratch.open()) {
            MemorySegment params = new KernelArgs(s).addInt(3).addPointer(0x1000L).addDouble(0.5).build();
            MemorySegment p = params.reinterpret(3 * ValueLayout.ADDRESS.byteSize());
            assertEquals(3, p.getAtIndex(ValueLayout.ADDRESS, 0).reinterpret(4).get(ValueLayout.JAVA_INT, 0));
            assertEquals(0x1000L, p.getAtIndex(ValueLayout.ADDRESS, 1).reinterpret(8).get(ValueLayout.JAVA_LONG, 0));
            assertEquals(0.5, p.getAtIndex(ValueLayout.ADDRESS, 2).reinterpret(8).get(ValueLayout.JAVA_DOUBLE, 0));
        }
    }

    private static boolean overlap(MemorySegment a, MemorySegment b) {
        return a.address() < b.address() + b.byteSize() && b.address() < a.address() + a.byteSize();
    }
}
