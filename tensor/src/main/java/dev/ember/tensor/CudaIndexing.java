package dev.ember.tensor;

import dev.ember.ffi.LaunchScratch;
import dev.ember.ffi.KernelArgs;
import dev.ember.memory.Device;
import dev.ember.tensor.Indexing.Dims;
import dev.ember.tensor.cuda.CudaIndexLayout;
import dev.ember.tensor.cuda.CudaKernels;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * The CUDA side of {@link Indexing}: index.cu's kernels, launched after Indexing's shared shape
 * and dtype checks. The one check the CPU makes on the host, that every index lies in range,
 * is made here by the kernels themselves: they skip a bad index and report the smallest
 * position holding one into a {@link CudaReport}, which is read back after the launch (this
 * waits for the stream); the op then throws the CPU's message with the offending value, read
 * from the index on the device.
 *
 * <p>Unlike the CPU, a kernel has written every in-range element by the time a bad index is
 * known, so a failed in-place scatter_ has changed self there (PyTorch's CUDA kernels leave
 * self undefined after their device-side assert). Out-of-place results of a failed op are freed.
 */
final class CudaIndexing {
    private CudaIndexing() {}

    /** The names of index.cu's kernels, from the op and the operands' dtypes. */
    static String layoutKernel(String op, DType t) { return "ember_index_" + op + "_" + CudaOps.suffix(t); }

    static String alongKernel(String op, DType t, DType index) {
        return "ember_index_" + op + "_" + CudaOps.suffix(t) + "_" + CudaOps.suffix(index);
    }

    static final String ONE_HOT = "ember_index_one_hot_i64";
    static final String MIN_MAX = "ember_index_minmax_i64";

    // ---------------------------------------------------------------- layout kernels

    /** out (index's shape) = t gathered along d at index. */
    static void gather(Tensor out, Tensor t, int d, Tensor index) {
        Dims self = Dims.of(t), idx = Dims.of(index);
        CudaIndexLayout layout = CudaIndexLayout.of(idx.shape(), along(self.strides(), d), idx.strides(),
                Dims.of(out).strides(), self.shape()[d], self.strides()[d]);
        launchLayout(layoutKernel("gather", t.dtype), t.device(), layout,
                a -> a.addPointer(CudaOps.address(out)).addPointer(CudaOps.address(t)).addPointer(CudaOps.address(index)),
                index, d);
    }

    /** target[index along d] = src, in place; src has target's dtype and fits index's shape. */
    static void scatter(Tensor target, int d, Tensor index, Tensor src) {
        scatterLike("scatter", target, d, index, src);
    }

    /** target[index along d] += src, in place, with atomics (floating sums are nondeterministic in order). */
    static void scatterAdd(Tensor target, int d, Tensor index, Tensor src) {
        scatterLike("scatter_add", target, d, index, src);
    }

    private static void scatterLike(String op, Tensor target, int d, Tensor index, Tensor src) {
        Dims self = Dims.of(target), idx = Dims.of(index);
        CudaIndexLayout layout = CudaIndexLayout.of(idx.shape(), along(self.strides(), d), idx.strides(),
                Dims.of(src).strides(), self.shape()[d], self.strides()[d]);
        launchLayout(layoutKernel(op, target.dtype), target.device(), layout,
                a -> a.addPointer(CudaOps.address(target)).addPointer(CudaOps.address(index)).addPointer(CudaOps.address(src)),
                index, d);
    }

    /** target[index along d] = the element whose bits are {@code valueBits}, in place. */
    static void scatterValue(Tensor target, int d, Tensor index, long valueBits) {
        Dims self = Dims.of(target), idx = Dims.of(index);
        CudaIndexLayout layout = CudaIndexLayout.of(idx.shape(), along(self.strides(), d), idx.strides(),
                new long[idx.rank()], self.shape()[d], self.strides()[d]);
        launchLayout(layoutKernel("scatter_value", target.dtype), target.device(), layout,
                a -> a.addPointer(CudaOps.address(target)).addPointer(CudaOps.address(index)).addLong(valueBits),
                index, d);
    }

    /** target = value (its bits) wherever mask (bool, broadcast to target's shape) is set, in place. */
    static void maskedFill(Tensor target, Tensor mask, long valueBits) {
        long[] shape = target.shape;
        CudaIndexLayout layout = CudaIndexLayout.of(shape, target.strides, new long[shape.length],
                Shapes.broadcastStrides(mask.shape, mask.strides, shape), 0, 0);
        launchLayout(layoutKernel("masked_fill", target.dtype), target.device(), layout,
                a -> a.addPointer(CudaOps.address(target)).addPointer(CudaOps.address(mask)).addLong(valueBits),
                null, 0);
    }

    /** {@code strides} with 0 along d: the index supplies that coordinate (the kernels' rule, as the CPU's). */
    private static long[] along(long[] strides, int d) {
        long[] s = strides.clone();
        s[d] = 0;
        return s;
    }

    /**
     * One launch of a layout kernel: the pointers {@code pointers} adds, the layout struct, and
     * (when {@code index} is given) the error record, checked after the launch.
     */
    private static void launchLayout(String kernel, Device device, CudaIndexLayout layout, Consumer<KernelArgs> pointers,
            Tensor index, int d) {
        long count = layout.numel();
        if (count == 0) return;
        CudaKernels k = CudaKernels.of(device);
        try (CudaReport error = index == null ? null : CudaReport.indexError(device); LaunchScratch arena = LaunchScratch.open()) {
            KernelArgs args = new KernelArgs(arena);
            pointers.accept(args);
            args.addStruct(layout.toStruct(arena), 8);
            if (error != null) args.addPointer(error.address());
            k.launch(kernel, k.gridFor(count), CudaKernels.BLOCK, 0, CudaOps.stream(device), args);
            if (error == null) return;
            long bad = error.badPosition();
            if (bad >= 0) throw Indexing.outOfBounds("", valueAt(index, layout.indexOffsetAt(bad)), d, layout.dimSize());
        }
    }

    // ---------------------------------------------------------------- along kernels

    /** index_select of t (any rank; 0-d has only index 0) along d; index is a 1-D (or 0-d) int32/int64 tensor. */
    static Tensor indexSelect(Tensor t, int d, Tensor index) {
        boolean scalar = t.dim() == 0;
        long k = index.numel();
        // a 0-d self's indices are checked through a scratch output of k elements, then self is cloned (as PyTorch)
        long[] outShape = scalar ? new long[] {k} : t.shape.clone();
        if (!scalar) outShape[d] = k;
        Along g = scalar ? new Along(1, 1, 1) : Along.of(t.shape, d);
        Tensor out = Tensor.empty(t.device(), t.dtype, outShape);
        try (Tensor self = t.contiguousAs(t.dtype); Tensor idx = index.contiguousAs(index.dtype)) {
            launchAlong(alongKernel("select", t.dtype, index.dtype), t.device(), g, k,
                    a -> a.addPointer(CudaOps.address(out)).addPointer(CudaOps.address(self)).addPointer(CudaOps.address(idx)),
                    idx, d, Indexing.INDEX_SELECT_PREFIX);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        if (!scalar) return out;
        out.close();
        return t.clone();
    }

    /**
     * A copy of t (rank >= 1) whose slices index[j] along d gain slice j of src (src has t's
     * dtype and shape apart from d, where it has index's length).
     */
    static Tensor indexAdd(Tensor t, int d, Tensor index, Tensor src) {
        Tensor out = t.clone(); // contiguous, as the kernel needs it
        try (Tensor from = src.contiguousAs(src.dtype); Tensor idx = index.contiguousAs(index.dtype)) {
            launchAlong(alongKernel("add", t.dtype, index.dtype), t.device(), Along.of(t.shape, d), index.numel(),
                    a -> a.addPointer(CudaOps.address(out)).addPointer(CudaOps.address(idx)).addPointer(CudaOps.address(from)),
                    idx, d, "");
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        return out;
    }

    /** A contiguous tensor seen as [outer, size, inner] around dim d. */
    private record Along(long outer, long size, long inner) {
        static Along of(long[] shape, int d) {
            return new Along(Shapes.numel(Arrays.copyOfRange(shape, 0, d)), shape[d],
                    Shapes.numel(Arrays.copyOfRange(shape, d + 1, shape.length)));
        }
    }

    /**
     * One launch of an along kernel over [outer, k, inner]: the pointers, outer, dim_size, k,
     * inner, the error record. A bad index's position is its place in the (contiguous) index.
     */
    private static void launchAlong(String kernel, Device device, Along g, long k, Consumer<KernelArgs> pointers,
            Tensor index, int d, String prefix) {
        long count = g.outer() * k * g.inner();
        if (count == 0) return;
        CudaKernels kernels = CudaKernels.of(device);
        try (CudaReport error = CudaReport.indexError(device); LaunchScratch arena = LaunchScratch.open()) {
            KernelArgs args = new KernelArgs(arena);
            pointers.accept(args);
            args.addLong(g.outer()).addLong(g.size()).addLong(k).addLong(g.inner()).addPointer(error.address());
            kernels.launch(kernel, kernels.gridFor(count), CudaKernels.BLOCK, 0, CudaOps.stream(device), args);
            long bad = error.badPosition();
            if (bad >= 0) throw Indexing.outOfBounds(prefix, valueAt(index, bad), d, g.size());
        }
    }

    // ---------------------------------------------------------------- one_hot

    /**
     * one_hot of a non-empty int64 tensor on the device. The class count comes from the values'
     * range when it must be inferred (or is not positive, which the CPU's checks then reject);
     * otherwise the kernel checks the classes and the range is read only to word the error.
     */
    static Tensor oneHot(Tensor t, long numClasses) {
        Device device = t.device();
        try (Tensor classes = t.contiguousAs(DType.INT64)) {
            long n = classes.numel();
            boolean known = numClasses >= 1;
            long count = known ? numClasses : Indexing.classCount(minMax(classes), numClasses);
            long[] outShape = Arrays.copyOf(t.shape, t.dim() + 1);
            outShape[t.dim()] = count;
            Tensor out = Tensor.empty(device, DType.INT64, outShape);
            CudaKernels k = CudaKernels.of(device);
            // with the range already checked no class can be out of range: no record to read back
            try (CudaReport error = known ? CudaReport.indexError(device) : null; LaunchScratch arena = LaunchScratch.open()) {
                KernelArgs args = new KernelArgs(arena).addPointer(CudaOps.address(out)).addPointer(CudaOps.address(classes))
                        .addLong(n).addLong(count).addPointer(error == null ? 0 : error.address());
                k.launch(ONE_HOT, k.gridFor(n * count), CudaKernels.BLOCK, 0, CudaOps.stream(device), args);
                if (error != null && error.badPosition() >= 0) {
                    Indexing.classCount(minMax(classes), numClasses); // throws the CPU's message
                    throw new IllegalStateException("one_hot: the device reported a class out of range that its min/max do not show");
                }
            } catch (RuntimeException e) {
                out.close();
                throw e;
            }
            return out;
        }
    }

    /** {min, max} of a non-empty contiguous int64 device tensor. */
    private static long[] minMax(Tensor classes) {
        Device device = classes.device();
        long n = classes.numel();
        CudaKernels k = CudaKernels.of(device);
        try (CudaReport range = CudaReport.of(device, Long.MAX_VALUE, Long.MIN_VALUE); LaunchScratch arena = LaunchScratch.open()) {
            KernelArgs args = new KernelArgs(arena).addPointer(CudaOps.address(classes)).addLong(n).addPointer(range.address());
            // the kernel folds whole warps with shuffles: BLOCK (256) is a multiple of 32
            k.launch(MIN_MAX, k.gridFor(n), CudaKernels.BLOCK, 0, CudaOps.stream(device), args);
            return range.read();
        }
    }

    // ---------------------------------------------------------------- shared

    /** The (int32 or int64) index element {@code offset} elements past index's element 0, read from the device. */
    private static long valueAt(Tensor index, long offset) {
        try (Tensor one = index.alias(new long[0], new long[0], index.offset + offset)) {
            return one.itemLong();
        }
    }
}
