package dev.ember.tensor.cuda;

import dev.ember.ffi.CudaDriver;
import dev.ember.ffi.KernelArgs;
import dev.ember.kernels.KernelImages;
import dev.ember.memory.Device;
import dev.ember.memory.Stream;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Ember's hand-written kernels on a CUDA device, by name: the image (fatbin) that holds a
 * kernel is loaded into the device's context the first time one of its kernels is needed, and
 * each function handle is looked up once and kept. Names follow the kernels' contract
 * ({@code ember_<family>_<op>_<dtype>}, see native-kernels/src/main/cuda), so a backend finds a
 * kernel from the op's one declaration instead of a table of its own.
 */
public final class CudaKernels {
    /** Threads per block for the 1-D kernels: a multiple of the warp, and what their contracts suggest. */
    public static final int BLOCK = 256;

    private static final Map<Device, CudaKernels> BY_DEVICE = new ConcurrentHashMap<>();

    private final Device device;
    private final Map<String, Long> modules = new ConcurrentHashMap<>();
    private final Map<String, Long> functions = new ConcurrentHashMap<>();
    private final int maxBlocks;

    private CudaKernels(Device device) {
        this.device = device;
        // enough resident blocks to fill every SM a few times over; grid-stride loops do the rest
        this.maxBlocks = device.multiprocessorCount() * 8;
    }

    /** The kernels of a CUDA device. */
    public static CudaKernels of(Device device) {
        if (!device.isCuda()) throw new IllegalArgumentException("CUDA kernels run on CUDA devices, not on " + device);
        return BY_DEVICE.computeIfAbsent(device, CudaKernels::new);
    }

    /** Whether an image holds a kernel of this name (the build's index; never touches the GPU). */
    public static boolean exists(String kernel) {
        return KernelImages.isBuilt() && KernelImages.imageOf(kernel).isPresent();
    }

    /** The function handle of a kernel, loading its image on first use. */
    public long function(String kernel) {
        Long f = functions.get(kernel);
        if (f != null) return f;
        if (!KernelImages.isBuilt()) {
            throw new IllegalStateException("CUDA kernels not built: " + KernelImages.notBuiltReason());
        }
        String image = KernelImages.imageOf(kernel).orElseThrow(() -> new UnsupportedOperationException(
                "no CUDA kernel named " + kernel + " (this op or dtype is not implemented on CUDA)"));
        CudaDriver.ensureContext(device.index());
        long module = modules.computeIfAbsent(image, name -> CudaDriver.moduleLoadData(KernelImages.image(name)));
        return functions.computeIfAbsent(kernel, k -> CudaDriver.moduleGetFunction(module, k));
    }

    /**
     * Blocks of {@link #BLOCK} threads for {@code work} items, one item per thread, capped at a
     * few waves of the device (the kernels' grid-stride loops cover the rest); at least one.
     */
    public int gridFor(long work) {
        long blocks = (work + BLOCK - 1) / BLOCK;
        return (int) Math.max(1, Math.min(blocks, maxBlocks));
    }

    /** Queues a 1-D launch of {@code kernel} on the stream. */
    public void launch(String kernel, int grid, int block, int sharedBytes, Stream stream, KernelArgs args) {
        launch(kernel, grid, 1, 1, block, sharedBytes, stream, args);
    }

    /** Queues a launch with a 3-D grid of 1-D blocks (row-wise kernels put rows or splits on y and z). */
    public void launch(String kernel, int gridX, int gridY, int gridZ, int block, int sharedBytes, Stream stream,
            KernelArgs args) {
        long f = function(kernel);
        CudaDriver.launchKernel(f, gridX, gridY, gridZ, block, 1, 1, sharedBytes, stream.handle(), args.build());
    }

    public Device device() { return device; }
}
