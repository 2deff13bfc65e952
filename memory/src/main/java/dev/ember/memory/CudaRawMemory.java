package dev.ember.memory;

import dev.ember.ffi.CudaDriver;
import dev.ember.ffi.CudaException;

/**
 * {@link RawDeviceMemory} on a CUDA device through the driver API. Each call first makes the
 * device's primary context current, since the allocator may be called from any thread.
 */
final class CudaRawMemory implements RawDeviceMemory {
    private final Device device;

    CudaRawMemory(Device device) {
        this.device = device;
    }

    @Override
    public long malloc(long bytes) {
        device.makeCurrent();
        try {
            return CudaDriver.memAlloc(bytes);
        } catch (CudaException e) {
            if (e.isOutOfMemory()) {
                return 0;
            }
            throw e;
        }
    }

    @Override
    public void free(long address) {
        device.makeCurrent();
        CudaDriver.memFree(address);
    }

    @Override
    public long[] memInfo() {
        device.makeCurrent();
        return CudaDriver.memGetInfo();
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
