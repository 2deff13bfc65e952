package dev.ember.memory;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Device and stream behaviour that needs no driver. */
class DeviceTest {

    @Test
    void namesParseAndCompare() {
        assertEquals("cpu", Device.cpu().toString());
        assertEquals("cuda:0", Device.cuda().toString());
        assertEquals("cuda:3", Device.cuda(3).toString());
        assertSame(Device.cuda(2), Device.cuda(2));
        assertEquals(Device.cuda(0), Device.parse("cuda"));
        assertEquals(Device.cuda(1), Device.parse("cuda:1"));
        assertEquals(Device.cpu(), Device.parse(" cpu "));
        assertNotEquals(Device.cpu(), Device.cuda(0));
        assertEquals(Device.cuda(1).hashCode(), Device.parse("cuda:1").hashCode());
        assertEquals(DeviceType.CUDA, Device.cuda(1).type());
        assertEquals(1, Device.cuda(1).index());
        assertEquals(-1, Device.cpu().index());
        assertTrue(Device.cpu().isCpu());
        assertThrows(IllegalArgumentException.class, () -> Device.parse("gpu:0"));
        assertThrows(IllegalArgumentException.class, () -> Device.parse("cuda:x"));
        assertThrows(IllegalArgumentException.class, () -> Device.cuda(-1));
    }

    @Test
    void cpuHasNoCudaPropertiesOrStreams() {
        assertThrows(IllegalStateException.class, () -> Device.cpu().properties());
        assertThrows(IllegalArgumentException.class, () -> Stream.current(Device.cpu()));
        assertThrows(IllegalArgumentException.class, () -> CudaMemory.allocator(Device.cpu()));
    }

    @Test
    void currentStreamDefaultsToTheLegacyStreamAndNests() {
        Device d0 = Device.cuda(0);
        Device d1 = Device.cuda(1);
        Stream default0 = Stream.defaultStream(d0);
        Stream default1 = Stream.defaultStream(d1);
        assertEquals(0, default0.handle());
        assertTrue(default0.isDefault());
        assertSame(default0, Stream.current(d0));
        try (var _ = Stream.use(default1)) {
            assertSame(default1, Stream.current(d1));
            assertSame(default0, Stream.current(d0), "each device has its own current stream");
            try (var _ = Stream.use(default0)) {
                assertSame(default0, Stream.current(d0));
            }
            assertSame(default1, Stream.current(d1));
        }
        assertSame(default1, Stream.current(d1));
        assertEquals("Stream(cuda:0, default)", default0.toString());
    }

    @Test
    void aGuardIsClosedOnItsOwnThread() throws Exception {
        Stream s = Stream.defaultStream(Device.cuda(2));
        var guard = Stream.use(s);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread other = Thread.ofPlatform().start(() -> {
            try {
                guard.close();
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        other.join();
        assertInstanceOf(IllegalStateException.class, thrown.get());
        guard.close();
    }

    @Test
    void deviceCountIsZeroWithoutCuda() {
        if (!dev.ember.ffi.Cuda.isAvailable()) {
            assertEquals(0, Device.cudaDeviceCount());
        } else {
            assertTrue(Device.cudaDeviceCount() > 0);
        }
    }
}
