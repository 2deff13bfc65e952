package dev.ember.memory;

import dev.ember.ffi.CudaDriver;

import java.lang.foreign.MemorySegment;

/**
 * {@link RawHostMemory} through the driver API: cuMemAllocHost in the primary context of the
 * device whose streams copy to and from it, and events on that device.
 */
final class CudaRawHostMemory implements RawHostMemory {
    private final Device device;

    CudaRawHostMemory(Device device) {
        this.device = device;
    }

    @Override
    public MemorySegment allocate(long bytes) {
        device.makeCurrent();
        return CudaDriver.memAllocHost(bytes);
    }

    @Override
    public void free(MemorySegment segment) {
        device.makeCurrent();
        CudaDriver.memFreeHost(segment);
    }

    @Override
    public long createEvent() {
        device.makeCurrent();
        return CudaDriver.eventCreate(CudaDriver.EVENT_DISABLE_TIMING);
    }

    @Override
    public void recordEvent(long event, long stream) {
        device.makeCurrent();
        CudaDriver.eventRecord(event, stream);
    }

    @Override
    public boolean eventDone(long event) {
        device.makeCurrent();
        return CudaDriver.eventQuery(event);
    }

    @Override
    public void synchronizeEvent(long event) {
        device.makeCurrent();
        CudaDriver.eventSynchronize(event);
    }

    @Override
    public void destroyEvent(long event) {
        device.makeCurrent();
        CudaDriver.eventDestroy(event);
    }
}
