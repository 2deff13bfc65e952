package dev.ember.tensor.cuda;

import dev.ember.ffi.Cudnn;
import dev.ember.memory.Device;
import dev.ember.memory.Stream;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * cuDNN handles of each CUDA device ({@link HandlePool}), bound to the caller's stream for one
 * call. The legacy descriptor API Ember uses takes its workspace per call, so a handle holds no
 * device memory of its own beyond what {@code cudnnCreate} reserves.
 */
public final class CudnnHandles {
    private static final Map<Device, HandlePool> BY_DEVICE = new ConcurrentHashMap<>();

    private CudnnHandles() {
    }

    /**
     * A handle of {@code stream}'s device bound to that stream, for one caller until the lease is
     * closed. The device's context must be current on this thread (a handle belongs to the
     * context current when it is created).
     */
    public static HandlePool.Lease acquire(Stream stream) {
        HandlePool pool = BY_DEVICE.computeIfAbsent(stream.device(), d -> new HandlePool("cuDNN", Cudnn::create));
        return pool.lease(handle -> Cudnn.setStream(handle, stream.handle()));
    }
}
