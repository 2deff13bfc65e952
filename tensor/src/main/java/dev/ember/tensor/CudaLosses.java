package dev.ember.tensor;

import dev.ember.ffi.LaunchScratch;
import dev.ember.ffi.KernelArgs;
import dev.ember.memory.Device;
import dev.ember.memory.Stream;
import dev.ember.tensor.cuda.CudaKernels;

/**
 * The CUDA kernels of {@link ClassIndexLosses} (loss.cu): one pass over the rows computes each
 * row's loss (cross-entropy keeps each row's log-sum-exp for the backward), one single-block
 * pass sums them in a fixed order, and the backward writes the input's gradient in one more
 * pass; nothing is atomic, so results never change from run to run. A target that is neither a
 * class index nor ignore_index is reported by the kernels; the forward reads the report back
 * (so it waits for the stream) for the op to throw.
 */
final class CudaLosses {
    private CudaLosses() {}

    /** Threads per block of the row kernels, and of the single block that reduces (loss.cu's launch rule). */
    private static final int BLOCK = 256;
    private static final int REDUCE_BLOCK = 512;
    /** Classes up to which a warp owns a row; above it a whole block does (loss.cu's rule). */
    private static final long WARP_ROW_CLASSES = 1024;

    /**
     * The forward on contiguous operands: writes {@code out}, and {@code lse} and
     * {@code totalWeight} where not null (see {@link ClassIndexLosses}); returns the first bad
     * target's row, or -1.
     */
    static long forward(boolean logits, Tensor xs, Tensor ts, Tensor ws, long ignoreIndex, ClassIndexLosses.Reduction reduction,
                        double smoothing, Tensor out, Tensor lse, Tensor totalWeight) {
        Device d = xs.device();
        long rows = xs.shape[0], classes = xs.shape[1];
        DType acc = ClassIndexLosses.accumulateType(d, xs.dtype);
        boolean none = reduction == ClassIndexLosses.Reduction.NONE, mean = reduction == ClassIndexLosses.Reduction.MEAN;
        try (Tensor rowLoss = !none ? scratch(d, acc, rows) : null;
             Tensor rowWeight = mean ? scratch(d, acc, rows) : null;
             CudaReport error = CudaReport.indexError(d);
             LaunchScratch arena = LaunchScratch.open()) {
            CudaKernels k = CudaKernels.of(d);
            Stream stream = CudaOps.stream(d);
            long perRow = none ? CudaOps.address(out) : 0;
            if (rows > 0 && logits) {
                boolean warps = classes <= WARP_ROW_CLASSES;
                k.launch(kernel("cross_entropy_fwd", xs.dtype), rowGrid(k, rows, warps), BLOCK, 0, stream, new KernelArgs(arena)
                        .addPointer(address(xs)).addPointer(address(ts)).addPointer(address(ws))
                        .addLong(rows).addLong(classes).addLong(ignoreIndex).addDouble(smoothing)
                        .addPointer(perRow).addPointer(address(rowLoss)).addPointer(address(rowWeight)).addPointer(address(lse))
                        .addPointer(error.address()).addInt(warps ? 1 : 0));
            } else if (rows > 0) {
                k.launch(kernel("nll_fwd", xs.dtype), k.gridFor(rows), BLOCK, 0, stream, new KernelArgs(arena)
                        .addPointer(address(xs)).addPointer(address(ts)).addPointer(address(ws))
                        .addLong(rows).addLong(classes).addLong(ignoreIndex)
                        .addPointer(perRow).addPointer(address(rowLoss)).addPointer(address(rowWeight))
                        .addPointer(error.address()));
            }
            if (!none) { // rows may be 0: a sum of 0, a mean of 0/0
                k.launch(kernel("reduce", xs.dtype), 1, REDUCE_BLOCK, 0, stream, new KernelArgs(arena)
                        .addPointer(CudaOps.address(out)).addPointer(address(totalWeight))
                        .addPointer(address(rowLoss)).addPointer(address(rowWeight))
                        .addLong(rows).addInt(reduction.code));
            }
            return error.badPosition(); // waits for the stream
        }
    }

    /** The input's gradient into {@code dx} [rows, classes] from the loss's gradient gs (per row for none, 0-d otherwise). */
    static void backward(boolean logits, Tensor dx, Tensor xs, Tensor ts, Tensor ws, Tensor lse, Tensor gs, Tensor totalWeight,
                         ClassIndexLosses.Reduction reduction, long ignoreIndex, double smoothing) {
        long rows = xs.shape[0], classes = xs.shape[1];
        try (LaunchScratch arena = LaunchScratch.open()) {
            CudaKernels k = CudaKernels.of(xs.device());
            Stream stream = CudaOps.stream(xs.device());
            // the forward threw on bad targets, so no error record: they cannot reach here
            if (logits) {
                boolean warps = classes <= WARP_ROW_CLASSES;
                k.launch(kernel("cross_entropy_bwd", xs.dtype), rowGrid(k, rows, warps), BLOCK, 0, stream, new KernelArgs(arena)
                        .addPointer(CudaOps.address(dx)).addPointer(address(xs)).addPointer(address(ts)).addPointer(address(ws))
                        .addPointer(address(lse)).addPointer(address(gs)).addPointer(address(totalWeight))
                        .addInt(reduction.code).addLong(rows).addLong(classes).addLong(ignoreIndex).addDouble(smoothing)
                        .addPointer(0).addInt(warps ? 1 : 0));
            } else {
                k.launch(kernel("nll_bwd", xs.dtype), k.gridFor(rows * classes), BLOCK, 0, stream, new KernelArgs(arena)
                        .addPointer(CudaOps.address(dx)).addPointer(address(ts)).addPointer(address(ws))
                        .addPointer(address(gs)).addPointer(address(totalWeight))
                        .addInt(reduction.code).addLong(rows).addLong(classes).addLong(ignoreIndex)
                        .addPointer(0));
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    /** loss.cu's entry point {@code ember_loss_<op>_<dtype>}. */
    static String kernel(String op, DType t) { return "ember_loss_" + op + "_" + CudaOps.suffix(t); }

    /**
     * Blocks for the cross-entropy kernels: a row per warp (8 per block) or per block, capped at
     * a few waves of the device (rows are shared out with a grid stride; each row's result does
     * not depend on which group computes it).
     */
    private static int rowGrid(CudaKernels k, long rows, boolean warps) {
        return k.gridFor(rows * (warps ? 32 : BLOCK));
    }

    /** Per-row scratch no scope owns (the forward closes it once its launches are queued). */
    private static Tensor scratch(Device d, DType t, long rows) { return Scope.escape(Tensor.empty(d, t, rows)); }

    /** A tensor's device address, or 0 (NULL) for an absent one. */
    private static long address(Tensor t) { return t == null ? 0 : CudaOps.address(t); }
}
