package dev.ember.tensor;

import dev.ember.memory.Device;
import dev.ember.tensor.cpu.CpuLosses;

/**
 * Cross-entropy of logits and NLL of log-probabilities against int64 class targets as one fused
 * op: nn.CrossEntropyLoss / nn.NLLLoss with class-index targets, class weights, ignore_index,
 * label smoothing and every reduction, as nn's {@code Functional} defines them with tensor ops.
 * The kernels are {@link CpuLosses} on the host and loss.cu on CUDA ({@link CudaLosses}); this
 * class checks the operands, keeps what the backward needs (each row's log-sum-exp, the mean's
 * denominator) and declares the gradient, once for both.
 *
 * <p>The input is [rows, classes] (nn moves the class dim of [N, C, d1, ...] last first), the
 * target [rows]. A target that is neither a class index nor ignore_index fails with PyTorch's
 * message, naming the first such target in row order.
 */
public final class ClassIndexLosses {
    private ClassIndexLosses() {}

    /** How the rows' losses are reduced; the codes are the kernels'. */
    public enum Reduction {
        NONE(CpuLosses.NONE), MEAN(CpuLosses.MEAN), SUM(CpuLosses.SUM);

        final int code;

        Reduction(int code) { this.code = code; }
    }

    /**
     * Cross-entropy of {@code logits} [rows, classes] (floating) against {@code target} [rows]
     * (int64), with optional class {@code weight} [classes] of the logits' dtype: (1 - eps) nll
     * + eps / C sum_c -w_c log p_c per row, ignored rows 0; the mean divides by the summed
     * weights of the counted targets.
     */
    public static Tensor crossEntropy(Tensor logits, Tensor target, Tensor weight, long ignoreIndex, Reduction reduction,
                                      double labelSmoothing) {
        return forward(true, logits, target, weight, ignoreIndex, reduction, labelSmoothing);
    }

    /** NLL of {@code logProbs} [rows, classes]: -w_t x[row, t] per row, as {@link #crossEntropy} without the log-softmax. */
    public static Tensor nllLoss(Tensor logProbs, Tensor target, Tensor weight, long ignoreIndex, Reduction reduction) {
        return forward(false, logProbs, target, weight, ignoreIndex, reduction, 0);
    }

    /**
     * Whether the fused op takes this input and class weight: a floating input, weights (if
     * any) of its dtype; on the host float32 or float64 (what its kernels read), and weights
     * that need no gradient (the op differentiates the input alone; the composed loss's ops
     * give weights one).
     */
    public static boolean fuses(Tensor input, Tensor weight) {
        if (!kernelsRead(input) || weight != null && weight.dtype != input.dtype) return false;
        return input.isCuda() || weight == null || !Graph.needsGrad(weight);
    }

    /** Whether the kernels read x's dtype: any floating one on CUDA, float32 or float64 on the host. */
    private static boolean kernelsRead(Tensor x) {
        return x.isCuda() ? x.dtype.isFloatingPoint() : x.dtype == DType.FLOAT32 || x.dtype == DType.FLOAT64;
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
        long rows = x.shape[0];
        DType type = x.dtype, acc = accumulateType(d, type);
        boolean grad = Graph.needsGrad(x);
        Tensor out = reduction == Reduction.NONE ? Tensor.empty(d, type, rows) : Tensor.empty(d, type);
        Tensor lse = grad && logits ? Tensor.empty(d, acc, rows) : null;
        Tensor totalWeight = grad && reduction == Reduction.MEAN ? Tensor.empty(d, acc, 1) : null;
        try (Tensor xs = x.contiguousAs(type); Tensor ts = target.contiguousAs(DType.INT64);
             Tensor ws = weight == null ? null : weight.contiguousAs(type)) {
            long bad = d.isCuda()
                    ? CudaLosses.forward(logits, xs, ts, ws, ignoreIndex, reduction, smoothing, out, lse, totalWeight)
                    : cpuForward(logits, xs, ts, ws, ignoreIndex, reduction, smoothing, out, lse, totalWeight);
            if (bad >= 0) {
                try (Tensor at = ts.select(0, bad)) {
                    throw targetOutOfBounds(at.itemLong(), x.shape[1], ignoreIndex);
                }
            }
        } catch (RuntimeException e) {
            out.close();
            if (lse != null) lse.close();
            if (totalWeight != null) totalWeight.close();
            throw e;
        }
        if (!grad) return out;
        return Graph.record(out, logits ? "CrossEntropyLossBackward0" : "NllLossBackward0",
                (g, s) -> new Tensor[] {GradMode.isEnabled()
                        ? composedGradient(logits, g, s[0], s[1], s[2], s[4], ignoreIndex, reduction, smoothing)
                        : fusedGradient(logits, g, s[0], s[1], s[2], s[3], s[4], ignoreIndex, reduction, smoothing)},
                new Tensor[] {x}, x, target, weight, lse, totalWeight);
    }

    /** The host kernels on contiguous operands; returns the first bad target's row, or -1 (nothing written). */
    private static long cpuForward(boolean logits, Tensor xs, Tensor ts, Tensor ws, long ignoreIndex, Reduction reduction,
                                   double smoothing, Tensor out, Tensor lse, Tensor totalWeight) {
        CpuLosses.Operands o = operands(xs, ts, ws, ignoreIndex, smoothing);
        long bad = CpuLosses.firstBadTarget(o);
        if (bad < 0) {
            CpuLosses.forward(o, logits, reduction.code, out.data(), out.offset, data(lse), offset(lse), data(totalWeight),
                    offset(totalWeight));
        }
        return bad;
    }

    /** The shapes and dtypes the kernels rely on (nn has checked them with PyTorch's messages; this guards the memory). */
    private static void check(Tensor x, Tensor target, Tensor weight) {
        x.checkOpen();
        target.checkOpen();
        if (!kernelsRead(x) || x.dim() != 2) {
            throw new IllegalArgumentException("a fused class-index loss takes floating [rows, classes] input (float32 or float64 on"
                    + " the CPU), got " + x.dtype + " " + Shapes.format(x.shape) + " on " + x.device());
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

    /** The input's gradient [rows, classes] by the kernels, from the loss's gradient g (per row for none, 0-d otherwise). */
    private static Tensor fusedGradient(boolean logits, Tensor g, Tensor x, Tensor target, Tensor weight, Tensor lse,
                                        Tensor totalWeight, long ignoreIndex, Reduction reduction, double smoothing) {
        Device d = x.device();
        long rows = x.shape[0], classes = x.shape[1];
        Tensor dx = Tensor.empty(d, x.dtype, rows, classes);
        if (rows * classes == 0) return dx;
        try (Tensor xs = x.contiguousAs(x.dtype); Tensor ts = target.contiguousAs(DType.INT64);
             Tensor ws = weight == null ? null : weight.contiguousAs(x.dtype); Tensor gs = g.contiguousAs(x.dtype)) {
            // the forward threw on bad targets: none reach here
            if (d.isCuda()) {
                CudaLosses.backward(logits, dx, xs, ts, ws, lse, gs, totalWeight, reduction, ignoreIndex, smoothing);
            } else {
                CpuLosses.Operands o = operands(xs, ts, ws, ignoreIndex, smoothing);
                boolean perRow = reduction == Reduction.NONE;
                double grad = perRow ? 0 : reduction == Reduction.MEAN ? gs.item() / totalWeight.item() : gs.item();
                CpuLosses.backward(o, logits, data(lse), offset(lse), perRow ? gs.data() : null, gs.offset, grad, dx.data(),
                        dx.offset);
            }
        } catch (RuntimeException e) {
            dx.close();
            throw e;
        }
        return dx;
    }

    /**
     * The kernels' gradient in differentiable tensor ops, for a backward that records a graph
     * (createGraph): the same formula, p_c scale - hit [c = t] - e/C w_c per counted row, times
     * the row's share of g. (A mean over no counted rows is 0/0 here, NaN, where the kernels
     * give the ignored rows 0.)
     */
    private static Tensor composedGradient(boolean logits, Tensor g, Tensor x, Tensor target, Tensor weight, Tensor totalWeight,
                                           long ignoreIndex, Reduction reduction, double smoothing) {
        long rows = x.shape[0], classes = x.shape[1];
        Tensor ignored = target.eq(ignoreIndex), safe = target.maskedFill(ignored, 0);
        Tensor counted = ignored.logicalNot().to(x.dtype);
        Tensor hitWeight = weight == null ? counted : weight.indexSelect(0, safe).mul(counted); // w_t, 0 where ignored
        Tensor rowGrad = reduction == Reduction.NONE ? g
                : (reduction == Reduction.MEAN ? g.div(totalWeight.to(x.dtype)).reshape() : g).expand(rows);
        Tensor onehot = safe.oneHot(classes).to(x.dtype);
        Tensor d;
        if (!logits) {
            d = onehot.mul(hitWeight.unsqueeze(1)).neg();
        } else if (smoothing == 0) {
            d = x.softmax(1).sub(onehot).mul(hitWeight.unsqueeze(1));
        } else {
            double spread = smoothing / classes;
            Tensor hit = hitWeight.mul(1 - smoothing);
            Tensor classWeight = weight == null ? Tensor.full(x.device(), x.dtype, 1, classes) : weight;
            Tensor scale = hit.add(counted.mul(classWeight.sum().mul(spread)));
            d = x.softmax(1).mul(scale.unsqueeze(1)).sub(onehot.mul(hit.unsqueeze(1)))
                    .sub(counted.unsqueeze(1).mul(classWeight.mul(spread).unsqueeze(0)));
        }
        return d.mul(rowGrad.unsqueeze(1));
    }

    // ---------------------------------------------------------------- helpers

    /** The dtype the kernels accumulate and keep per-row values in: float64 on the host; on CUDA float64 for float64, else float32. */
    static DType accumulateType(Device d, DType t) {
        return d.isCuda() && t != DType.FLOAT64 ? DType.FLOAT32 : DType.FLOAT64;
    }

    private static CpuLosses.Operands operands(Tensor xs, Tensor ts, Tensor ws, long ignoreIndex, double smoothing) {
        return new CpuLosses.Operands(xs.dtype == DType.FLOAT32, xs.data(), xs.offset, ts.data(), ts.offset, data(ws), offset(ws),
                xs.shape[0], xs.shape[1], ignoreIndex, smoothing);
    }

    private static java.lang.foreign.MemorySegment data(Tensor t) { return t == null ? null : t.data(); }

    private static long offset(Tensor t) { return t == null ? 0 : t.offset; }
}
