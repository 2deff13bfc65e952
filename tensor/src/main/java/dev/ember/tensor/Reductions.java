package dev.ember.tensor;

import dev.ember.tensor.CudaReductions.Kernel;
import dev.ember.tensor.cpu.CpuReduceOp;
import dev.ember.tensor.cpu.CpuReduceOps;
import dev.ember.tensor.cpu.CpuReduceScan;
import dev.ember.tensor.cpu.CpuReduction;
import dev.ember.tensor.cpu.CpuSoftmax;
import dev.ember.tensor.cpu.Strided;

/**
 * The reductions' front end, with PyTorch's semantics: which dims (none given means all,
 * negatives wrap, repeats are refused), the result dtype, PyTorch's checks and messages, and
 * the keepdim shape. Each op names its implementation on both backends: on the host the
 * folding is {@link CpuReduction}'s, driven by the op declarations in {@link CpuReduceOps}; a
 * CUDA tensor goes, after the same checks, to the reduce.cu/softmax.cu kernel family the op
 * names ({@link CudaReductions}). Results are computed with the reduced dims kept as size 1,
 * then viewed without them unless keepdim.
 */
final class Reductions {
    private Reductions() {}

    private static final int[] ALL = new int[0];

    static Tensor sum(Tensor t, int[] dims, boolean keepdim) {
        return fold(t, dims, keepdim, CpuReduceOps.SUM, Kernel.SUM, floatingOrLong(t.dtype));
    }

    /** The sum over dims (dropped) into a tensor of outType: per-channel sums for batch norm and conv2d's bias gradient. */
    static Tensor sum(Tensor t, int[] dims, DType outType) {
        return fold(t, dims, false, CpuReduceOps.SUM, Kernel.SUM, outType);
    }

    static Tensor mean(Tensor t, int[] dims, boolean keepdim) {
        requireFloating(t, "mean(): could not infer output dtype. Input dtype must be either a floating point or complex"
                + " dtype. Got: " + TypePromotion.scalarTypeName(t.dtype));
        return fold(t, dims, keepdim, CpuReduceOps.MEAN, Kernel.MEAN, t.dtype);
    }

    static Tensor prod(Tensor t, int[] dims, boolean keepdim) {
        return fold(t, dims, keepdim, CpuReduceOps.PROD, Kernel.PROD, floatingOrLong(t.dtype));
    }

    static Tensor max(Tensor t) { return extreme(t, true); }

    static Tensor min(Tensor t) { return extreme(t, false); }

    static ValuesIndices max(Tensor t, int dim, boolean keepdim) { return withIndex(t, dim, keepdim, true); }

    static ValuesIndices min(Tensor t, int dim, boolean keepdim) { return withIndex(t, dim, keepdim, false); }

    static Tensor argmax(Tensor t, Integer dim, boolean keepdim) { return arg(t, dim, keepdim, true); }

    static Tensor argmin(Tensor t, Integer dim, boolean keepdim) { return arg(t, dim, keepdim, false); }

    static Tensor var(Tensor t, int[] dims, double correction, boolean keepdim) {
        return moment(t, dims, correction, keepdim, false);
    }

    static Tensor std(Tensor t, int[] dims, double correction, boolean keepdim) {
        return moment(t, dims, correction, keepdim, true);
    }

    /** The p-norm: 2, 1, inf (largest magnitude), -inf (smallest), 0 (non-zero count), or (sum |x|^p)^(1/p). */
    static Tensor norm(Tensor t, double p, int[] dims, boolean keepdim) {
        requireFloating(t, "norm(): input dtype should be either floating point or complex. Got "
                + TypePromotion.scalarTypeName(t.dtype) + " instead.");
        if (p == 2) return fold(t, dims, keepdim, CpuReduceOps.NORM_2, Kernel.NORM2, t.dtype);
        if (p == 1) return fold(t, dims, keepdim, CpuReduceOps.NORM_1, Kernel.NORM1, t.dtype);
        if (p == Double.POSITIVE_INFINITY) return fold(t, dims, keepdim, CpuReduceOps.NORM_INF, Kernel.NORMINF, t.dtype);
        if (p == Double.NEGATIVE_INFINITY) return fold(t, dims, keepdim, CpuReduceOps.NORM_NEG_INF, Kernel.NORMNEGINF, t.dtype);
        if (p == 0) return fold(t, dims, keepdim, CpuReduceOps.NORM_0, Kernel.NORM0, t.dtype);
        return fold(t, dims, keepdim, CpuReduceOps.normP(p), Kernel.NORMP, p, t.dtype);
    }

    /** log(sum(exp(x))), shifted by the maximum; integer inputs give float32, as PyTorch. */
    static Tensor logsumexp(Tensor t, int[] dims, boolean keepdim) {
        DType out = t.dtype.isFloatingPoint() ? t.dtype : DType.defaultFloat();
        return centred(t, dims, keepdim, CpuReduceOps.LOGSUMEXP_SHIFT, CpuReduceOps.LOGSUMEXP, Kernel.LOGSUMEXP, 0, out);
    }

    /** bool, except that uint8 inputs give uint8, as PyTorch keeps for compatibility. */
    static Tensor any(Tensor t, int[] dims, boolean keepdim) {
        return fold(t, dims, keepdim, CpuReduceOps.ANY, Kernel.ANY, t.dtype == DType.UINT8 ? DType.UINT8 : DType.BOOL);
    }

    static Tensor all(Tensor t, int[] dims, boolean keepdim) {
        return fold(t, dims, keepdim, CpuReduceOps.ALL, Kernel.ALL, t.dtype == DType.UINT8 ? DType.UINT8 : DType.BOOL);
    }

    static Tensor softmax(Tensor t, int dim) { return softmax(t, dim, false); }

    static Tensor logSoftmax(Tensor t, int dim) { return softmax(t, dim, true); }

    /**
     * The input gradient of softmax (or log-softmax) along {@code dim} from its output y and the
     * output gradient g: y (g - sum(g y)), or g - exp(y) sum(g). On CUDA, when this backward is
     * not itself being recorded (no create_graph), it is one fused kernel; otherwise it is built
     * from differentiable ops, so higher-order gradients work on both backends.
     */
    static Tensor softmaxBackward(Tensor g, Tensor y, int dim, boolean log) {
        if (y.isCuda() && !GradMode.isEnabled() && g.dtype == y.dtype && g.device().equals(y.device())) {
            return CudaReductions.softmaxBackward(g, y, Shapes.wrapDim(dim, y.shape.length), log);
        }
        int[] along = {dim};
        return log ? g.sub(y.exp().mul(g.sum(along, true))) : y.mul(g.sub(g.mul(y).sum(along, true)));
    }

    /** Prefix sums along {@code dim}; integer and bool inputs give int64. */
    static Tensor cumsum(Tensor t, int dim) {
        t.checkOpen();
        int d = Shapes.wrapDim(dim, t.shape.length);
        if (t.isCuda()) return CudaReductions.cumsum(t, d, floatingOrLong(t.dtype));
        Tensor out = Tensor.empty(floatingOrLong(t.dtype), t.shape);
        CpuReduceScan.cumsum(t.shape, d, t.operand(), out.operand());
        return out;
    }

    // ---------------------------------------------------------------- the shapes of reductions

    /** One fold over {@code dims} into a new tensor of {@code outType}. */
    private static Tensor fold(Tensor t, int[] dims, boolean keepdim, CpuReduceOp op, Kernel kernel, DType outType) {
        return fold(t, dims, keepdim, op, kernel, 0, outType);
    }

    /** As {@link #fold}, with the CUDA kernel's parameter (a norm's p). */
    private static Tensor fold(Tensor t, int[] dims, boolean keepdim, CpuReduceOp op, Kernel kernel, double param,
                               DType outType) {
        t.checkOpen();
        boolean[] reduced = reducedDims(t, dims);
        if (t.isCuda()) {
            return dropReduced(CudaReductions.reduce(kernel, param, t, reduced, keptShape(t.shape, reduced), outType), reduced,
                    keepdim);
        }
        Tensor out = Tensor.empty(outType, keptShape(t.shape, reduced));
        CpuReduction.reduce(op, t.shape, reduced, t.operand(), out.operand(t.shape), null);
        return dropReduced(out, reduced, keepdim);
    }

    /**
     * Two folds on the host: the first's per-output results (in float64) centre the second (the
     * mean for var, the max for logsumexp). The CUDA kernel does both in one pass (Welford's
     * running mean, logsumexp's running maximum).
     */
    private static Tensor centred(Tensor t, int[] dims, boolean keepdim, CpuReduceOp first, CpuReduceOp second, Kernel kernel,
                                  double param, DType outType) {
        t.checkOpen();
        boolean[] reduced = reducedDims(t, dims);
        long[] kept = keptShape(t.shape, reduced);
        if (t.isCuda()) return dropReduced(CudaReductions.reduce(kernel, param, t, reduced, kept, outType), reduced, keepdim);
        try (Tensor centers = Tensor.empty(DType.FLOAT64, kept)) {
            Strided in = t.operand(), c = centers.operand(t.shape);
            CpuReduction.reduce(first, t.shape, reduced, in, c, null);
            Tensor out = Tensor.empty(outType, kept);
            CpuReduction.reduce(second, t.shape, reduced, in, out.operand(t.shape), c);
            return dropReduced(out, reduced, keepdim);
        }
    }

    private static Tensor moment(Tensor t, int[] dims, double correction, boolean keepdim, boolean root) {
        requireFloating(t, "std and var only support floating point and complex dtypes");
        return centred(t, dims, keepdim, CpuReduceOps.MEAN, CpuReduceOps.variance(correction, root), root ? Kernel.STD : Kernel.VAR,
                correction, t.dtype);
    }

    /** max() or min() of every element, as a 0-d tensor of the input's dtype. */
    private static Tensor extreme(Tensor t, boolean max) {
        t.checkOpen();
        String name = max ? "max" : "min";
        if (t.numel() == 0) {
            throw new IllegalArgumentException(name + "(): Expected reduction dim to be specified for input.numel() == 0. "
                    + "Specify the reduction dim with the 'dim' argument.");
        }
        return fold(t, ALL, false, max ? CpuReduceOps.MAX_OP : CpuReduceOps.MIN_OP, max ? Kernel.MAX : Kernel.MIN, t.dtype);
    }

    /** max/min along {@code dim}: the values and the int64 index of the first extreme (a NaN counts as one). */
    private static ValuesIndices withIndex(Tensor t, int dim, boolean keepdim, boolean max) {
        t.checkOpen();
        boolean[] reduced = reducedDims(t, new int[] {dim});
        requireNonEmptyDim(t, dim, max ? "max" : "min");
        long[] kept = keptShape(t.shape, reduced);
        if (t.isCuda()) {
            ValuesIndices r = CudaReductions.extremeWithIndex(max, t, reduced, kept);
            return new ValuesIndices(dropReduced(r.values(), reduced, keepdim), dropReduced(r.indices(), reduced, keepdim));
        }
        Tensor values = Tensor.empty(t.dtype, kept);
        Tensor indices = Tensor.empty(DType.INT64, kept);
        CpuReduction.reduceWithIndex(max, t.shape, reduced, t.operand(), indices.operand(t.shape), values.operand(t.shape));
        return new ValuesIndices(dropReduced(values, reduced, keepdim), dropReduced(indices, reduced, keepdim));
    }

    /** argmax/argmin along {@code dim}, or with {@code dim} null, the index into the flattened tensor. */
    private static Tensor arg(Tensor t, Integer dim, boolean keepdim, boolean max) {
        t.checkOpen();
        String name = max ? "argmax" : "argmin";
        boolean[] reduced;
        if (dim == null) {
            if (t.numel() == 0) {
                throw new IndexOutOfBoundsException(name + "(): Expected reduction dim to be specified for input.numel() == 0.");
            }
            reduced = reducedDims(t, ALL);
        } else {
            reduced = reducedDims(t, new int[] {dim});
            requireNonEmptyDim(t, dim, name);
        }
        if (t.isCuda()) {
            return dropReduced(CudaReductions.argExtreme(max, t, reduced, keptShape(t.shape, reduced)), reduced, keepdim);
        }
        Tensor indices = Tensor.empty(DType.INT64, keptShape(t.shape, reduced));
        CpuReduction.reduceWithIndex(max, t.shape, reduced, t.operand(), indices.operand(t.shape), null);
        return dropReduced(indices, reduced, keepdim);
    }

    private static Tensor softmax(Tensor t, int dim, boolean log) {
        t.checkOpen();
        int d = Shapes.wrapDim(dim, t.shape.length);
        if (!t.dtype.isFloatingPoint()) {
            boolean lastDim = t.shape.length == 0 || d == t.shape.length - 1;
            String kernel = !lastDim ? "softmax_kernel_impl" : log ? "log_softmax_lastdim_kernel_impl" : "softmax_lastdim_kernel_impl";
            throw new IllegalArgumentException("\"" + kernel + "\" not implemented for '" + TypePromotion.scalarTypeName(t.dtype)
                    + "'");
        }
        if (t.isCuda()) return CudaReductions.softmax(t, d, log);
        Tensor out = Tensor.empty(t.dtype, t.shape);
        if (t.dtype == DType.FLOAT32 && t.shape.length > 0 && t.shape[d] > 1) {
            fusedSoftmax(t, d, out, log);
            return out;
        }
        boolean[] along = reducedDims(t, new int[] {d});
        long[] kept = keptShape(t.shape, along);
        try (Tensor max = Tensor.empty(DType.FLOAT64, kept); Tensor sum = Tensor.empty(DType.FLOAT64, kept)) {
            Strided in = t.operand(), m = max.operand(t.shape), s = sum.operand(t.shape);
            CpuReduction.reduce(CpuReduceOps.MAX_OP, t.shape, along, in, m, null);
            CpuReduction.reduce(CpuReduceOps.EXP_SUM, t.shape, along, in, s, m);
            CpuSoftmax.normalize(t.shape, d, in, out.operand(), m, s, log);
        }
        return out;
    }

    /**
     * float32 softmax through the fused row kernel, which needs the dim contiguous: along any
     * other dim, the dim is moved last in a contiguous copy and the result copied back, two
     * cheap passes beside per-element exp on strided lines.
     */
    private static void fusedSoftmax(Tensor t, int d, Tensor out, boolean log) {
        int last = t.shape.length - 1;
        if (d == last && t.strides[d] == 1) {
            CpuSoftmax.fused(t.shape, d, t.operand(), out.operand(), log);
            return;
        }
        try (Tensor moved = t.transpose(d, last); Tensor rows = moved.contiguous();
             Tensor done = Tensor.empty(DType.FLOAT32, rows.shape); Tensor back = done.transpose(d, last)) {
            CpuSoftmax.fused(rows.shape, last, rows.operand(), done.operand(), log);
            out.copy_(back);
        }
    }

    // ---------------------------------------------------------------- dims, shapes and checks

    /** Flags the dims to reduce: none given means all; negatives wrap; a repeated dim is refused, as PyTorch. */
    private static boolean[] reducedDims(Tensor t, int[] dims) {
        int rank = t.shape.length;
        boolean[] reduced = new boolean[rank];
        if (dims.length == 0) {
            java.util.Arrays.fill(reduced, true);
            return reduced;
        }
        boolean[] seen = new boolean[Math.max(rank, 1)];
        for (int dim : dims) {
            int d = Shapes.wrapDim(dim, rank);
            if (seen[d]) throw new IllegalArgumentException("dim " + d + " appears multiple times in the list of dims");
            seen[d] = true;
            if (rank > 0) reduced[d] = true;
        }
        return reduced;
    }

    /** The result shape with keepdim: reduced dims become 1. */
    private static long[] keptShape(long[] shape, boolean[] reduced) {
        long[] kept = shape.clone();
        for (int d = 0; d < shape.length; d++) if (reduced[d]) kept[d] = 1;
        return kept;
    }

    /** Without keepdim, a view of {@code out} without the reduced dims (and {@code out} closed). */
    private static Tensor dropReduced(Tensor out, boolean[] reduced, boolean keepdim) {
        if (keepdim) return out;
        int rank = 0;
        for (boolean r : reduced) if (!r) rank++;
        long[] shape = new long[rank], strides = new long[rank];
        for (int d = 0, i = 0; d < reduced.length; d++) {
            if (!reduced[d]) {
                shape[i] = out.shape[d];
                strides[i++] = out.strides[d];
            }
        }
        Tensor view = out.alias(shape, strides, out.offset);
        out.close();
        return view;
    }

    private static void requireNonEmptyDim(Tensor t, int dim, String name) {
        int d = Shapes.wrapDim(dim, t.shape.length);
        if (t.shape.length > 0 && t.shape[d] == 0) {
            throw new IndexOutOfBoundsException(name + "(): Expected reduction dim " + d + " to have non-zero size.");
        }
    }

    private static void requireFloating(Tensor t, String message) {
        t.checkOpen();
        if (!t.dtype.isFloatingPoint()) throw new IllegalArgumentException(message);
    }

    /** sum, prod and cumsum keep floating dtypes and widen integers and bool to int64, as PyTorch. */
    private static DType floatingOrLong(DType t) {
        return t.isFloatingPoint() ? t : DType.INT64;
    }
}
