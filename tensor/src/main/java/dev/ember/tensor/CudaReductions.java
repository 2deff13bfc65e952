package dev.ember.tensor;

import dev.ember.ffi.LaunchScratch;
import static dev.ember.tensor.cuda.ReduceLaunch.ALIGNMENT;
import static dev.ember.tensor.cuda.ReduceLaunch.THREADS;

import dev.ember.ffi.KernelArgs;
import dev.ember.memory.Device;
import dev.ember.memory.Stream;
import dev.ember.tensor.cuda.CudaKernels;
import dev.ember.tensor.cuda.ReduceLaunch;
import java.lang.foreign.MemorySegment;
import java.util.Locale;

/**
 * The CUDA side of {@link Reductions}: reductions over dims, max/min with indices, argmax/argmin,
 * softmax and log-softmax (forward and backward) and cumsum, on the kernels of reduce.cu and
 * softmax.cu. {@link Reductions} has already checked the arguments and chosen the result's
 * dtype and shape; this only lays the input out for the kernels and launches them by their
 * published rules ({@link ReduceLaunch}).
 *
 * <p>The kernels read a contiguous input as [outer, r, inner], the reduced (scanned,
 * normalised) axis in the middle. A contiguous tensor whose reduced dims are neighbours (size-1
 * dims do not count) is read in place; anything else is first copied on the device into a
 * contiguous tensor with the kept dims first and the reduced ones last (rows, inner = 1).
 */
final class CudaReductions {
    private CudaReductions() {}

    /**
     * The reduction kernel families of reduce.cu ({@code ember_reduce_<name>_<dtype>} and its
     * {@code _finish_} pass), with the size of one partial result a split reduction keeps per
     * output and split, as the contract's table gives it.
     */
    enum Kernel {
        SUM, PROD, MEAN, MAX, MIN, ARGMAX, ARGMIN, VAR, STD, LOGSUMEXP,
        NORM2, NORM1, NORMINF, NORMNEGINF, NORM0, NORMP, ANY, ALL;

        private final String name = name().toLowerCase(Locale.ROOT);

        String entry(DType t) { return "ember_reduce_" + name + "_" + CudaOps.suffix(t); }

        String finish(DType t) { return "ember_reduce_" + name + "_finish_" + CudaOps.suffix(t); }

        /** mean, var, std, logsumexp and the norms exist for floating inputs only: the host converts others. */
        boolean floatingOnly() {
            return switch (this) {
                case MEAN, VAR, STD, LOGSUMEXP, NORM2, NORM1, NORMINF, NORMNEGINF, NORM0, NORMP -> true;
                default -> false;
            };
        }

        /** The dtype the kernel reads for an input of {@code in} whose result is {@code out}. */
        DType inputType(DType in, DType out) { return floatingOnly() && !in.isFloatingPoint() ? out : in; }

        /** Bytes of one partial: the accumulate type (8 for f64 and integers, 4 for the narrower floats) or the op's state. */
        long partialBytes(DType t) {
            boolean wide = t == DType.FLOAT64 || !t.isFloatingPoint();
            return switch (this) {
                case ARGMAX, ARGMIN -> 16;
                case VAR, STD -> t == DType.FLOAT64 ? 24 : 16;
                case LOGSUMEXP -> t == DType.FLOAT64 ? 16 : 8;
                case ANY, ALL -> 4;
                default -> wide ? 8 : 4;
            };
        }
    }

    /** softmax.cu's entry point for a direction and dtype. */
    static String softmaxKernel(boolean log, boolean backward, DType t) {
        return "ember_" + (log ? "log_softmax" : "softmax") + (backward ? "_backward_" : "_") + CudaOps.suffix(t);
    }

    /** reduce.cu's scan entry point: cumsum (or cumprod) of a dtype. */
    static String scanKernel(String op, DType t) { return "ember_" + op + "_" + CudaOps.suffix(t); }

    // ---------------------------------------------------------------- entry points

    /** {@code kernel} over the reduced dims of t, into a new tensor of {@code outType} and the kept shape (reduced dims 1). */
    static Tensor reduce(Kernel kernel, double param, Tensor t, boolean[] reduced, long[] kept, DType outType) {
        DType type = kernel.inputType(t.dtype, outType);
        Tensor out = Tensor.empty(t.device(), outType, kept);
        try (Lines lines = Lines.reduced(t, reduced, type)) {
            launchReduction(kernel, type, t.device(), lines, CudaOps.address(out), 0, param);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        return out;
    }

    /** max/min along the reduced dim: values of t's dtype and the int64 index of the first extreme, in the kept shape. */
    static ValuesIndices extremeWithIndex(boolean max, Tensor t, boolean[] reduced, long[] kept) {
        Tensor values = Tensor.empty(t.device(), t.dtype, kept);
        Tensor indices = Tensor.empty(t.device(), DType.INT64, kept);
        try (Lines lines = Lines.reduced(t, reduced, t.dtype)) {
            launchReduction(max ? Kernel.ARGMAX : Kernel.ARGMIN, t.dtype, t.device(), lines, CudaOps.address(indices),
                    CudaOps.address(values), 0);
        } catch (RuntimeException e) {
            values.close();
            indices.close();
            throw e;
        }
        return new ValuesIndices(values, indices);
    }

    /** argmax/argmin over the reduced dims (all of them: the index into the row-major flattened tensor). */
    static Tensor argExtreme(boolean max, Tensor t, boolean[] reduced, long[] kept) {
        Tensor indices = Tensor.empty(t.device(), DType.INT64, kept);
        try (Lines lines = Lines.reduced(t, reduced, t.dtype)) {
            launchReduction(max ? Kernel.ARGMAX : Kernel.ARGMIN, t.dtype, t.device(), lines, CudaOps.address(indices), 0, 0);
        } catch (RuntimeException e) {
            indices.close();
            throw e;
        }
        return indices;
    }

    /** softmax (or log-softmax) of a floating tensor along {@code dim} (wrapped). */
    static Tensor softmax(Tensor t, int dim, boolean log) {
        Tensor out = Tensor.empty(t.device(), t.dtype, t.shape);
        try (Lines x = Lines.along(t, dim, t.dtype)) {
            launchSoftmax(softmaxKernel(log, false, t.dtype), out, x, null);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        return out;
    }

    /**
     * The input gradient of softmax (log-softmax) along {@code dim} from its output y and the
     * output gradient g (same shape, device and dtype): y (g - sum(g y)), or g - exp(y) sum(g).
     */
    static Tensor softmaxBackward(Tensor g, Tensor y, int dim, boolean log) {
        Tensor dx = Tensor.empty(y.device(), y.dtype, y.shape);
        try (Lines ys = Lines.along(y, dim, y.dtype); Lines gs = Lines.along(g, dim, y.dtype)) {
            launchSoftmax(softmaxKernel(log, true, y.dtype), dx, ys, gs);
        } catch (RuntimeException e) {
            dx.close();
            throw e;
        }
        return dx;
    }

    /** Inclusive prefix sums along {@code dim} (wrapped) into a new tensor of {@code outType}. */
    static Tensor cumsum(Tensor t, int dim, DType outType) {
        Tensor out = Tensor.empty(t.device(), outType, t.shape);
        try (Lines x = Lines.along(t, dim, t.dtype)) {
            launchScan(scanKernel("cumsum", t.dtype), t.device(), x, CudaOps.address(out));
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        return out;
    }

    // ---------------------------------------------------------------- launches

    /**
     * One reduction by reduce.cu's rule: a single launch, or when the rule splits r, the split
     * launch into a workspace of partials and the finish pass, in that order on one stream.
     */
    private static void launchReduction(Kernel kernel, DType type, Device d, Lines lines, long out, long out2, double param) {
        long outputs = lines.outer() * lines.inner();
        if (outputs == 0) return;
        ReduceLaunch.Grid g = ReduceLaunch.reduction(lines.outer(), lines.r(), lines.inner());
        CudaKernels k = CudaKernels.of(d);
        Stream stream = CudaOps.stream(d);
        try (Tensor ws = g.splits() > 1 ? workspace(d, outputs * g.splits() * kernel.partialBytes(type)) : null;
             LaunchScratch arena = LaunchScratch.open()) {
            MemorySegment args = ReduceLaunch.reduceArgs(arena, out, out2, lines.address(), ws == null ? 0 : CudaOps.address(ws),
                    lines.outer(), lines.r(), lines.inner(), param, g.splits());
            k.launch(kernel.entry(type), g.gridX(), g.splits(), 1, THREADS, 0, stream,
                    new KernelArgs(arena).addStruct(args, ALIGNMENT));
            if (g.splits() > 1) {
                k.launch(kernel.finish(type), ReduceLaunch.finishGrid(outputs), 1, 1, THREADS, 0, stream,
                        new KernelArgs(arena).addStruct(args, ALIGNMENT));
            }
        }
    }

    /** A softmax.cu launch over x's lines: the forward (grad null) or the backward (x holds y, grad dy). */
    private static void launchSoftmax(String kernel, Tensor out, Lines x, Lines grad) {
        if (x.outer() * x.inner() == 0 || x.r() == 0) return;
        ReduceLaunch.Grid g = ReduceLaunch.softmax(x.outer(), x.r(), x.inner(), out.dtype.itemSize(), grad != null);
        Device d = out.device();
        CudaKernels k = CudaKernels.of(d);
        try (LaunchScratch arena = LaunchScratch.open()) {
            MemorySegment args = ReduceLaunch.softmaxArgs(arena, CudaOps.address(out), x.address(),
                    grad == null ? 0 : grad.address(), x.outer(), x.r(), x.inner());
            k.launch(kernel, g.gridX(), 1, 1, THREADS, g.sharedBytes(), CudaOps.stream(d),
                    new KernelArgs(arena).addStruct(args, ALIGNMENT));
        }
    }

    /**
     * A scan by reduce.cu's rule: one launch, or when the rule splits the lines, three on one
     * stream with the same grid: segment totals (phase 1), their exclusive prefixes per line
     * (phase 2), then the segments scanned from those carries (phase 0).
     */
    private static void launchScan(String kernel, Device d, Lines x, long out) {
        long lines = x.outer() * x.inner();
        if (lines == 0 || x.r() == 0) return;
        ReduceLaunch.Grid g = ReduceLaunch.scan(x.outer(), x.r(), x.inner());
        CudaKernels k = CudaKernels.of(d);
        Stream stream = CudaOps.stream(d);
        try (Tensor ws = g.splits() > 1 ? workspace(d, lines * g.splits() * 8) : null; LaunchScratch arena = LaunchScratch.open()) {
            long wsAddress = ws == null ? 0 : CudaOps.address(ws);
            int[] phases = g.splits() > 1 ? new int[] {1, 2, 0} : new int[] {0};
            for (int phase : phases) {
                MemorySegment args = ReduceLaunch.scanArgs(arena, out, x.address(), wsAddress, x.outer(), x.r(), x.inner(),
                        g.splits(), phase);
                k.launch(kernel, g.gridX(), g.splits(), 1, THREADS, 0, stream, new KernelArgs(arena).addStruct(args, ALIGNMENT));
            }
        }
    }

    /** Device scratch of {@code bytes} bytes that no scope owns (closed by the launcher once its launches are queued). */
    private static Tensor workspace(Device d, long bytes) {
        return Scope.escape(Tensor.empty(d, DType.UINT8, bytes));
    }

    // ---------------------------------------------------------------- the [outer, r, inner] view of an input

    /**
     * An input as the kernels read it ({@link ReduceLaunch.Lines}): {@code in} contiguous in
     * [outer, r, inner] order and of the kernel's dtype, or null when nothing is read (no
     * elements). {@code owned}: in is a copy (or a new handle) that close() frees.
     */
    private record Lines(Tensor in, boolean owned, long outer, long r, long inner) implements AutoCloseable {

        long address() { return in == null ? 0 : CudaOps.address(in); }

        @Override
        public void close() {
            if (owned) in.close();
        }

        /** t with the {@code reduced} dims in the middle, as {@code type}. */
        static Lines reduced(Tensor t, boolean[] reduced, DType type) {
            ReduceLaunch.Lines g = ReduceLaunch.Lines.ofReduction(t.shape, t.isContiguous(), reduced);
            if (g.outputs() == 0 || g.r() == 0) return new Lines(null, false, g.outer(), g.r(), g.inner());
            if (g.copyOrder() == null) return of(t, type, g);
            int[] order = g.copyOrder();
            long[] s = new long[order.length], st = new long[order.length];
            for (int i = 0; i < order.length; i++) {
                s[i] = t.shape[order[i]];
                st[i] = t.strides[order[i]];
            }
            try (Tensor view = Scope.escape(t.alias(s, st, t.offset))) {
                return new Lines(view.contiguousAs(type), true, g.outer(), g.r(), g.inner());
            }
        }

        /** t with the axis {@code dim} (wrapped; 0 for a 0-d tensor) in the middle, as {@code type}. */
        static Lines along(Tensor t, int dim, DType type) {
            ReduceLaunch.Lines g = ReduceLaunch.Lines.along(t.shape, dim);
            if (t.numel() == 0) return new Lines(null, false, g.outer(), g.r(), g.inner());
            return of(t, type, g);
        }

        /** t read in place: itself when contiguous and of the dtype, else a contiguous converted copy. */
        private static Lines of(Tensor t, DType type, ReduceLaunch.Lines g) {
            boolean inPlace = t.dtype == type && t.isContiguous();
            return new Lines(inPlace ? t : t.contiguousAs(type), !inPlace, g.outer(), g.r(), g.inner());
        }
    }
}
