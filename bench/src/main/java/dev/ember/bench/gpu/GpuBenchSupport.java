package dev.ember.bench.gpu;

import dev.ember.ffi.Cuda;
import dev.ember.ffi.CudaDriver;

/** What every GPU benchmark's setup does first. */
final class GpuBenchSupport {
    /** Decimal gigabytes, as NVIDIA and PyTorch quote bandwidth. */
    static final double GB = 1e9;

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
}
