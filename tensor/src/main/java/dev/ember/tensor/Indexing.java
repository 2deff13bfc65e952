package dev.ember.tensor;

import dev.ember.memory.Device;
import dev.ember.tensor.cpu.CpuElementwise;
import dev.ember.tensor.cpu.CpuIndexKernels;
import dev.ember.tensor.cpu.Strided;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.OptionalLong;

/**
 * gather, scatter, index_select, masked_fill and one_hot: PyTorch's checks and messages, then
 * the CPU kernels in {@link CpuIndexKernels} or, for CUDA tensors, the device kernels in
 * {@link CudaIndexing}. On the CPU every index is checked before any kernel runs; on CUDA the
 * kernels check each index before they use it. Either way a bad index is an exception with the
 * same message, never an access out of bounds.
 */
final class Indexing {
    private Indexing() {}

    /**
     * index_select copies whole inner rows at once when they are contiguous and at least this
     * long; below it a bulk copy's fixed cost outweighs moving the elements one by one.
     */
    private static final long MIN_BLOCK_BYTES = 64;

    /** What index_select's out-of-range message starts with, on every backend. */
    static final String INDEX_SELECT_PREFIX = "index_select(): index out of range in self: ";

    /**
     * A tensor's sizes and strides seen as at least 1-D: PyTorch's gather and scatter treat a
     * 0-d tensor as one of shape [1].
     */
    record Dims(long[] shape, long[] strides) {
        static Dims of(Tensor t) {
            return t.dim() == 0 ? new Dims(new long[] {1}, new long[] {0}) : new Dims(t.shape, t.strides);
        }

        int rank() { return shape.length; }
    }

    private static Strided operand(Tensor t, long[] strides) {
        return new Strided(t.data(), t.dtype, t.offset, strides);
    }

    /** {@code t} as a kernel operand whose stride along {@code dim} is 0: the index supplies that coordinate. */
    private static Strided along(Tensor t, long[] strides, int dim) {
        long[] s = strides.clone();
        s[dim] = 0;
        return operand(t, s);
    }

    // ---------------------------------------------------------------- gather

    static Tensor gather(Tensor t, int dim, Tensor index) {
        t.checkOpen();
        index.checkOpen();
        Device device = sameDevice(t, index);
        requireInt64(index, "gather");
        int d = Shapes.wrapDim(dim, t.dim());
        Dims self = Dims.of(t), idx = Dims.of(index);
        if (idx.rank() != self.rank()) {
            throw new IllegalArgumentException("Index tensor must have the same number of dimensions as input tensor (index "
                    + Shapes.format(index.shape) + ", input " + Shapes.format(t.shape) + ")");
        }
        for (int i = 0; i < self.rank(); i++) {
            if (i != d && idx.shape[i] > self.shape[i]) {
                throw new IllegalArgumentException("Size does not match at dimension " + i + " expected index "
                        + Shapes.format(index.shape) + " to be smaller than self " + Shapes.format(t.shape)
                        + " apart from dimension " + d);
            }
        }
        if (device.isCuda()) {
            Tensor out = Tensor.empty(device, t.dtype, index.shape);
            try {
                CudaIndexing.gather(out, t, d, index);
            } catch (RuntimeException e) {
                out.close();
                throw e;
            }
            return out;
        }
        checkIndices(idx, index, self.shape[d], d, "");
        Tensor out = Tensor.empty(t.dtype, index.shape);
        CpuIndexKernels.gather(idx.shape, operand(out, Dims.of(out).strides), along(t, self.strides, d), self.strides[d],
                operand(index, idx.strides), t.dtype.itemSize());
        return out;
    }

    // ---------------------------------------------------------------- scatter

    static Tensor scatter(Tensor t, int dim, Tensor index, Tensor src, boolean inPlace) {
        t.checkOpen();
        index.checkOpen();
        src.checkOpen();
        sameDevice(t, index, src);
        requireInt64(index, "scatter");
        if (src.dtype != t.dtype) {
            throw new IllegalArgumentException("scatter(): Expected self.dtype to be equal to src.dtype (got self "
                    + t.dtype + " and src " + src.dtype + ")");
        }
        int d = Shapes.wrapDim(dim, t.dim());
        checkScatterShapes(t, d, index, src);
        return scatterChecked(t, d, index, src, inPlace);
    }

    static Tensor scatter(Tensor t, int dim, Tensor index, double value, boolean inPlace) {
        t.checkOpen();
        index.checkOpen();
        sameDevice(t, index);
        requireInt64(index, "scatter");
        int d = Shapes.wrapDim(dim, t.dim());
        checkScatterShapes(t, d, index, null);
        // the value is a src of index's shape that repeats one element
        try (Tensor v = scalarOf(t.dtype, value); Tensor src = v.expand(index.shape)) {
            return scatterChecked(t, d, index, src, inPlace);
        }
    }

    /** index must have self's rank, fit in self apart from {@code d}, and fit in src (if given) everywhere. */
    private static void checkScatterShapes(Tensor t, int d, Tensor index, Tensor src) {
        Dims self = Dims.of(t), idx = Dims.of(index), from = src == null ? null : Dims.of(src);
        if (idx.rank() != self.rank()) {
            throw new IllegalArgumentException("Index tensor must have the same number of dimensions as self tensor (index "
                    + Shapes.format(index.shape) + ", self " + Shapes.format(t.shape) + ")");
        }
        if (from != null && idx.rank() != from.rank()) {
            throw new IllegalArgumentException("Index tensor must have the same number of dimensions as src tensor (index "
                    + Shapes.format(index.shape) + ", src " + Shapes.format(src.shape) + ")");
        }
        for (int i = 0; i < idx.rank(); i++) {
            if ((i != d && idx.shape[i] > self.shape[i]) || (from != null && idx.shape[i] > from.shape[i])) {
                throw new IllegalArgumentException("Expected index " + Shapes.format(index.shape) + " to be smaller than self "
                        + Shapes.format(t.shape) + " apart from dimension " + d
                        + (src == null ? "" : " and to be smaller size than src " + Shapes.format(src.shape)));
            }
        }
    }

    /**
     * Writes src (index's shape, self's dtype) into self, or into a copy of it, at the (checked)
     * shapes. On CUDA a host src is the value form's one element, repeated: the kernel takes its bits.
     */
    private static Tensor scatterChecked(Tensor t, int d, Tensor index, Tensor src, boolean inPlace) {
        Dims idx = Dims.of(index);
        boolean cuda = t.isCuda();
        if (!cuda) checkIndices(idx, index, Dims.of(t).shape[d], d, "");
        if (inPlace) Elementwise.checkNoInternalOverlap(t);
        Tensor target = inPlace ? t : t.clone();
        // The kernel reads index and src while writing target. Copies keep what it reads from
        // changing under it (an index changed after its check could point anywhere).
        Tensor from = src.sharesStorageWith(target) ? src.clone() : src;
        Tensor at = index.sharesStorageWith(target) ? index.clone() : index;
        try {
            if (cuda && from.isCuda()) {
                CudaIndexing.scatter(target, d, at, from);
            } else if (cuda) {
                CudaIndexing.scatterValue(target, d, at, bitsOf(from));
            } else {
                Dims to = Dims.of(target);
                CpuIndexKernels.scatter(idx.shape, along(target, to.strides, d), to.strides[d], operand(at, Dims.of(at).strides),
                        operand(from, Dims.of(from).strides));
            }
        } catch (RuntimeException e) { // a bad index found on the device: the copy is not returned
            if (!inPlace) target.close();
            throw e;
        } finally {
            if (from != src) from.close();
            if (at != index) at.close();
        }
        if (inPlace) t.bumpVersion();
        return target;
    }

    /** A copy of {@code t} with src added at index along dim; duplicates accumulate (torch.scatter_add). */
    static Tensor scatterAdd(Tensor t, int dim, Tensor index, Tensor src) {
        t.checkOpen();
        index.checkOpen();
        src.checkOpen();
        sameDevice(t, index, src);
        requireInt64(index, "scatter_add");
        if (src.dtype != t.dtype) {
            throw new IllegalArgumentException("scatter_add(): Expected self.dtype to be equal to src.dtype (got self "
                    + t.dtype + " and src " + src.dtype + ")");
        }
        int d = Shapes.wrapDim(dim, t.dim());
        checkScatterShapes(t, d, index, src);
        Dims idx = Dims.of(index);
        if (t.isCuda()) {
            Tensor target = t.clone();
            try {
                CudaIndexing.scatterAdd(target, d, index, src);
            } catch (RuntimeException e) {
                target.close();
                throw e;
            }
            return target;
        }
        checkIndices(idx, index, Dims.of(t).shape[d], d, "");
        Tensor target = t.clone();
        Dims to = Dims.of(target);
        CpuIndexKernels.scatterAdd(idx.shape, along(target, to.strides, d), to.strides[d], operand(index, idx.strides),
                operand(src, Dims.of(src).strides));
        return target;
    }

    /**
     * A copy of {@code t} where slice {@code index[k]} along {@code dim} gains slice k of
     * {@code src} (torch.index_add): a scatter-add whose index is broadcast over src's shape.
     */
    static Tensor indexAdd(Tensor t, int dim, Tensor index, Tensor src) {
        t.checkOpen();
        index.checkOpen();
        src.checkOpen();
        if (index.dim() > 1 || (index.dtype != DType.INT32 && index.dtype != DType.INT64)) {
            throw new IllegalArgumentException("index_add_(): Index is supposed to be a vector of int32 or int64, but got "
                    + index.dtype + " of shape " + Shapes.format(index.shape));
        }
        int d = Shapes.wrapDim(dim, t.dim());
        long k = index.numel();
        long[] expected = t.shape.clone();
        if (expected.length > 0) expected[d] = k;
        if (!Arrays.equals(expected, src.shape)) {
            throw new IllegalArgumentException("index_add_(): Source/destination tensor must have same slice shapes. Destination "
                    + Shapes.format(t.shape) + ", source " + Shapes.format(src.shape) + ", index of length " + k + " along dim " + d);
        }
        // on CUDA one kernel adds whole slices; a 0-d self or a src of another dtype takes the
        // scatter_add route below, whose checks word the errors
        if (t.dim() > 0 && src.dtype == t.dtype && sameDevice(t, index, src).isCuda()) {
            return CudaIndexing.indexAdd(t, d, index, src);
        }
        long[] column = new long[Math.max(1, t.dim())];
        Arrays.fill(column, 1);
        column[d] = k;
        try (Tensor wide = index.to(DType.INT64); Tensor shaped = wide.reshape(column); Tensor spread = shaped.expand(src.shape)) {
            return scatterAdd(t, d, spread, src);
        }
    }

    // ---------------------------------------------------------------- index_select

    static Tensor indexSelect(Tensor t, int dim, Tensor index) {
        t.checkOpen();
        index.checkOpen();
        Device device = sameDevice(t, index);
        if (index.dtype != DType.INT32 && index.dtype != DType.INT64) {
            throw new IllegalArgumentException("index_select(): Expected dtype int32 or int64 for index, but got " + index.dtype);
        }
        if (index.dim() > 1) {
            throw new IllegalArgumentException("index_select(): Index is supposed to be a vector, but got index of shape "
                    + Shapes.format(index.shape));
        }
        int d = Shapes.wrapDim(dim, t.dim());
        if (device.isCuda()) {
            // The kernel checks each index it uses; selecting from a self without elements uses
            // none, yet the CPU rejects bad ones even then: check that rare case's indices here.
            if (t.numel() == 0 && index.numel() > 0) {
                try (Tensor host = index.cpu()) {
                    checkIndices(Dims.of(host), host, Dims.of(t).shape[d], d, INDEX_SELECT_PREFIX);
                }
            }
            return CudaIndexing.indexSelect(t, d, index);
        }
        Dims idx = Dims.of(index);
        checkIndices(idx, index, Dims.of(t).shape[d], d, INDEX_SELECT_PREFIX);
        // a 0-d self has only index 0, and PyTorch keeps the result 0-d
        if (t.dim() == 0) return t.clone();

        long[] outShape = t.shape.clone();
        outShape[d] = idx.shape[0];
        Tensor out = Tensor.empty(t.dtype, outShape);
        // When the dims after d are one contiguous block, each (outer position, index) pair copies
        // that block whole; otherwise every element of the output is gathered on its own.
        long[] innerShape = Arrays.copyOfRange(t.shape, d + 1, t.dim());
        long blockBytes = Shapes.numel(innerShape) * t.dtype.itemSize();
        boolean block = blockBytes >= MIN_BLOCK_BYTES
                && Shapes.isContiguous(innerShape, Arrays.copyOfRange(t.strides, d + 1, t.dim()));
        int rank = block ? d + 1 : t.dim();
        long[] indexStrides = new long[rank];
        indexStrides[d] = idx.strides[0]; // the index moves along d only
        CpuIndexKernels.gather(Arrays.copyOf(outShape, rank), operand(out, Arrays.copyOf(out.strides, rank)),
                along(t, Arrays.copyOf(t.strides, rank), d), t.strides[d], operand(index, indexStrides),
                block ? blockBytes : t.dtype.itemSize());
        return out;
    }

    // ---------------------------------------------------------------- masked_fill

    static Tensor maskedFill(Tensor t, Tensor mask, double value, boolean inPlace) {
        t.checkOpen();
        mask.checkOpen();
        Device device = sameDevice(t, mask);
        if (mask.dtype != DType.BOOL) {
            throw new IllegalArgumentException("masked_fill_ only supports boolean masks, but got mask with dtype " + mask.dtype);
        }
        long[] shape = Shapes.broadcast(t.shape, mask.shape);
        if (inPlace) {
            if (!Arrays.equals(shape, t.shape)) {
                throw new IllegalArgumentException("output with shape " + Shapes.format(t.shape)
                        + " doesn't match the broadcast shape " + Shapes.format(shape));
            }
            Elementwise.checkNoInternalOverlap(t);
        }
        try (Tensor v = scalarOf(t.dtype, value)) {
            boolean cuda = device.isCuda();
            Tensor target = inPlace ? t : Tensor.empty(device, t.dtype, shape);
            if (!inPlace && cuda) {
                Tensor.copyElements(target, t, Shapes.broadcastStrides(t.shape, t.strides, shape));
            } else if (!inPlace) {
                CpuElementwise.copy(shape, target.operand(), t.operand(shape));
            }
            // a mask sharing memory with the target would be read after being written
            Tensor m = mask.sharesStorageWith(target) ? mask.clone() : mask;
            try {
                if (cuda) {
                    CudaIndexing.maskedFill(target, m, bitsOf(v));
                } else {
                    CpuIndexKernels.maskedFill(shape, target.operand(), m.operand(shape), v.operand());
                }
            } finally {
                if (m != mask) m.close();
            }
            if (inPlace) t.bumpVersion();
            return target;
        }
    }

    // ---------------------------------------------------------------- one_hot

    static Tensor oneHot(Tensor t, long numClasses) {
        t.checkOpen();
        if (t.dtype != DType.INT64) {
            throw new IllegalArgumentException("one_hot is only applicable to index tensor. Expected int64, but got " + t.dtype);
        }
        if (t.numel() == 0) {
            if (numClasses <= 0) {
                throw new IllegalArgumentException("Can not infer total number of classes from empty tensor.");
            }
            return Tensor.empty(t.device(), DType.INT64, append(t.shape, numClasses));
        }
        if (t.isCuda()) return CudaIndexing.oneHot(t, numClasses);
        long classes = classCount(CpuIndexKernels.minMax(t.shape, t.operand()), numClasses);
        Tensor out = Tensor.zeros(DType.INT64, append(t.shape, classes));
        CpuIndexKernels.oneHot(t.shape, operand(out, Arrays.copyOf(out.strides, t.dim())), t.operand());
        return out;
    }

    /** The number of classes (numClasses, or max + 1 for -1) once the class values' {min, max} pass PyTorch's checks. */
    static long classCount(long[] range, long numClasses) {
        if (range[0] < 0) {
            throw new IllegalArgumentException("Class values must be non-negative. Got " + range[0]);
        }
        long classes = numClasses == -1 ? range[1] + 1 : numClasses;
        if (range[1] >= classes) {
            throw new IllegalArgumentException("Class values must be smaller than num_classes. Got " + range[1]
                    + " with num_classes " + classes);
        }
        return classes;
    }

    // ---------------------------------------------------------------- shared checks

    /**
     * The device all of an op's tensors are on, with PyTorch's message otherwise. Unlike
     * elementwise ops, no host scalar is taken along: an index or mask must be where self is.
     */
    private static Device sameDevice(Tensor t, Tensor... others) {
        Device d = t.device();
        for (Tensor o : others) Elementwise.checkSameDevice(d, o.device());
        return d;
    }

    private static void requireInt64(Tensor index, String op) {
        if (index.dtype != DType.INT64) {
            throw new IllegalArgumentException(op + "(): Expected dtype int64 for index, but got " + index.dtype);
        }
    }

    /** Every index must lie in [0, size): negative indices are errors here, as in PyTorch. */
    private static void checkIndices(Dims idx, Tensor index, long size, int dim, String prefix) {
        OptionalLong bad = CpuIndexKernels.firstOutOfRange(idx.shape, operand(index, idx.strides), size);
        if (bad.isPresent()) throw outOfBounds(prefix, bad.getAsLong(), dim, size);
    }

    /** The error for index {@code value} outside [0, size) along {@code dim}, on every backend. */
    static IndexOutOfBoundsException outOfBounds(String prefix, long value, int dim, long size) {
        return new IndexOutOfBoundsException(prefix + "index " + value + " is out of bounds for dimension " + dim
                + " with size " + size);
    }

    /** The raw bits of a host tensor's first element (zero-extended): how kernels take a value of any dtype. */
    private static long bitsOf(Tensor v) {
        var s = v.data();
        long at = v.offset * v.dtype.itemSize();
        return switch (v.dtype.itemSize()) {
            case 1 -> s.get(ValueLayout.JAVA_BYTE, at) & 0xFFL;
            case 2 -> s.get(ValueLayout.JAVA_SHORT_UNALIGNED, at) & 0xFFFFL;
            case 4 -> s.get(ValueLayout.JAVA_INT_UNALIGNED, at) & 0xFFFFFFFFL;
            default -> s.get(ValueLayout.JAVA_LONG_UNALIGNED, at);
        };
    }

    /** A 0-d operand (owned by no scope) holding {@code value} as {@code type}, refusing values the type cannot hold. */
    private static Tensor scalarOf(DType type, double value) {
        if (overflows(value, type)) {
            throw new IllegalArgumentException("value cannot be converted to type " + cppName(type) + " without overflow: " + value);
        }
        return Tensor.full0d(type, value);
    }

    /**
     * PyTorch's checked scalar conversion. Whole numbers follow its rules for Python ints (uint8
     * takes [-255, 255], negatives wrapping around); other values those for Python floats.
     * Infinity and NaN fit any floating type, and anything fits bool.
     */
    private static boolean overflows(double v, DType type) {
        return switch (type) {
            case BOOL, FLOAT64 -> false;
            case FLOAT32 -> Double.isFinite(v) && Math.abs(v) > Float.MAX_VALUE;
            case FLOAT16 -> Double.isFinite(v) && Math.abs(v) > 65504;
            case BFLOAT16 -> Double.isFinite(v) && Math.abs(v) > 0x1.fep127;
            case UINT8 -> Double.isNaN(v) || (v == Math.rint(v) ? Math.abs(v) > 255 : v < 0 || v > 255);
            case INT32 -> Double.isNaN(v) || v < Integer.MIN_VALUE || v > Integer.MAX_VALUE;
            case INT64 -> Double.isNaN(v) || v < -0x1p63 || v >= 0x1p63;
        };
    }

    /** The C++ type names PyTorch's overflow message uses. */
    private static String cppName(DType type) {
        return switch (type) {
            case BOOL -> "bool";
            case UINT8 -> "uint8_t";
            case INT32 -> "int";
            case INT64 -> "int64_t";
            case FLOAT16 -> "at::Half";
            case BFLOAT16 -> "at::BFloat16";
            case FLOAT32 -> "float";
            case FLOAT64 -> "double";
        };
    }

    private static long[] append(long[] shape, long last) {
        long[] out = Arrays.copyOf(shape, shape.length + 1);
        out[shape.length] = last;
        return out;
    }
}
