package dev.ember.memory;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SimulatedDeviceTest {
    private static final long MIB = 1024 * 1024;

    @Test
    void firstFitWithinCapacityAndCoalescedOnFree() {
        SimulatedDevice device = new SimulatedDevice(10 * MIB);
        long a = device.malloc(4 * MIB);
        long b = device.malloc(4 * MIB);
        assertEquals(SimulatedDevice.BASE_ADDRESS, a);
        assertEquals(a + 4 * MIB, b);
        assertEquals(0, device.malloc(4 * MIB), "only 2 MiB left");
        assertEquals(1, device.failedMallocCount());
        device.free(a);
        long c = device.malloc(MIB);
        assertEquals(a, c, "first fit takes the lowest hole");
        device.free(c);
        device.free(b);
        assertEquals(SimulatedDevice.BASE_ADDRESS, device.malloc(10 * MIB), "the holes merged back into one range");
        assertEquals(0, device.memInfo()[0]);
        assertEquals(10 * MIB, device.memInfo()[1]);
    }

    @Test
    void doubleAndUnknownFreesThrow() {
        SimulatedDevice device = new SimulatedDevice(10 * MIB);
        long a = device.malloc(MIB);
        device.free(a);
        IllegalStateException twice = assertThrows(IllegalStateException.class, () -> device.free(a));
        assertTrue(twice.getMessage().startsWith("Double free"), twice.getMessage());
        IllegalStateException unknown = assertThrows(IllegalStateException.class, () -> device.free(a + 512));
        assertTrue(unknown.getMessage().startsWith("Free of unknown"), unknown.getMessage());
    }

    @Test
    void eventsCompleteInOrderPerStream() {
        SimulatedStreams streams = new SimulatedStreams();
        long e1 = streams.createEvent();
        long e2 = streams.createEvent();
        long other = streams.createEvent();
        assertTrue(streams.eventDone(e1), "an event never recorded counts as complete");
        streams.recordEvent(e1, 7);
        streams.recordEvent(e2, 7);
        streams.recordEvent(other, 8);
        assertFalse(streams.eventDone(e1));
        assertTrue(streams.completeNext(7));
        assertTrue(streams.eventDone(e1));
        assertFalse(streams.eventDone(e2));
        streams.synchronizeEvent(e2);
        assertTrue(streams.eventDone(e2));
        assertFalse(streams.completeNext(7));
        assertFalse(streams.eventDone(other));
        streams.completeAll();
        assertTrue(streams.eventDone(other));
        streams.recordEvent(e1, 8);
        assertFalse(streams.eventDone(e1), "re-recording makes the event pending again");
        streams.destroyEvent(e1);
        assertThrows(IllegalStateException.class, () -> streams.eventDone(e1));
        assertEquals(2, streams.liveEvents());
    }
}
