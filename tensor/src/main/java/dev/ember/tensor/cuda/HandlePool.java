package dev.ember.tensor.cuda;

import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * Handles of a CUDA library (cuBLAS, cuDNN) on one device, lent out one call at a time. A handle
 * must not be used by two threads at once and carries one stream, so each {@link #lease} takes
 * an idle handle (creating one, lazily, when all are lent), binds it for the caller, and
 * {@link Lease#close} gives it back: there are never more handles than threads that called the
 * library at the same moment, and none is lost when a thread ends. Handles live as long as the
 * process, like the device's loaded kernels.
 */
public final class HandlePool {
    private final String library;
    private final LongSupplier create;
    private final ConcurrentLinkedDeque<Long> idle = new ConcurrentLinkedDeque<>();

    /** @param create makes a new handle; the device's context must be current when it runs */
    public HandlePool(String library, LongSupplier create) {
        this.library = library;
        this.create = create;
    }

    /** An idle or new handle, prepared by {@code bind} (e.g. set to a stream); given back if bind fails. */
    public Lease lease(LongConsumer bind) {
        Long h = idle.pollFirst();
        long handle = h != null ? h : create.getAsLong();
        try {
            bind.accept(handle);
        } catch (RuntimeException e) {
            idle.offerFirst(handle);
            throw e;
        }
        return new Lease(handle);
    }

    /** A handle lent to one caller; closing gives it back to the pool's idle handles. */
    public final class Lease implements AutoCloseable {
        private final long handle;
        private boolean closed;

        private Lease(long handle) {
            this.handle = handle;
        }

        /** The handle, bound as the lease's {@code bind} left it. */
        public long handle() {
            if (closed) throw new IllegalStateException(library + " handle lease already closed");
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
