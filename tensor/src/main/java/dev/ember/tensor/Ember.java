package dev.ember.tensor;

import dev.ember.tensor.cpu.Parallel;

/** Process-wide entry points: scopes, seeding, threads and memory statistics. */
public final class Ember {
    private Ember() {}

    /** Opens a scope on this thread; see {@link Scope}. */
    public static Scope scope() { return Scope.open(); }

    /** Turns graph recording off on this thread until closed, as torch.no_grad(). */
    public static GradMode.Restore noGrad() { return GradMode.set(false); }

    /** Turns graph recording on on this thread until closed, as torch.enable_grad(). */
    public static GradMode.Restore enableGrad() { return GradMode.set(true); }

    /**
     * As torch.inference_mode(): no graph is recorded until closed. (Ember has no separate
     * inference tensors; this is {@link #noGrad()} under the name PyTorch users look for.)
     */
    public static GradMode.Restore inferenceMode() { return GradMode.set(false); }

    /**
     * Anomaly detection until closed: each recorded node remembers where it was created, a
     * backward error names that place, and a backward function that returns NaN fails.
     */
    public static GradMode.Restore detectAnomaly() { return GradMode.anomaly(true); }

    /** Reseeds the default generator, as torch.manual_seed. */
    public static void manualSeed(long seed) { Generator.defaultGenerator().manualSeed(seed); }

    /** As torch.set_num_threads: how many threads CPU ops may use. */
    public static void setNumThreads(int n) { Parallel.setNumThreads(n); }

    public static int numThreads() { return Parallel.numThreads(); }

    private static volatile boolean allowTf32Matmul;

    /**
     * As {@code torch.backends.cuda.matmul.allow_tf32 = allow}: whether float32 matrix products
     * on CUDA (mm, bmm, matmul, addmm and so Linear) may round their inputs to TF32 on tensor
     * cores (a 10-bit mantissa, about 1e-3 relative error, several times faster on Ampere and
     * later). Off by default, as in PyTorch; float16, bfloat16 and float64 are not affected.
     */
    public static void setAllowTf32Matmul(boolean allow) { allowTf32Matmul = allow; }

    /** Whether float32 matrix products on CUDA may use TF32; see {@link #setAllowTf32Matmul}. */
    public static boolean allowTf32Matmul() { return allowTf32Matmul; }

    private static volatile boolean allowTf32Cudnn = true;

    /**
     * As {@code torch.backends.cudnn.allow_tf32 = allow}: whether float32 convolutions on CUDA
     * may round their inputs to TF32 on tensor cores (a 10-bit mantissa, about 1e-3 relative
     * error, much faster on Ampere and later). On by default, as in PyTorch; off restricts
     * cuDNN to FMA math, float32-exact up to summation order. float16, bfloat16 and float64
     * are not affected.
     */
    public static void setAllowTf32Cudnn(boolean allow) { allowTf32Cudnn = allow; }

    /** Whether float32 convolutions on CUDA may use TF32; see {@link #setAllowTf32Cudnn}. */
    public static boolean allowTf32Cudnn() { return allowTf32Cudnn; }

    private static volatile boolean cudnnBenchmark = false;

    /**
     * As {@code torch.backends.cudnn.benchmark = on}: whether a convolution on CUDA picks its
     * algorithm by running every candidate once and timing it ({@code cudnnFind*Algorithm}), the
     * first time each problem (shapes, dtype, math type, direction) is seen, instead of taking
     * cuDNN's heuristic first choice. Off by default, as in PyTorch: the search costs time and
     * memory once per problem and pays off when the same shapes recur, as in training.
     */
    public static void setCudnnBenchmark(boolean on) { cudnnBenchmark = on; }

    /** Whether convolutions time their algorithms; see {@link #setCudnnBenchmark}. */
    public static boolean cudnnBenchmark() { return cudnnBenchmark; }

    /** Off-heap bytes held by CPU tensors now. */
    public static long liveBytes() { return MemoryStats.liveBytes(); }

    /** Peak off-heap bytes since start or {@link MemoryStats#resetPeak()}. */
    public static long peakBytes() { return MemoryStats.peakBytes(); }

    /** Off-heap bytes released by tensors and kept for reuse by later ones of the same size. */
    public static long cachedBytes() { return MemoryStats.cachedBytes(); }

    /** Returns cached off-heap memory to the system. */
    public static void emptyCache() { MemoryStats.emptyCache(); }

    /** Storages the Cleaner had to reclaim because no one closed them. */
    public static long leakedStorages() { return MemoryStats.leakedStorages(); }
}
