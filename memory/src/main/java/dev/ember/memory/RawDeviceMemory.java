package dev.ember.memory;

/**
 * The device operations under {@link CachingAllocator}: whole-segment allocation and the
 * events that make cross-stream frees safe. {@link CudaRawMemory} calls the driver;
 * {@link SimulatedDevice} models a bounded device in plain Java for tests and benchmarks.
 */
public interface RawDeviceMemory extends RawEvents {
    /**
     * Allocates {@code bytes} of device memory. Returns 0 when the device is out of memory, so
     * the allocator can free its cache and retry; other failures throw.
     */
    long malloc(long bytes);

    /** Frees memory returned by {@link #malloc}. */
    void free(long address);

    /** {@code {free, total}} bytes of the device, as cuMemGetInfo reports them. */
    long[] memInfo();
}
