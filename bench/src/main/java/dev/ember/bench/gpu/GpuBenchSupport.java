package dev.ember.bench.gpu;

import dev.ember.ffi.Cuda;
import dev.ember.ffi.CudaDriver;
import dev.ember.memory.Device;
import dev.ember.memory.Stream;
import dev.ember.tensor.DType;
import dev.ember.tensor.Generator;
import dev.ember.tensor.Tensor;

/** What every GPU benchmark's setup does first, and what the tensor benchmarks share. */
final class GpuBenchSupport {
    /** Decimal gigabytes, as NVIDIA and PyTorch quote bandwidth. */
    static final double GB = 1e9;
    /** The device every GPU benchmark runs on. */
    static final Device DEVICE = Device.cuda(0);

    private GpuBenchSupport() {
    }

    /**
     * Fails the benchmark's setup with the reason when there is no usable CUDA device (JMH
     * then reports the benchmark as failed and goes on), else makes device 0's primary
     * context current on the calling thread, which the driver calls need.
     */
    static void requireCuda(String benchmark) {
        if (!Cuda.isAvailable()) {
            throw new IllegalStateException(benchmark + " needs a CUDA device, and CUDA is not available here: "
                    + Cuda.unavailableReason() + " (ci/gpu-run runs the GPU benchmarks only on a machine with a GPU)");
        }
        CudaDriver.ensureContext(0);
    }

    /**
     * Waits for everything queued on the device's current stream, the one Ember's ops launch
     * on: a benchmark method that queues GPU work ends with this, so JMH times the work itself
     * and not only its queueing.
     */
    static void synchronize() {
        Stream.current(DEVICE).synchronize();
    }

    /**
     * Uniform [0, 1) values of {@code dtype} on the device, drawn on the host from a generator
     * seeded with {@code seed} (so the kernels work on data, as PyTorch's peer does, not on a
     * constant that could flatter them), converted there and copied over.
     */
    static Tensor uniform(long seed, DType dtype, long... shape) {
        try (Tensor host = Tensor.rand(new Generator(seed), shape); Tensor converted = host.to(dtype)) {
            return converted.to(DEVICE);
        }
    }

    /** At a benchmark's tear-down: waits for the device's queued work, then frees the benchmark's tensors. */
    static void release(Tensor... tensors) {
        synchronize();
        for (Tensor t : tensors) t.close();
    }
}
