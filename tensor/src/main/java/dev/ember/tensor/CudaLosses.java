package dev.ember.tensor;

import dev.ember.ffi.LaunchScratch;
import dev.ember.ffi.KernelArgs;
import dev.ember.memory.Device;
import dev.ember.memory.Stream;
import dev.ember.tensor.cuda.CudaKernels;

/**
 * Cross-entropy of logits and NLL of log-probabilities against int64 class targets, fused on
 * CUDA (loss.cu): nn.CrossEntropyLoss / nn.NLLLoss with class-index targets, class weights,
 * ignore_index, label smoothing and every reduction, as nn's {@code Functional} defines them on
 * the host. One pass over the rows computes each row's loss (cross-entropy keeps each row's
 * log-sum-exp for the backward), one single-block pass sums them in a fixed order, and the
 * backward writes the input's gradient in one more pass; nothing is atomic, so results never
 * change from run to run.
 *
 * <p>The input is [rows, classes] (nn moves the class dim of [N, C, d1, ...] last first), the
 * target [rows]. A target that is neither a class index nor ignore_index is reported by the
 * kernels; the forward reads the report back (so it waits for the stream) and throws the host
 * path's message, naming the first such target in row order.
 */
public final class CudaLosses {
    private CudaLosses() {}

    /** The kernels' reduction codes (loss.cu: 0 none, 1 mean, 2 sum). */
    public enum Reduction {
        NONE(0), MEAN(1), SUM(2);

        final int code;

        Reduction(int code) { this.code = code; }
    }

    /** Threads per block of the row kernels, and of the single block that reduces (loss.cu's launch rule). */
    private static final int BLOCK = 256;
    private static final int REDUCE_BLOCK = 512;
    /** Classes up to which a warp owns a row; above it a whole block does (loss.cu's rule). */
    private static final long WARP_ROW_CLASSES = 1024;

    /**
     * Cross-entropy of {@code logits} [rows, classes] (floating, on a CUDA device) against
     * {@code target} [rows] (int64), with optional class {@code weight} [classes] of the logits'
     * dtype: (1 - eps) nll + eps / C sum_c -w_c log p_c per row, ignored rows 0; the mean divides
     * by the summed weights of the counted targets.
     */
    public static Tensor crossEntropy(Tensor logits, Tensor target, Tensor weight, long ignoreIndex, Reduction reduction,
                                      double labelSmoothing) {
        return forward(true, logits, target, weight, ignoreIndex, reduction, labelSmoothing);
    }

    /** NLL of {@code logProbs} [rows, classes]: -w_t x[row, t] per row, as {@link #crossEntropy} without the log-softmax. */
    public static Tensor nllLoss(Tensor logProbs, Tensor target, Tensor weight, long ignoreIndex, Reduction reduction) {
        return forward(false, logProbs, target, weight, ignoreIndex, reduction, 0);
    }

    /** PyTorch's error for a class target that is neither in [0, classes) nor ignore_index. */
    public static IndexOutOfBoundsException targetOutOfBounds(long value, long classes, long ignoreIndex) {
        return new IndexOutOfBoundsException("Target " + value + " is out of bounds. Class indices must lie in [0, " + (classes - 1)
                + "] for " + classes + " classes (or equal ignore_index " + ignoreIndex + ").");
    }

    // ---------------------------------------------------------------- forward

    private static Tensor forward(boolean logits, Tensor x, Tensor target, Tensor weight, long ignoreIndex, Reduction reduction,
                                  double smoothing) {
        check(x, target, weight);
        Device d = x.device();
        long rows = x.shape[0], classes = x.shape[1];
        DType type = x.dtype, acc = accumulateType(type);
        boolean grad = Graph.needsGrad(x);
        Tensor out = reduction == Reduction.NONE ? Tensor.empty(d, type, rows) : Tensor.empty(d, type);
        // what the backward needs besides the inputs: each row's log-sum-exp, the mean's denominator
        Tensor lse = grad && logits ? Tensor.empty(d, acc, rows) : null;
        Tensor totalWeight = grad && reduction == Reduction.MEAN ? Tensor.empty(d, acc, 1) : null;
        try (Tensor xs = x.contiguousAs(type); Tensor ts = target.contiguousAs(DType.INT64);
             Tensor ws = weight == null ? null : weight.contiguousAs(type);
             Tensor rowLoss = reduction != Reduction.NONE ? scratch(d, acc, rows) : null;
             Tensor rowWeight = reduction == Reduction.MEAN ? scratch(d, acc, rows) : null;
             CudaReport error = CudaReport.indexError(d);
             LaunchScratch arena = LaunchScratch.open()) {
            CudaKernels k = CudaKernels.of(d);
            Stream stream = CudaOps.stream(d);
            long perRow = reduction == Reduction.NONE ? CudaOps.address(out) : 0;
            if (rows > 0 && logits) {
                boolean warps = classes <= WARP_ROW_CLASSES;
                k.launch(kernel("cross_entropy_fwd", type), rowGrid(k, rows, warps), BLOCK, 0, stream, new KernelArgs(arena)
                        .addPointer(address(xs)).addPointer(address(ts)).addPointer(address(ws))
                        .addLong(rows).addLong(classes).addLong(ignoreIndex).addDouble(smoothing)
                        .addPointer(perRow).addPointer(address(rowLoss)).addPointer(address(rowWeight)).addPointer(address(lse))
                        .addPointer(error.address()).addInt(warps ? 1 : 0));
            } else if (rows > 0) {
                k.launch(kernel("nll_fwd", type), k.gridFor(rows), BLOCK, 0, stream, new KernelArgs(arena)
                        .addPointer(address(xs)).addPointer(address(ts)).addPointer(address(ws))
                        .addLong(rows).addLong(classes).addLong(ignoreIndex)
                        .addPointer(perRow).addPointer(address(rowLoss)).addPointer(address(rowWeight))
                        .addPointer(error.address()));
            }
            if (reduction != Reduction.NONE) { // rows may be 0: a sum of 0, a mean of 0/0
                k.launch(kernel("reduce", type), 1, REDUCE_BLOCK, 0, stream, new KernelArgs(arena)
                        .addPointer(CudaOps.address(out)).addPointer(address(totalWeight))
                        .addPointer(address(rowLoss)).addPointer(address(rowWeight))
                        .addLong(rows).addInt(reduction.code));
            }
            long bad = error.badPosition(); // waits for the stream
            if (bad >= 0) {
                try (Tensor at = ts.select(0, bad)) {
                    throw targetOutOfBounds(at.itemLong(), classes, ignoreIndex);
                }
            }
        } catch (RuntimeException e) {
            out.close();
            if (lse != null) lse.close();
            if (totalWeight != null) totalWeight.close();
            throw e;
        }
        if (!grad) return out;
        return Graph.recordFirstOrder(out, logits ? "CrossEntropyLossBackward0" : "NllLossBackward0",
                (g, s) -> new Tensor[] {backward(logits, g, s[0], s[1], s[2], s[3], s[4], ignoreIndex, reduction, smoothing)},
                new Tensor[] {x}, x, target, weight, lse, totalWeight);
    }

    /** The shapes and dtypes the kernels rely on (nn has checked them with PyTorch's messages; this guards the memory). */
    private static void check(Tensor x, Tensor target, Tensor weight) {
        x.checkOpen();
        target.checkOpen();
        if (!x.isCuda() || !x.dtype.isFloatingPoint() || x.dim() != 2) {
            throw new IllegalArgumentException("a fused class-index loss takes floating [rows, classes] input on a CUDA device, got "
                    + x.dtype + " " + Shapes.format(x.shape) + " on " + x.device());
        }
        Elementwise.checkSameDevice(x.device(), target.device());
        if (target.dtype != DType.INT64 || target.dim() != 1 || target.shape[0] != x.shape[0]) {
            throw new IllegalArgumentException("a fused class-index loss takes int64 [" + x.shape[0] + "] targets, got "
                    + target.dtype + " " + Shapes.format(target.shape));
        }
        if (weight != null) {
            weight.checkOpen();
            Elementwise.checkSameDevice(x.device(), weight.device());
            if (weight.numel() != x.shape[1] || weight.dtype != x.dtype) {
                throw new IllegalArgumentException("a fused class-index loss takes " + x.dtype + " weights for " + x.shape[1]
                        + " classes, got " + weight.dtype + " " + Shapes.format(weight.shape));
            }
        }
    }

    // ---------------------------------------------------------------- backward

    /** The input's gradient [rows, classes] from the loss's gradient g (per row for none, 0-d otherwise). */
    private static Tensor backward(boolean logits, Tensor g, Tensor x, Tensor target, Tensor weight, Tensor lse, Tensor totalWeight,
                                   long ignoreIndex, Reduction reduction, double smoothing) {
        Device d = x.device();
        long rows = x.shape[0], classes = x.shape[1];
        Tensor dx = Tensor.empty(d, x.dtype, rows, classes);
        if (rows * classes == 0) return dx;
        try (Tensor xs = x.contiguousAs(x.dtype); Tensor ts = target.contiguousAs(DType.INT64);
             Tensor ws = weight == null ? null : weight.contiguousAs(x.dtype); Tensor gs = g.contiguousAs(x.dtype);
             LaunchScratch arena = LaunchScratch.open()) {
            CudaKernels k = CudaKernels.of(d);
            Stream stream = CudaOps.stream(d);
            // the forward threw on bad targets, so no error record: they cannot reach here
            if (logits) {
                boolean warps = classes <= WARP_ROW_CLASSES;
                k.launch(kernel("cross_entropy_bwd", x.dtype), rowGrid(k, rows, warps), BLOCK, 0, stream, new KernelArgs(arena)
                        .addPointer(CudaOps.address(dx)).addPointer(address(xs)).addPointer(address(ts)).addPointer(address(ws))
                        .addPointer(address(lse)).addPointer(address(gs)).addPointer(address(totalWeight))
                        .addInt(reduction.code).addLong(rows).addLong(classes).addLong(ignoreIndex).addDouble(smoothing)
                        .addPointer(0).addInt(warps ? 1 : 0));
            } else {
                k.launch(kernel("nll_bwd", x.dtype), k.gridFor(rows * classes), BLOCK, 0, stream, new KernelArgs(arena)
                        .addPointer(CudaOps.address(dx)).addPointer(address(ts)).addPointer(address(ws))
                        .addPointer(address(gs)).addPointer(address(totalWeight))
                        .addInt(reduction.code).addLong(rows).addLong(classes).addLong(ignoreIndex)
                        .addPointer(0));
            }
        } catch (RuntimeException e) {
            dx.close();
            throw e;
        }
        return dx;
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

    /** The dtype the kernels accumulate in: float64 for float64, float32 for the other floats. */
    private static DType accumulateType(DType t) { return t == DType.FLOAT64 ? DType.FLOAT64 : DType.FLOAT32; }

    /** Per-row scratch no scope owns (the forward closes it once its launches are queued). */
    private static Tensor scratch(Device d, DType t, long rows) { return Scope.escape(Tensor.empty(d, t, rows)); }

    /** A tensor's device address, or 0 (NULL) for an absent one. */
    private static long address(Tensor t) { return t == null ? 0 : CudaOps.address(t); }
}
