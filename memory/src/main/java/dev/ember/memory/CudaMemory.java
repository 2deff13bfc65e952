package dev.ember.memory;

import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Where device memory comes from: one {@link CachingAllocator} and one
 * {@link PinnedHostAllocator} per CUDA device, made on first use and kept for the life of
 * the process, as PyTorch keeps its allocators.
 */
public final class CudaMemory {
    private static final ConcurrentMap<Device, CachingAllocator> ALLOCATORS = new ConcurrentHashMap<>();
    private static final ConcurrentMap<Device, PinnedHostAllocator> PINNED = new ConcurrentHashMap<>();

    private CudaMemory() {
    }

    /** The caching allocator of a CUDA device. */
    public static CachingAllocator allocator(Device device) {
        requireCuda(device);
        return ALLOCATORS.computeIfAbsent(device, d -> new CachingAllocator(new CudaRawMemory(d), d));
    }

    /** The pinned host allocator for copies to and from a CUDA device. */
    public static PinnedHostAllocator pinnedHost(Device device) {
        requireCuda(device);
        return PINNED.computeIfAbsent(device, d -> new PinnedHostAllocator(new CudaRawHostMemory(d), d));
    }

    private static void requireCuda(Device device) {
        Objects.requireNonNull(device, "device");
        if (!device.isCuda()) {
            throw new IllegalArgumentException("Device memory is allocated on CUDA devices, not on " + device);
        }
    }
}
