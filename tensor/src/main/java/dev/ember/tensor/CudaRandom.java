package dev.ember.tensor;

import dev.ember.ffi.LaunchScratch;
import dev.ember.ffi.KernelArgs;
import dev.ember.memory.Device;
import dev.ember.tensor.cuda.CudaKernels;

/**
 * random.cu's kernels: uniform and normal fills, dropout and its backward, drawing from the
 * counter-based Philox generator with the (seed, offset) a {@link Generator} hands out per call
 * and device. An element's value depends only on the seed, the offset and its position, not on
 * the launch, so a seed reproduces a tensor exactly. Every call consumes one offset, an empty
 * tensor's too, so what a seed gives never depends on the sizes drawn before.
 */
final class CudaRandom {
    private CudaRandom() {}

    static String uniformKernel(DType t) { return "ember_rand_uniform_" + CudaOps.suffix(t); }

    static String normalKernel(DType t) { return "ember_rand_normal_" + CudaOps.suffix(t); }

    static String dropoutKernel(DType t) { return "ember_dropout_" + CudaOps.suffix(t); }

    static String dropoutBackwardKernel(DType t) { return "ember_dropout_backward_" + CudaOps.suffix(t); }

    /** Fills a contiguous floating device tensor with U[low, high) values (torch.rand for 0, 1). */
    static void uniform(Tensor out, double low, double high, Generator g) {
        fill(uniformKernel(out.dtype), out, low, high, g);
    }

    /** Fills a contiguous floating device tensor with N(mean, std²) values (torch.randn for 0, 1). */
    static void normal(Tensor out, double mean, double std, Generator g) {
        fill(normalKernel(out.dtype), out, mean, std, g);
    }

    /** out[0..n) from kernel(out, n, a, b, seed, offset). */
    private static void fill(String kernel, Tensor out, double a, double b, Generator g) {
        Device device = out.device();
        Generator.Philox philox = g.nextPhilox(device);
        long n = out.numel();
        if (n == 0) return;
        CudaKernels k = CudaKernels.of(device);
        try (LaunchScratch arena = LaunchScratch.open()) {
            KernelArgs args = new KernelArgs(arena).addPointer(CudaOps.address(out)).addLong(n).addDouble(a).addDouble(b)
                    .addLong(philox.seed()).addLong(philox.offset());
            k.launch(kernel, k.gridFor(philoxBlocks(n, out.dtype == DType.FLOAT64 ? 2 : 4)), CudaKernels.BLOCK, 0,
                    CudaOps.stream(device), args);
        }
    }

    /** The fused dropout's result: the output and the uint8 keep-mask backward needs. */
    record Dropout(Tensor output, Tensor mask) {}

    /**
     * Dropout of a floating device tensor with 0 < p < 1 in one kernel: each element kept with
     * probability 1 - p (mask 1) and scaled by 1 / (1 - p), else 0.
     */
    static Dropout dropout(Tensor input, double p, Generator g) {
        Device device = input.device();
        Generator.Philox philox = g.nextPhilox(device);
        long n = input.numel();
        Tensor out = Tensor.empty(device, input.dtype, input.shape);
        Tensor mask = Tensor.empty(device, DType.UINT8, input.shape);
        if (n == 0) return new Dropout(out, mask);
        CudaKernels k = CudaKernels.of(device);
        try (Tensor in = input.contiguousAs(input.dtype); LaunchScratch arena = LaunchScratch.open()) {
            KernelArgs args = new KernelArgs(arena).addPointer(CudaOps.address(out)).addPointer(CudaOps.address(mask))
                    .addPointer(CudaOps.address(in)).addLong(n).addDouble(p).addLong(philox.seed()).addLong(philox.offset());
            k.launch(dropoutKernel(input.dtype), k.gridFor(philoxBlocks(n, 4)), CudaKernels.BLOCK, 0, CudaOps.stream(device),
                    args);
        } catch (RuntimeException e) {
            out.close();
            mask.close();
            throw e;
        }
        return new Dropout(out, mask);
    }

    /** dx = grad * mask / (1 - p), in grad's (floating) dtype and shape; mask is the forward's. */
    static Tensor dropoutBackward(Tensor grad, Tensor mask, double p) {
        Device device = grad.device();
        long n = grad.numel();
        Tensor dx = Tensor.empty(device, grad.dtype, grad.shape);
        if (n == 0) return dx;
        CudaKernels k = CudaKernels.of(device);
        try (Tensor dy = grad.contiguousAs(grad.dtype); LaunchScratch arena = LaunchScratch.open()) {
            KernelArgs args = new KernelArgs(arena).addPointer(CudaOps.address(dx)).addPointer(CudaOps.address(dy))
                    .addPointer(CudaOps.address(mask)).addLong(n).addDouble(p);
            k.launch(dropoutBackwardKernel(grad.dtype), k.gridFor(n), CudaKernels.BLOCK, 0, CudaOps.stream(device), args);
        } catch (RuntimeException e) {
            dx.close();
            throw e;
        }
        return dx;
    }

    /** Philox blocks for n elements at {@code perBlock} elements a block: the kernels' unit of work. */
    private static long philoxBlocks(long n, int perBlock) {
        return (n + perBlock - 1) / perBlock;
    }
}
