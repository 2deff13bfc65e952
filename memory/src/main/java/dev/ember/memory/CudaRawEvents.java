package dev.ember.memory;

import dev.ember.ffi.CudaDriver;

/**
 * {@link RawEvents} on one CUDA device through the driver API, shared by the device and pinned
 * host allocators' raw layers. Each call first makes the device's primary context current,
 * since the allocators may be called from any thread.
 */
abstract class CudaRawEvents implements RawEvents {
    protected final Device device;

    CudaRawEvents(Device device) {
        this.device = device;
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
