package dev.ember.tensor.cuda;

import dev.ember.ffi.Cublas;
import dev.ember.memory.Block;
import dev.ember.memory.CudaMemory;
import dev.ember.memory.Device;
import dev.ember.memory.Stream;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * cuBLAS handles of each CUDA device ({@link HandlePool}), lent out one call at a time.
 *
 * <p>Before every call the handle is bound to the caller's current stream, and then given that
 * stream's workspace ({@code cublasSetStream} resets the workspace to cuBLAS's own pool, so the
 * order matters). Workspaces come from the device's caching allocator, one per stream and kept
 * for the life of the process: cuBLAS then never allocates by itself, and two handles that share
 * a workspace share its stream too, which runs their work one after the other.
 */
public final class CublasHandles {
    /** cuBLAS's recommended workspace: 32 MiB on Hopper and later, 4 MiB before. */
    private static final long HOPPER_WORKSPACE = 32L << 20;
    private static final long WORKSPACE = 4L << 20;

    private static final Map<Device, CublasHandles> BY_DEVICE = new ConcurrentHashMap<>();

    private final Device device;
    private final long workspaceBytes;
    private final HandlePool handles = new HandlePool("cuBLAS", CublasHandles::create);
    private final Map<Stream, Block> workspaces = new ConcurrentHashMap<>();

    private CublasHandles(Device device) {
        this.device = device;
        this.workspaceBytes = device.computeCapability().atLeast(9, 0) ? HOPPER_WORKSPACE : WORKSPACE;
    }

    /**
     * A handle of {@code stream}'s device bound to that stream, with its workspace, for one
     * caller until the lease is closed. The device's context must be current on this thread.
     */
    public static HandlePool.Lease acquire(Stream stream) {
        CublasHandles device = BY_DEVICE.computeIfAbsent(stream.device(), CublasHandles::new);
        return device.handles.lease(handle -> device.bind(handle, stream));
    }

    private void bind(long handle, Stream stream) {
        Cublas.setStream(handle, stream.handle());
        Block ws = workspaces.computeIfAbsent(stream, s -> CudaMemory.allocator(device).allocate(workspaceBytes, s));
        Cublas.setWorkspace(handle, ws.address(), workspaceBytes);
    }

    /** A new handle; float32 stays full precision unless a call asks for TF32 by its compute type. */
    private static long create() {
        long handle = Cublas.create();
        try {
            Cublas.setMathMode(handle, Cublas.DEFAULT_MATH);
        } catch (RuntimeException e) {
            Cublas.destroy(handle);
            throw e;
        }
        return handle;
    }
}
