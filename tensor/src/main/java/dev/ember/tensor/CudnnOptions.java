package dev.ember.tensor;

/**
 * Process-wide switches of the cuDNN-backed ops, as {@code torch.backends.cudnn}'s.
 */
public final class CudnnOptions {
    private CudnnOptions() {}

    private static volatile boolean allowTf32 = true;

    /**
     * As {@code torch.backends.cudnn.allow_tf32 = allow}: whether float32 convolutions on CUDA
     * may round their inputs to TF32 on tensor cores (a 10-bit mantissa, about 1e-3 relative
     * error, much faster on Ampere and later). On by default, as in PyTorch; off restricts
     * cuDNN to FMA math, float32-exact up to summation order. float16, bfloat16 and float64
     * are not affected.
     */
    public static void setAllowTf32(boolean allow) { allowTf32 = allow; }

    /** Whether float32 convolutions on CUDA may use TF32; see {@link #setAllowTf32}. */
    public static boolean allowTf32() { return allowTf32; }
}
