package dev.ember.tensor.cuda;

import dev.ember.ffi.Cublas;
import dev.ember.memory.Block;
import dev.ember.memory.CudaMemory;
import dev.ember.memory.Device;
import dev.ember.memory.Stream;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * cuBLAS handles of a CUDA device, lent out one call at a time. A handle must not be used by two
 * threads at once, so each {@link #acquire} takes an idle handle (creating one, lazily, when all
 * are lent) and {@link Lease#close} gives it back: there are never more handles than threads
 * that multiplied at the same moment, and none is lost when a thread ends.
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
    private final ConcurrentLinkedDeque<Long> idle = new ConcurrentLinkedDeque<>();
    private final Map<Stream, Block> workspaces = new ConcurrentHashMap<>();

    private CublasHandles(Device device) {
        this.device = device;
        this.workspaceBytes = device.computeCapability().atLeast(9, 0) ? HOPPER_WORKSPACE : WORKSPACE;
    }

    /**
     * A handle of {@code stream}'s device bound to that stream, with its workspace, for one
     * caller until the lease is closed. The device's context must be current on this thread.
     */
    public static Lease acquire(Stream stream) {
        CublasHandles pool = BY_DEVICE.computeIfAbsent(stream.device(), CublasHandles::new);
        return pool.lease(stream);
    }

    private Lease lease(Stream stream) {
        Long h = idle.pollFirst();
        long handle = h != null ? h : create();
        try {
            Cublas.setStream(handle, stream.handle());
            Block ws = workspaces.computeIfAbsent(stream,
                    s -> CudaMemory.allocator(device).allocate(workspaceBytes, s));
            Cublas.setWorkspace(handle, ws.address(), workspaceBytes);
        } catch (RuntimeException e) {
            idle.offerFirst(handle);
            throw e;
        }
        return new Lease(handle);
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

    /** A handle lent to one caller; closing gives it back to the device's idle handles. */
    public final class Lease implements AutoCloseable {
        private final long handle;
        private boolean closed;

        private Lease(long handle) {
            this.handle = handle;
        }

        /** The cuBLAS handle, bound to the stream it was acquired for. */
        public long handle() {
            if (closed) throw new IllegalStateException("cuBLAS handle lease already closed");
            return handle;
        }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            idle.offerFirst(handle);
        }
    }
}
