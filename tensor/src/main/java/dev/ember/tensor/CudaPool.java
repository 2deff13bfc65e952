package dev.ember.tensor;

import dev.ember.ffi.Cudnn;
import dev.ember.memory.Device;
import dev.ember.tensor.cuda.CudnnDescriptors;
import java.util.Arrays;

/**
 * Max and average pooling and their gradients on CUDA through cuDNN, for {@link PoolKernels}
 * once it has checked the arguments and sized the output as PyTorch does.
 *
 * <p>cuDNN pools with symmetric padding that it leaves out of every window (so a max never
 * picks it), windows clipped to the padded input, and output sizes
 * {@code (in + 2·pad − kernel) / stride + 1}. It has no dilation and no ceil mode: a call that
 * needs either fails with a message ({@link #checkExpressible}) instead of computing something
 * else. Ceil mode that adds no window (the common case of sizes that divide evenly) is the
 * same pooling and runs. Max pooling's gradient is cuDNN's: it finds each window's maximum
 * again from the forward's input and output, so it needs those instead of indices.
 */
final class CudaPool {
    private CudaPool() {}

    /**
     * Fails unless cuDNN computes exactly this pooling: no dilation, and an output of the size
     * cuDNN's floor formula gives (ceil mode may only have been asked for, not needed). outH and
     * outW are the sizes PyTorch's rules gave.
     */
    static void checkExpressible(String op, long inH, long inW, long outH, long outW, int[] k, int[] s, int[] p, int[] d,
            boolean ceilMode) {
        if (d[0] != 1 || d[1] != 1) {
            throw new UnsupportedOperationException(op + " on CUDA: dilation " + Arrays.toString(d)
                    + " is not supported (cuDNN pooling has no dilation); use dilation 1 or pool on the CPU");
        }
        // floored, not truncated: in ceil mode PyTorch accepts a window wider than the padded input
        long floorH = Math.floorDiv(inH + 2L * p[0] - k[0], s[0]) + 1, floorW = Math.floorDiv(inW + 2L * p[1] - k[1], s[1]) + 1;
        if (floorH != outH || floorW != outW) {
            throw new UnsupportedOperationException(op + " on CUDA: ceil_mode=True adds a partial window here (output "
                    + outH + "x" + outW + " instead of " + floorH + "x" + floorW + " for input " + inH + "x" + inW
                    + "), which cuDNN pooling cannot express; use ceil_mode=False, pad the input, or pool on the CPU");
        }
    }

    /** max pooling forward: the pooled values, of shape outShape. */
    static Tensor max(Tensor input, DType t, long[] outShape, int[] k, int[] s, int[] p) {
        return forward(Cudnn.POOLING_MAX_DETERMINISTIC, input, t, outShape, k, s, p);
    }

    /** average pooling forward, dividing by the whole window or by its part inside the input. */
    static Tensor avg(Tensor input, DType t, long[] outShape, int[] k, int[] s, int[] p, boolean countIncludePad) {
        return forward(averageMode(countIncludePad), input, t, outShape, k, s, p);
    }

    /** The gradient of max pooling, given the forward's input and output. */
    static Tensor maxBackward(Tensor gradOut, Tensor input, Tensor output, DType t, int[] k, int[] s, int[] p) {
        Device d = gradOut.device();
        Tensor dx = Tensor.empty(d, t, input.shape);
        if (dx.numel() == 0) return dx;
        try (Tensor dy = gradOut.contiguousAs(t); Tensor x = input.contiguousAs(t); Tensor y = output.contiguousAs(t)) {
            backward(Cudnn.POOLING_MAX_DETERMINISTIC, dy, y, x, dx, t, k, s, p);
        }
        return dx;
    }

    /** The gradient of average pooling, of shape inputShape. */
    static Tensor avgBackward(Tensor gradOut, DType t, long[] inputShape, int[] k, int[] s, int[] p, boolean countIncludePad) {
        Device d = gradOut.device();
        Tensor dx = Tensor.empty(d, t, inputShape);
        if (dx.numel() == 0) return dx;
        try (Tensor dy = gradOut.contiguousAs(t)) {
            // an average's gradient depends on no value of x or y, but cuDNN's call names both: the
            // gradients stand in for them (same shapes, so the descriptors are right)
            backward(averageMode(countIncludePad), dy, dy, dx, dx, t, k, s, p);
        }
        return dx;
    }

    private static int averageMode(boolean countIncludePad) {
        return countIncludePad ? Cudnn.POOLING_AVERAGE_COUNT_INCLUDE_PADDING : Cudnn.POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
    }

    private static Tensor forward(int mode, Tensor input, DType t, long[] outShape, int[] k, int[] s, int[] p) {
        Device d = input.device();
        Tensor y = Tensor.empty(d, t, outShape);
        if (y.numel() == 0) return y;
        try (Tensor x = input.contiguousAs(t)) {
            CudnnCalls.run(d, handle -> {
                try (CudnnDescriptors desc = new CudnnDescriptors()) {
                    long pd = desc.pooling(mode, k, p, s);
                    long xd = desc.tensor(t, CudnnDescriptors.nchw(x.shape)), yd = desc.tensor(t, CudnnDescriptors.nchw(outShape));
                    Cudnn.poolingForward(handle, pd, 1, xd, CudnnCalls.address(x), 0, yd, CudnnCalls.address(y));
                }
            });
        }
        return y;
    }

    /** dx = the pooling gradient for dy, given y and x (all contiguous, on one device). */
    private static void backward(int mode, Tensor dy, Tensor y, Tensor x, Tensor dx, DType t, int[] k, int[] s, int[] p) {
        CudnnCalls.run(dx.device(), handle -> {
            try (CudnnDescriptors desc = new CudnnDescriptors()) {
                long pd = desc.pooling(mode, k, p, s);
                long xd = desc.tensor(t, CudnnDescriptors.nchw(dx.shape)), yd = desc.tensor(t, CudnnDescriptors.nchw(dy.shape));
                Cudnn.poolingBackward(handle, pd, 1, yd, CudnnCalls.address(y), yd, CudnnCalls.address(dy), xd,
                        CudnnCalls.address(x), 0, xd, CudnnCalls.address(dx));
            }
        });
    }
}
