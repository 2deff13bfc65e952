package dev.ember.memory;

import dev.ember.ffi.CudaDriver;
import dev.ember.ffi.CudaException;

/**
 * {@link RawDeviceMemory} on a CUDA device through the driver API. Each call first makes the
 * device's primary context current, since the allocator may be called from any thread.
 */
final class CudaRawMemory extends CudaRawEvents implements RawDeviceMemory {
    CudaRawMemory(Device device) {
        super(device);
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
}
