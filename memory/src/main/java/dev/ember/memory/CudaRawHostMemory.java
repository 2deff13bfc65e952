package dev.ember.memory;

import dev.ember.ffi.CudaDriver;

import java.lang.foreign.MemorySegment;

/**
 * {@link RawHostMemory} through the driver API: cuMemAllocHost in the primary context of the
 * device whose streams copy to and from it, and events on that device.
 */
final class CudaRawHostMemory extends CudaRawEvents implements RawHostMemory {
    CudaRawHostMemory(Device device) {
        super(device);
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
}
