package dev.ember.tensor;

import dev.ember.memory.Device;
import dev.ember.memory.Stream;
import dev.ember.tensor.cuda.CudnnHandles;
import dev.ember.tensor.cuda.HandlePool;

/**
 * What the cuDNN-backed ops (convolution, pooling, batch norm) share on the host: the one
 * device their operands must be on, a handle bound to the current stream for the length of a
 * call, operands as device addresses, and workspaces from the caching allocator.
 */
final class CudnnCalls {
    private CudnnCalls() {}

    /** Work that needs a cuDNN handle, already bound to the current stream. */
    @FunctionalInterface
    interface Work {
        void run(long handle);
    }

    /**
     * The device of the given tensors (nulls skipped, cpu if none), with PyTorch's error when two
     * differ. Runs before any backend is chosen, so the CPU path checks the same.
     */
    static Device sameDevice(Tensor... ts) {
        Device found = null;
        for (Tensor t : ts) {
            if (t == null) continue;
            if (found == null) found = t.device(); else Elementwise.checkSameDevice(found, t.device());
        }
        return found != null ? found : Device.cpu();
    }

    /** Runs work with a cuDNN handle of d bound to this thread's current stream of d (context made current). */
    static void run(Device d, Work work) {
        Stream stream = CudaOps.stream(d);
        try (HandlePool.Lease lease = CudnnHandles.acquire(stream)) {
            work.run(lease.handle());
        }
    }

    /** The device address of a tensor's element 0; 0 for null (an operand cuDNN may leave out). */
    static long address(Tensor t) {
        return t == null ? 0 : CudaOps.address(t);
    }

    /**
     * {@code bytes} of scratch on d from the caching allocator, on the current stream, or null
     * for none; closing it after the call was queued is safe (the block is reused only by work
     * queued later on the same stream).
     */
    static Tensor workspace(Device d, long bytes) {
        return bytes == 0 ? null : Tensor.empty(d, DType.UINT8, bytes);
    }
}
