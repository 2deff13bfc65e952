package dev.ember.tensor.cuda;

import dev.ember.ffi.Cudnn;
import dev.ember.memory.Device;
import dev.ember.memory.Stream;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * cuDNN handles of a CUDA device, lent out one call at a time. A handle must not be used by two
 * threads at once and carries one stream, so each {@link #acquire} takes an idle handle
 * (creating one, lazily, when all are lent), binds it to the caller's current stream, and
 * {@link Lease#close} gives it back: there are never more handles than threads that called
 * cuDNN at the same moment, and none is lost when a thread ends. Handles live as long as the
 * process, like the device's loaded kernels.
 *
 * <p>The legacy descriptor API Ember uses takes its workspace per call, so a handle holds no
 * device memory of its own beyond what {@code cudnnCreate} reserves.
 */
public final class CudnnHandles {
    private static final Map<Device, CudnnHandles> BY_DEVICE = new ConcurrentHashMap<>();

    private final ConcurrentLinkedDeque<Long> idle = new ConcurrentLinkedDeque<>();

    private CudnnHandles() {
    }

    /**
     * A handle of {@code stream}'s device bound to that stream, for one caller until the lease is
     * closed. The device's context must be current on this thread (a handle belongs to the
     * context current when it is created).
     */
    public static Lease acquire(Stream stream) {
        CudnnHandles pool = BY_DEVICE.computeIfAbsent(stream.device(), d -> new CudnnHandles());
        Long h = pool.idle.pollFirst();
        long handle = h != null ? h : Cudnn.create();
        try {
            Cudnn.setStream(handle, stream.handle());
        } catch (RuntimeException e) {
            pool.idle.offerFirst(handle);
            throw e;
        }
        return pool.new Lease(handle);
    }

    /** A handle lent to one caller; closing gives it back to the device's idle handles. */
    public final class Lease implements AutoCloseable {
        private final long handle;
        private boolean closed;

        private Lease(long handle) {
            this.handle = handle;
        }

        /** The cuDNN handle, bound to the stream it was acquired for. */
        public long handle() {
            if (closed) throw new IllegalStateException("cuDNN handle lease already closed");
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
