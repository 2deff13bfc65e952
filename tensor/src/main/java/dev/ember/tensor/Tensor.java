package dev.ember.tensor;

import dev.ember.ffi.Cuda;
import dev.ember.memory.Device;
import dev.ember.tensor.cpu.CpuElementwise;
import dev.ember.tensor.cpu.Elements;
import dev.ember.tensor.cpu.Strided;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * An n-dimensional array with PyTorch's semantics: a dtype, a shape, strides and an offset into
 * reference-counted off-heap {@link Storage} that views share. Ops are out-of-place unless their
 * name ends in an underscore. A tensor is {@link AutoCloseable}: close it, or make it inside an
 * {@link Ember#scope()}, to free its memory deterministically.
 */
public class Tensor implements AutoCloseable {
    final Storage storage;
    final DType dtype;
    final long[] shape;
    final long[] strides;
    final long offset;
    private boolean closed;
    /** The scope that will close this tensor, if any. */
    Scope owner;
    /** Bumped by every in-place change, so autograd can tell a saved tensor was modified. */
    private boolean requiresGrad;
    private Tensor grad;
    private Node gradFn;
    /** The node that accumulates into this leaf's grad, shared by all its uses. */
    private Node accumulator;

    Tensor(Storage storage, DType dtype, long[] shape, long[] strides, long offset) {
        this(storage, dtype, shape, strides, offset, true);
    }

    /** @param scoped whether the current scope (if any) will close this tensor; false for internal temporaries */
    private Tensor(Storage storage, DType dtype, long[] shape, long[] strides, long offset, boolean scoped) {
        this.storage = storage;
        this.dtype = dtype;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
        if (scoped) {
            Scope s = Scope.current();
            if (s != null) s.adopt(this);
        }
    }

    // ---------------------------------------------------------------- factories

    /** An uninitialised tensor. */
    public static Tensor empty(DType dtype, long... shape) {
        Shapes.checkShape(shape);
        long n = Shapes.numel(shape);
        return new Tensor(Storage.allocate(Math.multiplyExact(n, dtype.itemSize())), dtype, shape.clone(),
                Shapes.contiguousStrides(shape), 0);
    }

    public static Tensor empty(long... shape) { return empty(DType.defaultFloat(), shape); }

    /** An uninitialised tensor on {@code device} (its memory from the device's caching allocator). */
    public static Tensor empty(Device device, DType dtype, long... shape) {
        if (device.isCpu()) return empty(dtype, shape);
        Shapes.checkShape(shape);
        long n = Shapes.numel(shape);
        return new Tensor(Storage.allocate(device, Math.multiplyExact(n, dtype.itemSize())), dtype, shape.clone(),
                Shapes.contiguousStrides(shape), 0);
    }

    /** A zero tensor on {@code device}. */
    public static Tensor zeros(Device device, DType dtype, long... shape) {
        if (device.isCpu()) return zeros(dtype, shape);
        return empty(device, dtype, shape).fill_(0);
    }

    public static Tensor zeros(DType dtype, long... shape) {
        Tensor t = empty(dtype, shape);
        t.storage.segment().fill((byte) 0);
        return t;
    }

    public static Tensor zeros(long... shape) { return zeros(DType.defaultFloat(), shape); }

    public static Tensor ones(DType dtype, long... shape) { return full(dtype, 1, shape); }

    public static Tensor ones(long... shape) { return ones(DType.defaultFloat(), shape); }

    public static Tensor full(DType dtype, double value, long... shape) {
        Tensor t = empty(dtype, shape);
        return t.fill_(value);
    }

    /** A tensor filled with {@code value}; float32, as torch.full with a float. */
    public static Tensor full(double value, long... shape) { return full(DType.defaultFloat(), value, shape); }

    /** A tensor filled with {@code value} on {@code device}. */
    public static Tensor full(Device device, DType dtype, double value, long... shape) {
        return empty(device, dtype, shape).fill_(value);
    }

    /** Zeros of t's dtype and shape, on t's device (as every {@code *Like} factory). */
    public static Tensor zerosLike(Tensor t) { return zeros(t.device(), t.dtype, t.shape); }

    public static Tensor onesLike(Tensor t) { return full(t.device(), t.dtype, 1, t.shape); }

    public static Tensor emptyLike(Tensor t) { return empty(t.device(), t.dtype, t.shape); }

    /** A 0-d float32 tensor. */
    public static Tensor scalar(double value) { return full(DType.defaultFloat(), value); }

    public static Tensor scalar(DType dtype, double value) { return full(dtype, value); }

    /** 0, 1, ..., end-1 as int64. */
    public static Tensor arange(long end) { return arange(0, end, 1); }

    public static Tensor arange(long start, long end) { return arange(start, end, 1); }

    /** start, start+step, ... (exclusive of end) as int64, as torch.arange with integer arguments. */
    public static Tensor arange(long start, long end, long step) {
        long n = arangeLength(start, end, step);
        Tensor t = empty(DType.INT64, n);
        MemorySegment s = t.storage.segment();
        for (long i = 0; i < n; i++) s.setAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, i, start + i * step);
        return t;
    }

    /** start, start+step, ... (exclusive of end) as float32, as torch.arange with float arguments. */
    public static Tensor arange(double start, double end, double step) {
        if (step == 0) throw new IllegalArgumentException("step must be nonzero");
        if ((end - start) / step < 0) {
            throw new IllegalArgumentException("upper bound and larger bound inconsistent with step sign");
        }
        long n = (long) Math.ceil((end - start) / step);
        Tensor t = empty(DType.defaultFloat(), n);
        for (long i = 0; i < n; i++) t.setFlat(i, start + i * step);
        return t;
    }

    private static long arangeLength(long start, long end, long step) {
        if (step == 0) throw new IllegalArgumentException("step must be nonzero");
        if ((step > 0 && end < start) || (step < 0 && end > start)) {
            throw new IllegalArgumentException("upper bound and larger bound inconsistent with step sign");
        }
        return Math.floorDiv(end - start + step - Long.signum(step), step);
    }

    /** {@code steps} evenly spaced float32 values from start to end inclusive, as torch.linspace. */
    public static Tensor linspace(double start, double end, long steps) {
        if (steps < 0) throw new IllegalArgumentException("number of steps must be non-negative");
        Tensor t = empty(DType.defaultFloat(), steps);
        double step = steps > 1 ? (end - start) / (steps - 1) : 0;
        long half = steps == 1 ? 1 : steps / 2; // one step is [start], as torch.linspace(0, 10, 1)
        // from both ends, as PyTorch, so the last value is exactly end
        for (long i = 0; i < steps; i++) t.setFlat(i, i < half ? start + step * i : end - step * (steps - 1 - i));
        return t;
    }

    public static Tensor eye(long n) { return eye(n, n); }

    public static Tensor eye(long n, long m) {
        if (n < 0) throw new IllegalArgumentException("n must be greater or equal to 0, got " + n);
        if (m < 0) throw new IllegalArgumentException("m must be greater or equal to 0, got " + m);
        Tensor t = zeros(DType.defaultFloat(), n, m);
        for (long i = 0; i < Math.min(n, m); i++) t.setFlat(i * m + i, 1);
        return t;
    }

    /** Uniform in [0, 1), float32. */
    public static Tensor rand(long... shape) { return rand(Generator.defaultGenerator(), shape); }

    public static Tensor rand(Generator g, long... shape) {
        Tensor t = empty(DType.defaultFloat(), shape);
        var r = g.split();
        // nextFloat, not nextDouble: a double just below 1 would round to 1.0f, outside [0, 1)
        for (long i = 0, n = t.numel(); i < n; i++) t.setFlat(i, r.nextFloat());
        return t;
    }

    /** Uniform in [0, 1), float32, on {@code device}, as torch.rand(..., device=device). */
    public static Tensor rand(Device device, long... shape) { return rand(Generator.defaultGenerator(), device, shape); }

    /**
     * Uniform in [0, 1), float32, on {@code device}. A CUDA device draws from g's Philox stream
     * for that device (reproducible by g's seed; not the host's numbers).
     */
    public static Tensor rand(Generator g, Device device, long... shape) {
        if (device.isCpu()) return rand(g, shape);
        Tensor t = empty(device, DType.defaultFloat(), shape);
        CudaRandom.uniform(t, 0, 1, g);
        return t;
    }

    /** Standard normal, float32. */
    public static Tensor randn(long... shape) { return randn(Generator.defaultGenerator(), shape); }

    public static Tensor randn(Generator g, long... shape) {
        Tensor t = empty(DType.defaultFloat(), shape);
        var r = g.split();
        for (long i = 0, n = t.numel(); i < n; i++) t.setFlat(i, r.nextGaussian());
        return t;
    }

    /** Standard normal, float32, on {@code device}, as torch.randn(..., device=device). */
    public static Tensor randn(Device device, long... shape) { return randn(Generator.defaultGenerator(), device, shape); }

    /** Standard normal, float32, on {@code device}; on CUDA from g's Philox stream for that device. */
    public static Tensor randn(Generator g, Device device, long... shape) {
        if (device.isCpu()) return randn(g, shape);
        Tensor t = empty(device, DType.defaultFloat(), shape);
        CudaRandom.normal(t, 0, 1, g);
        return t;
    }

    /** Uniform integers in [low, high), int64. */
    public static Tensor randint(long low, long high, long... shape) {
        return randint(Generator.defaultGenerator(), low, high, shape);
    }

    public static Tensor randint(Generator g, long low, long high, long... shape) {
        if (low >= high) {
            throw new IllegalArgumentException("random_ expects 'from' to be less than 'to', but got from=" + low + " >= to=" + high);
        }
        Tensor t = empty(DType.INT64, shape);
        var r = g.split();
        for (long i = 0, n = t.numel(); i < n; i++) {
            t.storage.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, i, r.nextLong(low, high));
        }
        return t;
    }

    /** A random permutation of 0..n-1 as int64, as torch.randperm. */
    public static Tensor randperm(long n) { return randperm(Generator.defaultGenerator(), n); }

    public static Tensor randperm(Generator g, long n) {
        if (n < 0) throw new IllegalArgumentException("n must be non-negative, got" + n);
        long[] p = new long[Math.toIntExact(n)];
        for (int i = 0; i < p.length; i++) p[i] = i;
        var r = g.split();
        for (int i = p.length - 1; i > 0; i--) { // Fisher-Yates
            int j = r.nextInt(i + 1);
            long tmp = p[i];
            p[i] = p[j];
            p[j] = tmp;
        }
        return fromArray(p);
    }

    /** A float32 tensor holding {@code data}; the shape defaults to 1-D. */
    public static Tensor fromArray(float[] data, long... shape) {
        Tensor t = empty(DType.FLOAT32, checkedShape(data.length, shape));
        MemorySegment.copy(data, 0, t.storage.segment(), java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, data.length);
        return t;
    }

    public static Tensor fromArray(double[] data, long... shape) {
        Tensor t = empty(DType.FLOAT64, checkedShape(data.length, shape));
        MemorySegment.copy(data, 0, t.storage.segment(), java.lang.foreign.ValueLayout.JAVA_DOUBLE, 0, data.length);
        return t;
    }

    public static Tensor fromArray(int[] data, long... shape) {
        Tensor t = empty(DType.INT32, checkedShape(data.length, shape));
        MemorySegment.copy(data, 0, t.storage.segment(), java.lang.foreign.ValueLayout.JAVA_INT, 0, data.length);
        return t;
    }

    public static Tensor fromArray(long[] data, long... shape) {
        Tensor t = empty(DType.INT64, checkedShape(data.length, shape));
        MemorySegment.copy(data, 0, t.storage.segment(), java.lang.foreign.ValueLayout.JAVA_LONG, 0, data.length);
        return t;
    }

    /** A uint8 tensor holding {@code data} (bytes read as unsigned). */
    public static Tensor fromArray(byte[] data, long... shape) {
        Tensor t = empty(DType.UINT8, checkedShape(data.length, shape));
        MemorySegment.copy(data, 0, t.storage.segment(), java.lang.foreign.ValueLayout.JAVA_BYTE, 0, data.length);
        return t;
    }

    public static Tensor fromArray(boolean[] data, long... shape) {
        Tensor t = empty(DType.BOOL, checkedShape(data.length, shape));
        for (int i = 0; i < data.length; i++) t.storage.segment().set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) (data[i] ? 1 : 0));
        return t;
    }

    /** Rows of a float32 matrix. */
    public static Tensor fromArray(float[][] rows) {
        int cols = rows.length == 0 ? 0 : rows[0].length;
        float[] flat = new float[rows.length * cols];
        for (int i = 0; i < rows.length; i++) {
            if (rows[i].length != cols) {
                throw new IllegalArgumentException("expected sequence of length " + cols + " at dim 1 (got " + rows[i].length + ")");
            }
            System.arraycopy(rows[i], 0, flat, i * cols, cols);
        }
        return fromArray(flat, rows.length, cols);
    }

    private static long[] checkedShape(int length, long[] shape) {
        if (shape.length == 0) return new long[] {length};
        Shapes.checkShape(shape);
        if (Shapes.numel(shape) != length) {
            throw new IllegalArgumentException("shape " + Shapes.format(shape) + " needs " + Shapes.numel(shape)
                    + " elements but the array has " + length);
        }
        return shape.clone();
    }

    // ---------------------------------------------------------------- metadata

    public DType dtype() { return dtype; }

    public long[] shape() { return shape.clone(); }

    /** Alias of {@link #shape()}, as PyTorch's size(). */
    public long[] size() { return shape.clone(); }

    public long size(int dim) { return shape[Shapes.wrapDim(dim, checkHasDims(dim))]; }

    public long[] strides() { return strides.clone(); }

    public long stride(int dim) { return strides[Shapes.wrapDim(dim, checkHasDims(dim))]; }

    /** The rank, for ops that (as PyTorch's size(), slice and unflatten) take no dim of a 0-d tensor. */
    private int checkHasDims(int dim) {
        if (shape.length == 0) {
            throw new IndexOutOfBoundsException("Dimension specified as " + dim + " but tensor has no dimensions");
        }
        return shape.length;
    }

    public long storageOffset() { return offset; }

    public int dim() { return shape.length; }

    public long numel() { return Shapes.numel(shape); }

    public boolean isContiguous() { return Shapes.isContiguous(shape, strides); }

    public boolean isClosed() { return closed; }

    /** Whether this tensor and {@code other} share storage. */
    public boolean sharesStorageWith(Tensor other) { return storage == other.storage; }

    /** Incremented by each in-place op on this tensor or a view of it is not tracked; see autograd. */
    public int version() { return storage.version; }

    void bumpVersion() { storage.version++; }

    // ---------------------------------------------------------------- lifetime

    /** Drops this tensor's reference to its storage; idempotent. Views keep the storage alive. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        storage.release();
        if (grad != null) grad.close();
    }

    /** Throws if this tensor was closed: nothing may touch freed memory. */
    Tensor checkOpen() {
        if (closed || !storage.isOpen()) {
            throw new IllegalStateException("Tensor of shape " + Shapes.format(shape) + " and dtype " + dtype
                    + " was used after close()");
        }
        return this;
    }

    /** The off-heap memory behind this tensor (for kernels and native calls); checks it is open. */
    public MemorySegment data() {
        checkOpen();
        return storage.segment();
    }

    /** The device this tensor's memory is on. */
    public Device device() { return storage.device(); }

    /** Whether this tensor lives on a CUDA device. */
    public boolean isCuda() { return storage.device().isCuda(); }

    /**
     * This tensor on {@code device}: itself (a new handle) when it is there already, else a
     * copy, recorded for autograd (the gradient goes back to this tensor's device), as torch's
     * {@code to(device)}. A copy from the host is queued on the target's current stream; a copy
     * to the host waits for the source's stream.
     */
    public Tensor to(Device device) {
        checkOpen();
        Device from = device();
        return viewOp("ToCopyBackward0", () -> {
            if (from.equals(device)) return alias(shape.clone(), strides.clone(), offset);
            Tensor out = empty(device, dtype, shape);
            copyElements(out, this, strides);
            return out;
        }, g -> g.to(from));
    }

    /**
     * {@link #to(Device)}, and with {@code nonBlocking} the copy returns before it has run, as
     * torch's {@code to(device, non_blocking=True)}: from pinned host memory (see
     * {@link #pinMemory()}) to a device the copy is queued on the device's stream; from a device
     * to the host the result is pinned memory the copy fills later. Unlike PyTorch, reading such a
     * result on the host waits for its copy (and for nothing else), so it never shows stale values.
     */
    public Tensor to(Device device, boolean nonBlocking) {
        if (!nonBlocking || !device.isCpu() || !isCuda()) return to(device); // host-to-device is queued already
        checkOpen();
        Device from = device();
        return viewOp("ToCopyBackward0", () -> {
            try (Tensor packed = contiguous()) {
                Tensor out = new Tensor(Storage.allocatePinned(from, packed.numel() * dtype.itemSize()), dtype,
                        shape.clone(), Shapes.contiguousStrides(shape), 0);
                CudaOps.downloadAsync(out, packed);
                return out;
            }
        }, g -> g.to(from));
    }

    /**
     * A copy of this host tensor in page-locked memory, from which copies to a CUDA device run
     * asynchronously; this tensor itself (a new handle) when it is pinned already. As torch's
     * {@code pin_memory()}; needs CUDA.
     */
    public Tensor pinMemory() {
        checkOpen();
        if (isCuda()) {
            throw new IllegalArgumentException("cannot pin a tensor on " + device() + ": only dense CPU tensors can be pinned");
        }
        if (!Cuda.isAvailable()) {
            throw new IllegalStateException("pinMemory() needs CUDA, which is not available here: " + Cuda.unavailableReason());
        }
        return viewOp("ToCopyBackward0", () -> {
            if (storage.isPinned()) return alias(shape.clone(), strides.clone(), offset);
            Tensor out = new Tensor(Storage.allocatePinned(Device.cuda(), numel() * dtype.itemSize()), dtype, shape.clone(),
                    Shapes.contiguousStrides(shape), 0);
            copyElements(out, this, strides);
            return out;
        }, g -> g);
    }

    /** Whether this tensor is in page-locked host memory ({@link #pinMemory()}). */
    public boolean isPinned() { return storage.isPinned(); }

    /** This tensor on the current CUDA device (cuda:0), as torch's {@code cuda()}. */
    public Tensor cuda() { return to(Device.cuda()); }

    /** This tensor in host memory, as torch's {@code cpu()}. */
    public Tensor cpu() { return to(Device.cpu()); }

    /** This tensor as a kernel operand over its own shape. */
    Strided operand() {
        return new Strided(data(), dtype, offset, strides);
    }

    /** This tensor as a kernel operand broadcast over {@code target}. */
    Strided operand(long[] target) {
        return new Strided(data(), dtype, offset, Shapes.broadcastStrides(shape, strides, target));
    }

    // ---------------------------------------------------------------- views

    /** A view of the same storage with new geometry. */
    Tensor alias(long[] newShape, long[] newStrides, long newOffset) {
        checkOpen();
        storage.retain();
        return new Tensor(storage, dtype, newShape, newStrides, newOffset);
    }

    /** A view with a new shape (one dim may be -1); fails if the strides cannot express it. */
    private Tensor viewImpl(long... newShape) {
        checkOpen();
        long[] target = Shapes.inferShape(newShape, numel());
        long[] newStrides = Views.viewStrides(shape, strides, target);
        if (newStrides == null) {
            throw new IllegalArgumentException("view size is not compatible with input tensor's size and stride (at least one"
                    + " dimension spans across two contiguous subspaces). Use .reshape(...) instead.");
        }
        return alias(target, newStrides, offset);
    }

    /** A view when the strides allow it, else a contiguous copy, as torch.reshape. */
    private Tensor reshapeImpl(long... newShape) {
        checkOpen();
        long[] target = Shapes.inferShape(newShape, numel());
        long[] newStrides = Views.viewStrides(shape, strides, target);
        if (newStrides != null) return alias(target, newStrides, offset);
        Tensor c = clone();
        Tensor v = c.alias(target, Shapes.contiguousStrides(target), 0);
        c.close();
        return v;
    }

    private Tensor permuteImpl(int... dims) {
        checkOpen();
        if (dims.length != shape.length) {
            throw new IllegalArgumentException("permute(sparse_coo): number of dimensions in the tensor input does not match the"
                    + " length of the desired ordering of dimensions i.e. input.dim() = " + shape.length
                    + " is not equal to len(dims) = " + dims.length);
        }
        long[] s = new long[dims.length], st = new long[dims.length];
        boolean[] seen = new boolean[dims.length];
        for (int i = 0; i < dims.length; i++) {
            int d = Shapes.wrapDim(dims[i], shape.length);
            if (seen[d]) throw new IllegalArgumentException("permute(): duplicate dims are not allowed.");
            seen[d] = true;
            s[i] = shape[d];
            st[i] = strides[d];
        }
        return alias(s, st, offset);
    }

    private Tensor transposeImpl(int dim0, int dim1) {
        checkOpen();
        int a = Shapes.wrapDim(dim0, shape.length), b = Shapes.wrapDim(dim1, shape.length);
        long[] s = shape.clone(), st = strides.clone();
        if (shape.length > 0) {
            s[a] = shape[b]; s[b] = shape[a];
            st[a] = strides[b]; st[b] = strides[a];
        }
        return alias(s, st, offset);
    }

    /** Transpose of a matrix; vectors and scalars come back as they are, as torch.t. */
    public Tensor t() {
        if (shape.length > 2) {
            throw new IllegalArgumentException("t() expects a tensor with <= 2 dimensions, but self is " + shape.length + "D");
        }
        if (shape.length >= 2) return transpose(0, 1);
        // still a recorded view: an unrecorded alias of a tensor that requires grad would cut the graph
        return viewOp("TBackward0", () -> alias(shape.clone(), strides.clone(), offset), g -> g);
    }

    /** Broadcasts size-1 dims (and new leading dims) to {@code sizes}; -1 keeps a size. No copy. */
    private Tensor expandImpl(long... sizes) {
        checkOpen();
        if (sizes.length < shape.length) {
            throw new IllegalArgumentException("expand: the number of sizes provided (" + sizes.length + ") must be greater or equal"
                    + " to the number of dimensions in the tensor (" + shape.length + ")");
        }
        long[] target = sizes.clone();
        int shift = sizes.length - shape.length;
        for (int i = 0; i < target.length; i++) {
            if (target[i] == -1) {
                if (i < shift) {
                    throw new IllegalArgumentException("The expanded size of the tensor (-1) isn't allowed in a leading,"
                            + " non-existing dimension " + i);
                }
                target[i] = shape[i - shift];
            }
        }
        Shapes.checkShape(target);
        return alias(target, Shapes.broadcastStrides(shape, strides, target), offset);
    }

    public Tensor broadcastTo(long... sizes) { return expand(sizes); }

    public Tensor expandAs(Tensor other) { return expand(other.shape); }

    /** {@code length} elements of {@code dim} from {@code start}, as a view. */
    private Tensor narrowImpl(int dim, long start, long length) {
        checkOpen();
        if (shape.length == 0) throw new IllegalArgumentException("narrow() cannot be applied to a 0-dim tensor.");
        int d = Shapes.wrapDim(dim, shape.length);
        long size = shape[d];
        if (start < -size || start > size) {
            throw new IndexOutOfBoundsException("start out of range (expected to be in range of [" + (-size) + ", " + size
                    + "], but got " + start + ")");
        }
        if (start < 0) start += size;
        if (length < 0 || start + length > size) {
            throw new IndexOutOfBoundsException("start (" + start + ") + length (" + length + ") exceeds dimension size (" + size + ").");
        }
        long[] s = shape.clone();
        s[d] = length;
        return alias(s, strides.clone(), offset + start * strides[d]);
    }

    /** Python-style slice {@code [start:end:step]} along {@code dim}; indices clamp, negatives count from the end. */
    private Tensor sliceImpl(int dim, long start, long end, long step) {
        checkOpen();
        if (shape.length == 0) throw new IndexOutOfBoundsException("slice() cannot be applied to a 0-dim tensor.");
        int d = Shapes.wrapDim(dim, shape.length);
        if (step <= 0) throw new IllegalArgumentException("slice step must be positive");
        long size = shape[d];
        if (start < 0) start += size;
        if (end < 0) end += size;
        start = Math.min(Math.max(start, 0), size);
        end = Math.min(Math.max(end, start), size);
        long[] s = shape.clone(), st = strides.clone();
        s[d] = (end - start + step - 1) / step;
        st[d] = strides[d] * step;
        return alias(s, st, offset + start * strides[d]);
    }

    public Tensor slice(int dim, long start, long end) { return slice(dim, start, end, 1); }

    /** The sub-tensor at {@code index} along {@code dim}, dropping that dim. */
    private Tensor selectImpl(int dim, long index) {
        checkOpen();
        if (shape.length == 0) throw new IndexOutOfBoundsException("select() cannot be applied to a 0-dim tensor.");
        int d = Shapes.wrapDim(dim, shape.length);
        long size = shape[d];
        if (index < -size || index >= size) {
            throw new IndexOutOfBoundsException("select(): index " + index + " out of range for tensor of size "
                    + Shapes.format(shape) + " at dimension " + d);
        }
        if (index < 0) index += size;
        return alias(Views.remove(shape, d), Views.remove(strides, d), offset + index * strides[d]);
    }

    /** Removes every size-1 dim. */
    private Tensor squeezeImpl() {
        checkOpen();
        int kept = 0;
        for (long s : shape) if (s != 1) kept++;
        long[] s = new long[kept], st = new long[kept];
        for (int i = 0, j = 0; i < shape.length; i++) {
            if (shape[i] != 1) { s[j] = shape[i]; st[j++] = strides[i]; }
        }
        return alias(s, st, offset);
    }

    /** Removes {@code dim} if it has size 1, else returns a view of the same shape. */
    private Tensor squeezeImpl(int dim) {
        checkOpen();
        Shapes.wrapDim(dim, shape.length); // checks the dim, also for a 0-d tensor
        if (shape.length == 0) return alias(shape, strides, offset);
        int d = Shapes.wrapDim(dim, shape.length);
        if (shape[d] != 1) return alias(shape.clone(), strides.clone(), offset);
        return alias(Views.remove(shape, d), Views.remove(strides, d), offset);
    }

    /** Inserts a size-1 dim at {@code dim} (which may be rank, to append). */
    private Tensor unsqueezeImpl(int dim) {
        checkOpen();
        int d = Shapes.wrapDim(dim, shape.length + 1);
        long stride = d < shape.length ? shape[d] * strides[d] : 1;
        return alias(Views.insert(shape, d, 1), Views.insert(strides, d, stride), offset);
    }

    public Tensor flatten() { return flatten(0, -1); }

    /** Merges dims start..end into one (a view when possible, as reshape). */
    public Tensor flatten(int startDim, int endDim) {
        checkOpen();
        int s = Shapes.wrapDim(startDim, shape.length), e = Shapes.wrapDim(endDim, shape.length);
        if (shape.length == 0) return reshape(1);
        if (s > e) throw new IllegalArgumentException("flatten() has invalid args: start_dim cannot come after end_dim");
        long[] target = new long[shape.length - (e - s)];
        for (int i = 0; i < s; i++) target[i] = shape[i];
        long merged = 1;
        for (int i = s; i <= e; i++) merged *= shape[i];
        target[s] = merged;
        for (int i = e + 1; i < shape.length; i++) target[i - (e - s)] = shape[i];
        return reshape(target);
    }

    /** Splits {@code dim} into {@code sizes} (one may be -1). */
    public Tensor unflatten(int dim, long... sizes) {
        checkOpen();
        int d = Shapes.wrapDim(dim, checkHasDims(dim));
        if (sizes.length == 0) throw new IllegalArgumentException("unflatten: sizes must be non-empty");
        long[] inner;
        try {
            inner = Shapes.inferShape(sizes, shape[d]);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unflatten: Provided sizes " + Shapes.format(sizes) + " don't multiply up to the"
                    + " size of dim " + d + " (" + shape[d] + ") in the input tensor", e);
        }
        long[] target = new long[shape.length - 1 + inner.length];
        System.arraycopy(shape, 0, target, 0, d);
        System.arraycopy(inner, 0, target, d, inner.length);
        System.arraycopy(shape, d + 1, target, d + inner.length, shape.length - d - 1);
        return view(target);
    }

    /** This tensor if already contiguous (as a new handle on the same storage), else a contiguous copy. */
    private Tensor contiguousImpl() {
        checkOpen();
        return isContiguous() ? alias(shape.clone(), strides.clone(), offset) : clone();
    }

    /** A contiguous copy with its own storage. */
    private Tensor cloneImpl() {
        checkOpen();
        Tensor out = empty(device(), dtype, shape);
        copyElements(out, this, strides);
        return out;
    }

    /** A copy converted to {@code target}; a new handle on the same storage if the dtype already matches. */
    private Tensor toImpl(DType target) {
        checkOpen();
        if (target == dtype) return alias(shape.clone(), strides.clone(), offset);
        Tensor out = empty(device(), target, shape);
        copyElements(out, this, strides);
        return out;
    }

    /**
     * dst = src read with {@code srcStrides} over dst's shape (a broadcast of src), converted to
     * dst's dtype: on the host, on one CUDA device, or across the host boundary.
     */
    static void copyElements(Tensor dst, Tensor src, long[] srcStrides) {
        Device to = dst.device(), from = src.device();
        if (to.isCpu() && from.isCpu()) {
            CpuElementwise.copy(dst.shape, dst.operand(), new Strided(src.data(), src.dtype, src.offset, srcStrides));
        } else if (to.equals(from)) {
            CudaOps.copy(dst, src, srcStrides);
        } else {
            // across devices: src's values packed in dst's dtype on src's device, the bytes moved, then
            // laid out into dst (straight into dst when it is contiguous)
            src.storage.retain();
            try (Tensor view = new Tensor(src.storage, src.dtype, dst.shape, srcStrides, src.offset, false);
                 Tensor packed = view.contiguousAs(dst.dtype)) {
                boolean direct = dst.isContiguous();
                Tensor landed = direct ? dst : new Tensor(Storage.allocate(to, packed.numel() * dst.dtype.itemSize()),
                        dst.dtype, dst.shape.clone(), Shapes.contiguousStrides(dst.shape), 0, false);
                try {
                    if (from.isCpu()) {
                        CudaOps.upload(landed, packed);
                    } else if (to.isCpu()) {
                        CudaOps.download(landed, packed);
                    } else {
                        try (Tensor host = packed.hostContiguousAs(dst.dtype)) {
                            CudaOps.upload(landed, host);
                        }
                    }
                    if (!direct) copyElements(dst, landed, landed.strides);
                } finally {
                    if (!direct) landed.close();
                }
            }
        }
    }

    /** Copies {@code src} (broadcast, converted) into this tensor in place. */
    public Tensor copy_(Tensor src) {
        checkOpen();
        src.checkOpen();
        Elementwise.checkInPlaceGrad(this, src);
        Elementwise.checkNoInternalOverlap(this);
        // a source overlapping this tensor in another layout would be read after being written
        Tensor from = src.sharesStorageWith(this) && !Elementwise.sameGeometry(this, src) ? src.clone() : src;
        try {
            copyElements(this, from, Shapes.broadcastStrides(from.shape, from.strides, shape));
        } finally {
            if (from != src) from.close();
        }
        bumpVersion();
        return this;
    }

    public Tensor fill_(double value) {
        checkOpen();
        Elementwise.checkInPlaceGrad(this, null);
        if (isCuda() && isContiguous()) {
            CudaOps.fill(this, value);
        } else {
            try (Tensor v = full0d(dtype, value)) {
                copyElements(this, v, new long[shape.length]);
            }
        }
        bumpVersion();
        return this;
    }

    public Tensor zero_() { return fill_(0); }

    /** A 0-d tensor that no scope owns: an internal scalar operand, closed by its user. */
    static Tensor full0d(DType dtype, double value) {
        Storage s = Storage.allocate(dtype.itemSize());
        Elements.putDouble(s.segment(), dtype, 0, value);
        return new Tensor(s, dtype, new long[0], new long[0], 0, false);
    }

    /** A 0-d int64 tensor holding {@code value} exactly. */
    static Tensor long0d(long value) {
        Tensor t = full0d(DType.INT64, 0);
        t.storage.segment().set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, value);
        return t;
    }

    // ---------------------------------------------------------------- element access

    private long flatOffset(long flat) {
        long off = offset;
        for (int d = shape.length - 1; d >= 0; d--) {
            long i = flat % shape[d];
            flat /= shape[d];
            off += i * strides[d];
        }
        return off;
    }

    /** Element at row-major position {@code flat} as double. */
    double getFlat(long flat) {
        return Elements.getDouble(storage.segment(), dtype, flatOffset(flat) * dtype.itemSize());
    }

    long getFlatLong(long flat) {
        return Elements.getLong(storage.segment(), dtype, flatOffset(flat) * dtype.itemSize());
    }

    void setFlat(long flat, double v) {
        Elements.putDouble(storage.segment(), dtype, flatOffset(flat) * dtype.itemSize(), v);
    }

    /** The element at the given indices (one per dim), as double. */
    public double get(long... index) {
        checkOpen();
        long at = elementOffset(index);
        if (isCuda()) {
            try (Tensor element = alias(new long[0], new long[0], at)) {
                return element.item(); // one element read back, waiting for this tensor's stream only
            }
        }
        return Elements.getDouble(storage.segment(), dtype, at * dtype.itemSize());
    }

    /** Sets the element at the given indices (on a device, queued on its stream). */
    public Tensor set(double value, long... index) {
        checkOpen();
        Elementwise.checkInPlaceGrad(this, null);
        long at = elementOffset(index);
        if (isCuda()) {
            try (Tensor element = alias(new long[0], new long[0], at)) {
                CudaOps.fill(element, value);
            }
        } else {
            Elements.putDouble(storage.segment(), dtype, at * dtype.itemSize(), value);
        }
        bumpVersion();
        return this;
    }

    private long elementOffset(long[] index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("expected " + shape.length + " indices for a tensor of shape "
                    + Shapes.format(shape) + ", got " + index.length);
        }
        long off = offset;
        for (int d = 0; d < index.length; d++) {
            long i = index[d];
            if (i < -shape[d] || i >= shape[d]) {
                throw new IndexOutOfBoundsException("index " + i + " is out of bounds for dimension " + d + " with size " + shape[d]);
            }
            off += (i < 0 ? i + shape[d] : i) * strides[d];
        }
        return off;
    }

    /** The value of a one-element tensor, as double. */
    public double item() {
        checkOpen();
        checkOneElement();
        if (isCuda()) {
            try (Tensor h = hostContiguousAs(dtype)) { // waits for this tensor's stream only
                return h.getFlat(0);
            }
        }
        return getFlat(0);
    }

    /** The value of a one-element tensor, as long (exact for int64). */
    public long itemLong() {
        checkOpen();
        checkOneElement();
        if (isCuda()) {
            try (Tensor h = hostContiguousAs(dtype)) {
                return h.getFlatLong(0);
            }
        }
        return getFlatLong(0);
    }

    private void checkOneElement() {
        if (numel() != 1) {
            throw new IllegalStateException("a Tensor with " + numel() + " elements cannot be converted to Scalar");
        }
    }

    /** All elements in row-major order, converted to float. */
    public float[] toFloatArray() {
        float[] out = new float[Math.toIntExact(numel())];
        try (Tensor c = hostContiguousAs(DType.FLOAT32)) {
            MemorySegment.copy(c.storage.segment(), java.lang.foreign.ValueLayout.JAVA_FLOAT, c.offset * 4, out, 0, out.length);
        }
        return out;
    }

    public double[] toDoubleArray() {
        double[] out = new double[Math.toIntExact(numel())];
        try (Tensor c = hostContiguousAs(DType.FLOAT64)) {
            MemorySegment.copy(c.storage.segment(), java.lang.foreign.ValueLayout.JAVA_DOUBLE, c.offset * 8, out, 0, out.length);
        }
        return out;
    }

    public long[] toLongArray() {
        long[] out = new long[Math.toIntExact(numel())];
        try (Tensor c = hostContiguousAs(DType.INT64)) {
            MemorySegment.copy(c.storage.segment(), java.lang.foreign.ValueLayout.JAVA_LONG, c.offset * 8, out, 0, out.length);
        }
        return out;
    }

    public int[] toIntArray() {
        int[] out = new int[Math.toIntExact(numel())];
        try (Tensor c = hostContiguousAs(DType.INT32)) {
            MemorySegment.copy(c.storage.segment(), java.lang.foreign.ValueLayout.JAVA_INT, c.offset * 4, out, 0, out.length);
        }
        return out;
    }

    public boolean[] toBooleanArray() {
        boolean[] out = new boolean[Math.toIntExact(numel())];
        try (Tensor c = hostContiguousAs(DType.BOOL)) {
            for (int i = 0; i < out.length; i++) out[i] = c.storage.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, c.offset + i) != 0;
        }
        return out;
    }

    /** A contiguous tensor of {@code target} dtype with this one's values, owned by no scope. */
    Tensor contiguousAs(DType target) {
        checkOpen();
        if (target == dtype && isContiguous() && numel() != 0) { // a zero-size view's offset may lie past the storage
            storage.retain();
            return new Tensor(storage, dtype, shape.clone(), strides.clone(), offset, false);
        }
        Tensor c = new Tensor(Storage.allocate(device(), numel() * target.itemSize()), target, shape.clone(),
                Shapes.contiguousStrides(shape), 0, false);
        copyElements(c, this, strides);
        return c;
    }

    /** Like {@link #contiguousAs}, but always in host memory (a device tensor's values are copied back). */
    Tensor hostContiguousAs(DType target) {
        if (device().isCpu()) return contiguousAs(target);
        try (Tensor c = contiguousAs(target)) {
            Tensor h = new Tensor(Storage.allocate(c.numel() * target.itemSize()), target, shape.clone(),
                    Shapes.contiguousStrides(shape), 0, false);
            CudaOps.download(h, c);
            return h;
        }
    }


    // ---------------------------------------------------------------- views (recorded)

    /** Runs a view op with grad mode off (so its internals record nothing) and records one node for it. */
    private Tensor viewOp(String name, java.util.function.Supplier<Tensor> impl, UnaryOperator<Tensor> backward) {
        if (!Graph.needsGrad(this)) return impl.get();
        Tensor out;
        try (var off = GradMode.set(false)) {
            out = impl.get();
        }
        return Graph.record(out, name, (g, s) -> new Tensor[] {backward.apply(g)}, new Tensor[] {this});
    }

    /** A view with a new shape (one dim may be -1); fails if the strides cannot express it. */
    public Tensor view(long... newShape) {
        long[] in = shape;
        return viewOp("ViewBackward0", () -> viewImpl(newShape), g -> g.reshape(in));
    }

    /** A view when the strides allow it, else a contiguous copy, as torch.reshape. */
    public Tensor reshape(long... newShape) {
        long[] in = shape;
        return viewOp("ReshapeAliasBackward0", () -> reshapeImpl(newShape), g -> g.reshape(in));
    }

    public Tensor permute(int... dims) {
        return viewOp("PermuteBackward0", () -> permuteImpl(dims), g -> {
            int[] inverse = new int[dims.length];
            for (int i = 0; i < dims.length; i++) inverse[Shapes.wrapDim(dims[i], dims.length)] = i;
            return g.permute(inverse);
        });
    }

    public Tensor transpose(int dim0, int dim1) {
        return viewOp("TransposeBackward0", () -> transposeImpl(dim0, dim1), g -> g.transpose(dim0, dim1));
    }

    /** Broadcasts size-1 dims (and new leading dims) to {@code sizes}; -1 keeps a size. No copy. */
    public Tensor expand(long... sizes) {
        long[] in = shape;
        return viewOp("ExpandBackward0", () -> expandImpl(sizes), g -> g.sumToSize(in));
    }

    /** {@code length} elements of {@code dim} from {@code start}, as a view. */
    public Tensor narrow(int dim, long start, long length) {
        long[] in = shape;
        return viewOp("NarrowBackward0", () -> narrowImpl(dim, start, length),
                g -> embed(g, in, z -> z.narrow(dim, start, length)));
    }

    /** Python-style slice {@code [start:end:step]} along {@code dim}; indices clamp, negatives count from the end. */
    public Tensor slice(int dim, long start, long end, long step) {
        long[] in = shape;
        return viewOp("SliceBackward0", () -> sliceImpl(dim, start, end, step),
                g -> embed(g, in, z -> z.slice(dim, start, end, step)));
    }

    /** The sub-tensor at {@code index} along {@code dim}, dropping that dim. */
    public Tensor select(int dim, long index) {
        long[] in = shape;
        return viewOp("SelectBackward0", () -> selectImpl(dim, index), g -> embed(g, in, z -> z.select(dim, index)));
    }

    /** Removes every size-1 dim. */
    public Tensor squeeze() {
        long[] in = shape;
        return viewOp("SqueezeBackward0", this::squeezeImpl, g -> g.reshape(in));
    }

    /** Removes {@code dim} if it has size 1, else returns a view of the same shape. */
    public Tensor squeeze(int dim) {
        long[] in = shape;
        return viewOp("SqueezeBackward1", () -> squeezeImpl(dim), g -> g.reshape(in));
    }

    /** Inserts a size-1 dim at {@code dim} (which may be rank, to append). */
    public Tensor unsqueeze(int dim) {
        long[] in = shape;
        return viewOp("UnsqueezeBackward0", () -> unsqueezeImpl(dim), g -> g.reshape(in));
    }

    /** This tensor if already contiguous (as a new handle on the same storage), else a contiguous copy. */
    public Tensor contiguous() {
        return viewOp("CloneBackward0", this::contiguousImpl, g -> g);
    }

    /** A contiguous copy with its own storage. */
    @Override
    public Tensor clone() {
        return viewOp("CloneBackward0", this::cloneImpl, g -> g);
    }

    /** A copy converted to {@code target}; a new handle on the same storage if the dtype already matches. */
    public Tensor to(DType target) {
        DType in = dtype;
        return viewOp("ToCopyBackward0", () -> toImpl(target), g -> g.to(in));
    }

    /**
     * A zero tensor of {@code shape} with {@code g} written into the part {@code region} picks:
     * the backward of slicing ops, itself differentiable (its backward is the slice again).
     */
    static Tensor embed(Tensor g, long[] shape, UnaryOperator<Tensor> region) {
        Tensor out = zeros(g.device(), g.dtype, shape);
        try (var off = GradMode.set(false); Tensor part = region.apply(out)) {
            part.copy_(g);
        }
        return Graph.record(out, "EmbedBackward0", (gg, s) -> new Tensor[] {region.apply(gg)}, new Tensor[] {g});
    }

    /** Sums broadcast dims away so the result has {@code target} shape (torch.sum_to_size). */
    public Tensor sumToSize(long... target) {
        if (Arrays.equals(shape, target)) return this;
        int lead = shape.length - target.length;
        if (lead < 0) {
            throw new IllegalArgumentException("size {" + Shapes.format(target) + "} is not expandable to size {"
                    + Shapes.format(shape) + "}.");
        }
        int[] dims = new int[shape.length];
        int count = 0;
        for (int d = 0; d < shape.length; d++) {
            if (d >= lead && target[d - lead] != shape[d] && target[d - lead] != 1) {
                throw new IllegalArgumentException("size {" + Shapes.format(target) + "} is not expandable to size {"
                        + Shapes.format(shape) + "}.");
            }
            if (d < lead || (target[d - lead] == 1 && shape[d] != 1)) dims[count++] = d;
        }
        Tensor summed = sum(Arrays.copyOf(dims, count), true);
        return lead == 0 ? summed : summed.reshape(target);
    }

    // ---------------------------------------------------------------- autograd

    /** Whether gradients flow to this tensor: a leaf marked with requiresGrad_, or a result of such. */
    public boolean requiresGrad() { return requiresGrad || gradFn != null; }

    /** Marks a leaf as needing (or not) its gradient, as PyTorch's requires_grad_. Floating dtypes only. */
    public Tensor requiresGrad_(boolean value) {
        if (gradFn != null) {
            if (value) return this;
            throw new IllegalStateException("you can only change requires_grad flags of leaf variables. If you want to use a"
                    + " computed variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().");
        }
        if (value && !dtype.isFloatingPoint()) {
            throw new IllegalArgumentException("only Tensors of floating point dtype can require gradients (got " + dtype + ")");
        }
        requiresGrad = value;
        return this;
    }

    public Tensor requiresGrad_() { return requiresGrad_(true); }

    /** True for tensors not produced by a recorded op (user-made tensors and parameters). */
    public boolean isLeaf() { return gradFn == null; }

    /** The gradient accumulated by backward (leaves only), or null. */
    public Tensor grad() { return grad; }

    /**
     * Replaces this tensor's gradient (null clears it), closing the previous one. The gradient
     * belongs to this tensor from then on: no scope closes it; it is closed with this tensor.
     */
    public void setGrad(Tensor g) {
        if (g == grad) return;
        if (g != null) {
            if (!Arrays.equals(g.shape, shape)) {
                throw new IllegalArgumentException("assigned grad has data of a different size: " + Shapes.format(g.shape)
                        + " vs " + Shapes.format(shape));
            }
            if (g.owner != null) g.owner.forget(g);
        }
        if (grad != null) grad.close();
        grad = g;
    }

    /** The node that produced this tensor, or null for a leaf. */
    public Node gradFn() { return gradFn; }

    void setGradFn(Node node) { gradFn = node; }

    /** The node backward follows into this tensor: its producer, or its leaf's accumulator; null if no grad. */
    public Node gradEdge() {
        if (gradFn != null) return gradFn;
        if (!requiresGrad) return null;
        if (accumulator == null) accumulator = Node.accumulator(this);
        return accumulator;
    }

    /** A new tensor on the same storage that is not part of any graph (torch.detach). */
    public Tensor detach() {
        return alias(shape, strides, offset);
    }

    /**
     * Registers {@code hook} to run on this tensor's gradient each time it is computed; it may
     * return a replacement (or its argument). Returns a handle whose close() removes the hook.
     */
    public HookHandle registerHook(UnaryOperator<Tensor> hook) {
        Node edge = gradEdge();
        if (edge == null) {
            throw new IllegalStateException("cannot register a hook on a tensor that doesn't require gradient");
        }
        edge.addHook(hook);
        return () -> edge.hooks().remove(hook);
    }

    /** What {@link #registerHook} returns: closing it removes the hook. */
    @FunctionalInterface
    public interface HookHandle extends AutoCloseable {
        @Override
        void close();
    }

    /** Backpropagates from this scalar: accumulates d(this)/d(leaf) into every leaf's grad. */
    public void backward() { backward(null, false, false); }

    /** Backpropagates {@code gradient} (same shape as this) into the leaves' grads. */
    public void backward(Tensor gradient) { backward(gradient, false, false); }

    /**
     * @param gradient    d(loss)/d(this), or null for a one-element tensor (taken as 1)
     * @param retainGraph keep the saved tensors so backward can run through the graph again
     * @param createGraph record the backward pass itself, for higher-order gradients
     */
    public void backward(Tensor gradient, boolean retainGraph, boolean createGraph) {
        checkOpen();
        if (!requiresGrad()) {
            throw new IllegalStateException("element 0 of tensors does not require grad and does not have a grad_fn");
        }
        if (gradient == null && numel() != 1) {
            throw new IllegalStateException("grad can be implicitly created only for scalar outputs");
        }
        BackwardEngine.get().backward(List.of(this), java.util.Collections.singletonList(gradient), retainGraph, createGraph);
    }

    // ---------------------------------------------------------------- arithmetic

    private Tensor binary(Tensor other, BinaryOp op) { return Elementwise.binary(this, other, op, null); }

    private Tensor binaryInPlace(Tensor other, BinaryOp op) { return Elementwise.binaryInPlace(this, other, op, null); }

    private Tensor scalarOp(double value, BinaryOp op, boolean inPlace) {
        DType type = TypePromotion.scalarType(value);
        // The scalar is held in the op's compute type, as PyTorch casts it: a float32 tensor
        // with a Java double then stays on the float32 Vector API path.
        DType compute = op.computeType(TypePromotion.resultType(this, type)).computeType();
        try (Tensor s = full0d(compute == DType.FLOAT32 ? DType.FLOAT32 : DType.FLOAT64, value)) {
            return inPlace ? Elementwise.binaryInPlace(this, s, op, type) : Elementwise.binary(this, s, op, type);
        }
    }

    private Tensor scalarOp(long value, BinaryOp op, boolean inPlace) {
        try (Tensor s = long0d(value)) {
            return inPlace ? Elementwise.binaryInPlace(this, s, op, DType.INT64) : Elementwise.binary(this, s, op, DType.INT64);
        }
    }

    private BinaryOp scaled(Tensor other, double alpha) {
        // PyTorch checks the result type, so int_tensor.add(float_tensor, alpha=0.5) is fine
        if (alpha != Math.rint(alpha) && !TypePromotion.resultType(this, other).isFloatingPoint()) {
            throw new IllegalArgumentException("For integral input tensors, argument alpha must not be a floating point number.");
        }
        return alpha == 1 ? BinaryOps.ADD : BinaryOps.addScaled(alpha);
    }

    public Tensor add(Tensor other) { return binary(other, BinaryOps.ADD); }

    /** this + alpha * other. */
    public Tensor add(Tensor other, double alpha) { return binary(other, scaled(other, alpha)); }

    public Tensor add(double value) { return scalarOp(value, BinaryOps.ADD, false); }

    public Tensor add(long value) { return scalarOp(value, BinaryOps.ADD, false); }

    public Tensor add_(Tensor other) { return binaryInPlace(other, BinaryOps.ADD); }

    public Tensor add_(Tensor other, double alpha) { return binaryInPlace(other, scaled(other, alpha)); }

    public Tensor add_(double value) { return scalarOp(value, BinaryOps.ADD, true); }

    public Tensor add_(long value) { return scalarOp(value, BinaryOps.ADD, true); }

    public Tensor sub(Tensor other) { return binary(checkSub(other), BinaryOps.SUB); }

    /** this - alpha * other. */
    public Tensor sub(Tensor other, double alpha) { return binary(checkSub(other), scaled(other, -alpha)); }

    public Tensor sub(double value) { return checkSub(null).scalarOp(value, BinaryOps.SUB, false); }

    public Tensor sub(long value) { return checkSub(null).scalarOp(value, BinaryOps.SUB, false); }

    public Tensor sub_(Tensor other) { return binaryInPlace(checkSub(other), BinaryOps.SUB); }

    public Tensor sub_(Tensor other, double alpha) { return binaryInPlace(checkSub(other), scaled(other, -alpha)); }

    public Tensor sub_(double value) { return checkSub(null).scalarOp(value, BinaryOps.SUB, true); }

    public Tensor sub_(long value) { return checkSub(null).scalarOp(value, BinaryOps.SUB, true); }

    /** PyTorch refuses subtraction with bool operands; returns {@code other} (or this, for a scalar). */
    private Tensor checkSub(Tensor other) {
        if (dtype == DType.BOOL && other != null && other.dtype == DType.BOOL) {
            throw new IllegalArgumentException("Subtraction, the `-` operator, with two bool tensors is not supported."
                    + " Use the `^` or `logical_xor()` operator instead.");
        }
        if (dtype == DType.BOOL || other != null && other.dtype == DType.BOOL) {
            throw new IllegalArgumentException("Subtraction, the `-` operator, with a bool tensor is not supported."
                    + " If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.");
        }
        return other != null ? other : this;
    }

    public Tensor mul(Tensor other) { return binary(other, BinaryOps.MUL); }

    public Tensor mul(double value) { return scalarOp(value, BinaryOps.MUL, false); }

    public Tensor mul(long value) { return scalarOp(value, BinaryOps.MUL, false); }

    public Tensor mul_(Tensor other) { return binaryInPlace(other, BinaryOps.MUL); }

    public Tensor mul_(double value) { return scalarOp(value, BinaryOps.MUL, true); }

    public Tensor mul_(long value) { return scalarOp(value, BinaryOps.MUL, true); }

    /** True division: integer tensors divide as float32. */
    public Tensor div(Tensor other) { return binary(other, BinaryOps.DIV); }

    public Tensor div(double value) { return scalarOp(value, BinaryOps.DIV, false); }

    public Tensor div_(Tensor other) { return binaryInPlace(other, BinaryOps.DIV); }

    public Tensor div_(double value) { return scalarOp(value, BinaryOps.DIV, true); }

    public Tensor neg() {
        if (dtype == DType.BOOL) {
            throw new IllegalArgumentException("Negation, the `-` operator, on a bool tensor is not supported. If you are trying"
                    + " to invert a mask, use the `~` or `logical_not()` operator instead.");
        }
        return Elementwise.unary(this, UnaryOps.NEG_OP);
    }

    public Tensor neg_() {
        if (dtype == DType.BOOL) return neg();
        return Elementwise.unaryInPlace(this, UnaryOps.NEG_OP);
    }

    public Tensor pow(Tensor exponent) { return binary(exponent, BinaryOps.POW); }

    public Tensor pow(double exponent) {
        return Elementwise.unary(this, UnaryOps.powScalar(exponent, false));
    }

    public Tensor pow(long exponent) {
        if (dtype == DType.BOOL) { // bool ** int is int64, as torch.tensor([True]).pow(2)
            try (Tensor asLong = contiguousAs(DType.INT64)) {
                return Elementwise.unary(asLong, UnaryOps.powScalar(exponent, true));
            }
        }
        return Elementwise.unary(this, UnaryOps.powScalar(exponent, true));
    }

    public Tensor pow_(double exponent) { return Elementwise.unaryInPlace(this, UnaryOps.powScalar(exponent, false)); }

    /** Python-style modulo: the result has the sign of the divisor. */
    public Tensor remainder(Tensor other) { return binary(other, BinaryOps.REMAINDER); }

    public Tensor remainder(double value) { return scalarOp(value, BinaryOps.REMAINDER, false); }

    public Tensor remainder(long value) { return scalarOp(value, BinaryOps.REMAINDER, false); }

    public Tensor remainder_(Tensor other) { return binaryInPlace(other, BinaryOps.REMAINDER); }

    /** Division rounded toward negative infinity. */
    public Tensor floorDivide(Tensor other) { return binary(other, BinaryOps.FLOOR_DIVIDE); }

    public Tensor floorDivide(double value) { return scalarOp(value, BinaryOps.FLOOR_DIVIDE, false); }

    public Tensor floorDivide(long value) { return scalarOp(value, BinaryOps.FLOOR_DIVIDE, false); }

    public Tensor floorDivide_(Tensor other) { return binaryInPlace(other, BinaryOps.FLOOR_DIVIDE); }

    /** Elementwise maximum of two tensors (torch.maximum). */
    public Tensor maximum(Tensor other) { return binary(other, BinaryOps.MAXIMUM); }

    /** Elementwise minimum of two tensors (torch.minimum). */
    public Tensor minimum(Tensor other) { return binary(other, BinaryOps.MINIMUM); }

    // ---------------------------------------------------------------- math

    private Tensor unary(UnaryOp op) { return Elementwise.unary(this, op); }

    private Tensor unaryInPlace(UnaryOp op) { return Elementwise.unaryInPlace(this, op); }

    public Tensor exp() { return unary(UnaryOps.EXP_OP); }
    public Tensor exp_() { return unaryInPlace(UnaryOps.EXP_OP); }
    public Tensor log() { return unary(UnaryOps.LOG_OP); }
    public Tensor log_() { return unaryInPlace(UnaryOps.LOG_OP); }
    public Tensor log1p() { return unary(UnaryOps.LOG1P_OP); }
    public Tensor log1p_() { return unaryInPlace(UnaryOps.LOG1P_OP); }
    public Tensor expm1() { return unary(UnaryOps.EXPM1_OP); }
    public Tensor expm1_() { return unaryInPlace(UnaryOps.EXPM1_OP); }
    public Tensor sqrt() { return unary(UnaryOps.SQRT_OP); }
    public Tensor sqrt_() { return unaryInPlace(UnaryOps.SQRT_OP); }
    public Tensor rsqrt() { return unary(UnaryOps.RSQRT); }
    public Tensor rsqrt_() { return unaryInPlace(UnaryOps.RSQRT); }
    public Tensor abs() { return unary(UnaryOps.ABS_OP); }
    public Tensor abs_() { return unaryInPlace(UnaryOps.ABS_OP); }
    public Tensor sign() { return unary(UnaryOps.SIGN); }
    public Tensor sign_() { return unaryInPlace(UnaryOps.SIGN); }
    public Tensor sin() { return unary(UnaryOps.SIN_OP); }
    public Tensor sin_() { return unaryInPlace(UnaryOps.SIN_OP); }
    public Tensor cos() { return unary(UnaryOps.COS_OP); }
    public Tensor cos_() { return unaryInPlace(UnaryOps.COS_OP); }
    public Tensor tanh() { return unary(UnaryOps.TANH_OP); }
    public Tensor tanh_() { return unaryInPlace(UnaryOps.TANH_OP); }
    public Tensor sigmoid() { return unary(UnaryOps.SIGMOID); }
    public Tensor sigmoid_() { return unaryInPlace(UnaryOps.SIGMOID); }
    public Tensor relu() { return unary(UnaryOps.RELU); }
    public Tensor relu_() { return unaryInPlace(UnaryOps.RELU); }
    public Tensor silu() { return unary(UnaryOps.SILU); }
    public Tensor silu_() { return unaryInPlace(UnaryOps.SILU); }
    public Tensor floor() { return unary(UnaryOps.FLOOR); }
    public Tensor floor_() { return unaryInPlace(UnaryOps.FLOOR); }
    public Tensor ceil() { return unary(UnaryOps.CEIL); }
    public Tensor ceil_() { return unaryInPlace(UnaryOps.CEIL); }
    /** Rounds half to even, as torch.round. */
    public Tensor round() { return unary(UnaryOps.ROUND); }
    public Tensor round_() { return unaryInPlace(UnaryOps.ROUND); }

    /** Exact GELU, x * Phi(x). */
    public Tensor gelu() { return unary(UnaryOps.GELU); }

    /** GELU with {@code approximate} "none" (exact) or "tanh", as torch.nn.functional.gelu. */
    public Tensor gelu(String approximate) {
        return switch (approximate) {
            case "none" -> unary(UnaryOps.GELU);
            case "tanh" -> unary(UnaryOps.GELU_TANH);
            default -> throw new IllegalArgumentException("approximate argument must be either none or tanh, got " + approximate);
        };
    }

    public Tensor softplus() { return softplus(1, 20); }

    public Tensor softplus(double beta, double threshold) { return unary(UnaryOps.softplus(beta, threshold)); }

    public Tensor clamp(double min, double max) { return unary(UnaryOps.clamp(min, max)); }
    public Tensor clamp_(double min, double max) { return unaryInPlace(UnaryOps.clamp(min, max)); }
    public Tensor clampMin(double min) { return unary(UnaryOps.clamp(min, null)); }
    public Tensor clampMin_(double min) { return unaryInPlace(UnaryOps.clamp(min, null)); }
    public Tensor clampMax(double max) { return unary(UnaryOps.clamp(null, max)); }
    public Tensor clampMax_(double max) { return unaryInPlace(UnaryOps.clamp(null, max)); }

    // ---------------------------------------------------------------- comparison and logic

    public Tensor eq(Tensor other) { return binary(other, BinaryOps.EQ); }
    public Tensor eq(double value) { return scalarOp(value, BinaryOps.EQ, false); }
    public Tensor ne(Tensor other) { return binary(other, BinaryOps.NE); }
    public Tensor ne(double value) { return scalarOp(value, BinaryOps.NE, false); }
    public Tensor lt(Tensor other) { return binary(other, BinaryOps.LT); }
    public Tensor lt(double value) { return scalarOp(value, BinaryOps.LT, false); }
    public Tensor le(Tensor other) { return binary(other, BinaryOps.LE); }
    public Tensor le(double value) { return scalarOp(value, BinaryOps.LE, false); }
    public Tensor gt(Tensor other) { return binary(other, BinaryOps.GT); }
    public Tensor gt(double value) { return scalarOp(value, BinaryOps.GT, false); }
    public Tensor ge(Tensor other) { return binary(other, BinaryOps.GE); }
    public Tensor ge(double value) { return scalarOp(value, BinaryOps.GE, false); }
    public Tensor logicalAnd(Tensor other) { return binary(other, BinaryOps.LOGICAL_AND); }
    public Tensor logicalOr(Tensor other) { return binary(other, BinaryOps.LOGICAL_OR); }
    public Tensor logicalNot() { return unary(UnaryOps.LOGICAL_NOT); }
    public Tensor isnan() { return unary(UnaryOps.ISNAN); }
    public Tensor isfinite() { return unary(UnaryOps.ISFINITE); }

    /** Elements of {@code a} where {@code condition} holds, else of {@code b}, all broadcast together. */
    public static Tensor where(Tensor condition, Tensor a, Tensor b) { return Elementwise.where(condition, a, b); }

    /** As torch.where(condition, this, other). */
    public Tensor where(Tensor condition, Tensor other) { return Elementwise.where(condition, this, other); }

    /** Whether both have the same shape and every element is equal (torch.equal). */
    public boolean equal(Tensor other) {
        if (!Arrays.equals(shape, other.shape)) return false;
        try (Tensor e = eq(other); Tensor all = e.all()) {
            return all.item() != 0;
        }
    }

    /** Whether |this - other| <= atol + rtol * |other| everywhere, NaN never close (torch.allclose). */
    public boolean allclose(Tensor other, double rtol, double atol) {
        try (Scope s = Ember.scope()) {
            Tensor a = to(DType.FLOAT64), b = other.to(DType.FLOAT64);
            Tensor ok = a.sub(b).abs().le(b.abs().mul(rtol).add(atol));
            return ok.all().item() != 0;
        }
    }

    // ---------------------------------------------------------------- reductions

    private static final int[] ALL = new int[0];

    /** Sum of all elements (int64 for integer and bool inputs). */
    public Tensor sum() { return sum(ALL, false); }
    public Tensor sum(int dim) { return sum(new int[] {dim}, false); }
    public Tensor sum(int dim, boolean keepdim) { return sum(new int[] {dim}, keepdim); }

    /** Sum over {@code dims} (empty: all). */
    public Tensor sum(int[] dims, boolean keepdim) {
        if (!Graph.needsGrad(this)) return Reductions.sum(this, dims, keepdim);
        Tensor out = Graph.untracked(() -> Reductions.sum(this, dims, keepdim));
        long[] in = shape;
        return Graph.record(out, "SumBackward1", (g, s) -> new Tensor[] {Graph.expandReduced(g, in, dims, keepdim)},
                new Tensor[] {this});
    }

    public Tensor mean() { return mean(ALL, false); }
    public Tensor mean(int dim) { return mean(new int[] {dim}, false); }
    public Tensor mean(int dim, boolean keepdim) { return mean(new int[] {dim}, keepdim); }

    /** Mean over {@code dims} (empty: all); floating dtypes only. */
    public Tensor mean(int[] dims, boolean keepdim) {
        if (!Graph.needsGrad(this)) return Reductions.mean(this, dims, keepdim);
        Tensor out = Graph.untracked(() -> Reductions.mean(this, dims, keepdim));
        long[] in = shape;
        long count = reducedCount(dims);
        return Graph.record(out, "MeanBackward1", (g, s) -> new Tensor[] {Graph.expandReduced(g, in, dims, keepdim).div(count)},
                new Tensor[] {this});
    }

    private long reducedCount(int[] dims) {
        long n = 1;
        for (int d : Graph.reducedDims(dims, shape.length)) n *= shape[d];
        return n;
    }

    public Tensor prod() { return prod(ALL, false); }
    public Tensor prod(int dim) { return prod(new int[] {dim}, false); }
    public Tensor prod(int dim, boolean keepdim) { return prod(new int[] {dim}, keepdim); }

    /**
     * Product over {@code dims}. Its gradient is the product of the other elements: y/x where x
     * is not zero; where a slice holds exactly one zero, that element gets the product of the
     * rest; with two or more zeros every gradient of the slice is zero.
     */
    private Tensor prod(int[] dims, boolean keepdim) {
        if (!Graph.needsGrad(this)) return Reductions.prod(this, dims, keepdim);
        Tensor out = Graph.untracked(() -> Reductions.prod(this, dims, keepdim));
        long[] in = shape;
        return Graph.record(out, "ProdBackward0", (g, s) -> {
            Tensor x = s[0], y = Graph.expandReduced(s[1], in, dims, keepdim);
            Tensor isZero = x.eq(0.0);
            Tensor zeros = Graph.expandReduced(isZero.sum(dims, keepdim), in, dims, keepdim);
            Tensor othersProd = Graph.expandReduced(Tensor.where(isZero, Tensor.onesLike(x), x).prod(dims, keepdim), in, dims, keepdim);
            Tensor atZero = Tensor.where(zeros.eq(1.0), othersProd, Tensor.zerosLike(x));
            Tensor grad = Tensor.where(isZero, atZero, y.div(Tensor.where(isZero, Tensor.onesLike(x), x)));
            return new Tensor[] {grad.mul(Graph.expandReduced(g, in, dims, keepdim))};
        }, new Tensor[] {this}, this, out);
    }

    /** The largest element, as a 0-d tensor (its gradient is shared evenly among ties). */
    public Tensor max() { return extremum(true); }

    /** The smallest element, as a 0-d tensor. */
    public Tensor min() { return extremum(false); }

    private Tensor extremum(boolean max) {
        if (!Graph.needsGrad(this)) return max ? Reductions.max(this) : Reductions.min(this);
        Tensor out = Graph.untracked(() -> max ? Reductions.max(this) : Reductions.min(this));
        return Graph.record(out, max ? "MaxBackward1" : "MinBackward1", (g, s) -> {
            Tensor hit = s[0].eq(s[1]);
            return new Tensor[] {hit.mul(g).div(hit.sum())};
        }, new Tensor[] {this}, this, out);
    }

    /** Largest values along {@code dim} and their indices. */
    public ValuesIndices max(int dim) { return max(dim, false); }
    public ValuesIndices max(int dim, boolean keepdim) { return extremum(dim, keepdim, true); }
    public ValuesIndices min(int dim) { return min(dim, false); }
    public ValuesIndices min(int dim, boolean keepdim) { return extremum(dim, keepdim, false); }

    private ValuesIndices extremum(int dim, boolean keepdim, boolean max) {
        if (!Graph.needsGrad(this)) return max ? Reductions.max(this, dim, keepdim) : Reductions.min(this, dim, keepdim);
        ValuesIndices r = Graph.untracked(() -> max ? Reductions.max(this, dim, keepdim) : Reductions.min(this, dim, keepdim));
        long[] in = shape;
        int[] dims = {dim};
        Graph.record(r.values(), max ? "MaxBackward0" : "MinBackward0", (g, s) -> {
            Tensor idx = Graph.unreduce(s[0], in, dims, keepdim);
            return new Tensor[] {zeros(g.device(), g.dtype, in).scatter(dim, idx, Graph.unreduce(g, in, dims, keepdim))};
        }, new Tensor[] {this}, r.indices());
        return r;
    }

    /** Index of the largest element of the flattened tensor. */
    public Tensor argmax() { return Reductions.argmax(this, null, false); }
    public Tensor argmax(int dim) { return Reductions.argmax(this, dim, false); }
    public Tensor argmax(int dim, boolean keepdim) { return Reductions.argmax(this, dim, keepdim); }
    public Tensor argmin() { return Reductions.argmin(this, null, false); }
    public Tensor argmin(int dim) { return Reductions.argmin(this, dim, false); }
    public Tensor argmin(int dim, boolean keepdim) { return Reductions.argmin(this, dim, keepdim); }

    /** Variance with Bessel's correction (correction 1), as torch.var. */
    public Tensor var() { return var(ALL, 1, false); }
    public Tensor var(int dim) { return var(new int[] {dim}, 1, false); }

    public Tensor var(int[] dims, double correction, boolean keepdim) {
        if (!Graph.needsGrad(this)) return Reductions.var(this, dims, correction, keepdim);
        Tensor out = Graph.untracked(() -> Reductions.var(this, dims, correction, keepdim));
        long[] in = shape;
        double scale = 2 / (reducedCount(dims) - correction);
        return Graph.record(out, "VarBackward0", (g, s) -> {
            Tensor centered = s[0].sub(s[0].mean(dims, true));
            return new Tensor[] {centered.mul(scale).mul(Graph.expandReduced(g, in, dims, keepdim))};
        }, new Tensor[] {this}, this);
    }

    public Tensor std() { return std(ALL, 1, false); }
    public Tensor std(int dim) { return std(new int[] {dim}, 1, false); }

    public Tensor std(int[] dims, double correction, boolean keepdim) {
        if (!Graph.needsGrad(this)) return Reductions.std(this, dims, correction, keepdim);
        Tensor out = Graph.untracked(() -> Reductions.std(this, dims, correction, keepdim));
        long[] in = shape;
        double dof = reducedCount(dims) - correction;
        return Graph.record(out, "StdBackward0", (g, s) -> {
            Tensor centered = s[0].sub(s[0].mean(dims, true));
            Tensor std = Graph.expandReduced(s[1], in, dims, keepdim);
            return new Tensor[] {centered.div(std.mul(dof)).mul(Graph.expandReduced(g, in, dims, keepdim))};
        }, new Tensor[] {this}, this, out);
    }

    /** The 2-norm of all elements. */
    public Tensor norm() { return norm(2, ALL, false); }
    public Tensor norm(double p) { return norm(p, ALL, false); }

    /** The p-norm over {@code dims}: p = 2, 1, +-inf, 0 (count of non-zeros) or any other p. */
    public Tensor norm(double p, int[] dims, boolean keepdim) {
        if (!Graph.needsGrad(this)) return Reductions.norm(this, p, dims, keepdim);
        Tensor out = Graph.untracked(() -> Reductions.norm(this, p, dims, keepdim));
        long[] in = shape;
        return Graph.record(out, "NormBackward1", (g, s) -> {
            Tensor x = s[0], n = Graph.expandReduced(s[1], in, dims, keepdim), ge = Graph.expandReduced(g, in, dims, keepdim);
            Tensor grad;
            if (p == 0) {
                grad = x.mul(0L);
            } else if (p == 1) {
                grad = x.sign();
            } else if (Double.isInfinite(p)) {
                Tensor hit = x.abs().eq(n);
                grad = x.sign().mul(hit).div(Graph.expandReduced(hit.sum(dims, keepdim), in, dims, keepdim));
            } else if (p == 2) {
                grad = Tensor.where(n.eq(0.0), Tensor.zerosLike(x), x.div(n));
            } else {
                grad = Tensor.where(n.eq(0.0), Tensor.zerosLike(x), x.mul(x.abs().pow(p - 2)).div(n.pow(p - 1)));
            }
            return new Tensor[] {grad.mul(ge)};
        }, new Tensor[] {this}, this, out);
    }

    public Tensor logsumexp(int dim) { return logsumexp(new int[] {dim}, false); }

    public Tensor logsumexp(int[] dims, boolean keepdim) {
        if (!Graph.needsGrad(this)) return Reductions.logsumexp(this, dims, keepdim);
        Tensor out = Graph.untracked(() -> Reductions.logsumexp(this, dims, keepdim));
        long[] in = shape;
        return Graph.record(out, "LogsumexpBackward0", (g, s) -> new Tensor[] {
                s[0].sub(Graph.expandReduced(s[1], in, dims, keepdim)).exp().mul(Graph.expandReduced(g, in, dims, keepdim))},
                new Tensor[] {this}, this, out);
    }

    /** Whether any element is non-zero, as a 0-d bool tensor. */
    public Tensor any() { return Reductions.any(this, ALL, false); }
    public Tensor any(int dim, boolean keepdim) { return Reductions.any(this, new int[] {dim}, keepdim); }
    public Tensor all() { return Reductions.all(this, ALL, false); }
    public Tensor all(int dim, boolean keepdim) { return Reductions.all(this, new int[] {dim}, keepdim); }

    /** softmax along {@code dim}; its backward is y * (g - sum(g * y)). */
    public Tensor softmax(int dim) {
        if (!Graph.needsGrad(this)) return Reductions.softmax(this, dim);
        Tensor out = Graph.untracked(() -> Reductions.softmax(this, dim));
        return Graph.record(out, "SoftmaxBackward0", (g, s) -> new Tensor[] {Reductions.softmaxBackward(g, s[0], dim, false)},
                new Tensor[] {this}, out);
    }

    /** log(softmax) along {@code dim}, computed stably; its backward is g - exp(y) * sum(g). */
    public Tensor logSoftmax(int dim) {
        if (!Graph.needsGrad(this)) return Reductions.logSoftmax(this, dim);
        Tensor out = Graph.untracked(() -> Reductions.logSoftmax(this, dim));
        return Graph.record(out, "LogSoftmaxBackward0", (g, s) -> new Tensor[] {Reductions.softmaxBackward(g, s[0], dim, true)},
                new Tensor[] {this}, out);
    }

    /** Running sum along {@code dim}; its backward is the reversed running sum of the gradient. */
    public Tensor cumsum(int dim) {
        if (!Graph.needsGrad(this)) return Reductions.cumsum(this, dim);
        Tensor out = Graph.untracked(() -> Reductions.cumsum(this, dim));
        return Graph.record(out, "CumsumBackward0", (g, s) -> new Tensor[] {
                g.sum(new int[] {dim}, true).sub(g.cumsum(dim)).add(g)}, new Tensor[] {this});
    }

    // ---------------------------------------------------------------- linear algebra

    /** Matrix product with torch.matmul's rules for 1-D, 2-D and batched (broadcast) operands. */
    public Tensor matmul(Tensor other) {
        if (!Graph.needsGrad(this, other)) return LinAlg.matmul(this, other);
        Tensor out = Graph.untracked(() -> LinAlg.matmul(this, other));
        return Graph.record(out, "MmBackward0", (g, s) -> matmulGrads(g, s[0], s[1]), new Tensor[] {this, other}, this, other);
    }

    /**
     * Gradients of a @ b with torch.matmul's rules: vectors are treated as a row (left) or a
     * column (right) matrix, and broadcast batch dims are summed back to each operand's shape.
     */
    static Tensor[] matmulGrads(Tensor g, Tensor a, Tensor b) {
        Tensor a2 = a.dim() == 1 ? a.unsqueeze(0) : a;
        Tensor b2 = b.dim() == 1 ? b.unsqueeze(1) : b;
        Tensor g2 = g;
        if (a.dim() == 1) g2 = g2.unsqueeze(g2.dim() == 0 ? 0 : Math.max(0, g2.dim() - (b.dim() == 1 ? 0 : 1)));
        if (b.dim() == 1) g2 = g2.unsqueeze(g2.dim());
        Tensor ga = g2.matmul(b2.transpose(-1, -2)).sumToSize(a2.shape).reshape(a.shape);
        Tensor gb = a2.transpose(-1, -2).matmul(g2).sumToSize(b2.shape).reshape(b.shape);
        return new Tensor[] {ga, gb};
    }

    /** 2-D matrix product. */
    public Tensor mm(Tensor other) {
        if (!Graph.needsGrad(this, other)) return LinAlg.mm(this, other);
        Tensor out = Graph.untracked(() -> LinAlg.mm(this, other));
        return Graph.record(out, "MmBackward0", (g, s) -> new Tensor[] {mmGrad1(g, s[0], s[1]), mmGrad2(g, s[0], s[1])},
                new Tensor[] {this, other}, this, other);
    }

    /**
     * The gradient of mat1 in mat1 @ mat2. When mat1 is column-major (a transposed contiguous
     * matrix, as weight.t()), it is computed as (mat2 @ g^T)^T, column-major too, as PyTorch
     * does: the same sums, and the leaf's grad then needs no strided copy into its layout.
     */
    private static Tensor mmGrad1(Tensor g, Tensor mat1, Tensor mat2) {
        return columnMajor(mat1) ? mat2.mm(g.t()).t() : g.mm(mat2.t());
    }

    /** The gradient of mat2 in mat1 @ mat2: (g^T @ mat1)^T when mat2 is column-major (see {@link #mmGrad1}). */
    private static Tensor mmGrad2(Tensor g, Tensor mat1, Tensor mat2) {
        return columnMajor(mat2) ? g.t().mm(mat1).t() : mat1.t().mm(g);
    }

    /** Whether a 2-D tensor is a transposed contiguous matrix (strides 1 and rows); a single column is not. */
    private static boolean columnMajor(Tensor m) {
        return m.shape[1] > 1 && m.strides[0] == 1 && m.strides[1] == m.shape[0];
    }

    /** Batched 3-D matrix product. */
    public Tensor bmm(Tensor other) {
        if (!Graph.needsGrad(this, other)) return LinAlg.bmm(this, other);
        Tensor out = Graph.untracked(() -> LinAlg.bmm(this, other));
        return Graph.record(out, "BmmBackward0", (g, s) -> new Tensor[] {g.bmm(s[1].transpose(1, 2)), s[0].transpose(1, 2).bmm(g)},
                new Tensor[] {this, other}, this, other);
    }

    /** beta * this + alpha * (mat1 @ mat2), this broadcast to the product's shape. */
    public Tensor addmm(Tensor mat1, Tensor mat2, double beta, double alpha) {
        if (!Graph.needsGrad(this, mat1, mat2)) return LinAlg.addmm(this, mat1, mat2, beta, alpha);
        Tensor out = Graph.untracked(() -> LinAlg.addmm(this, mat1, mat2, beta, alpha));
        long[] selfShape = shape;
        return Graph.record(out, "AddmmBackward0", (g, s) -> new Tensor[] {
                timesFactor(g, beta).sumToSize(selfShape), timesFactor(mmGrad1(g, s[0], s[1]), alpha),
                timesFactor(mmGrad2(g, s[0], s[1]), alpha)},
                new Tensor[] {this, mat1, mat2}, mat1, mat2);
    }

    public Tensor addmm(Tensor mat1, Tensor mat2) { return addmm(mat1, mat2, 1, 1); }

    /** t * factor, skipping the pass when the factor is 1 (the common case in backward formulas). */
    private static Tensor timesFactor(Tensor t, double factor) {
        return factor == 1 ? t : t.mul(factor);
    }

    /** Outer product of two vectors. */
    public Tensor outer(Tensor other) {
        if (!Graph.needsGrad(this, other)) return LinAlg.outer(this, other);
        Tensor out = Graph.untracked(() -> LinAlg.outer(this, other));
        return Graph.record(out, "OuterBackward0", (g, s) -> new Tensor[] {g.matmul(s[1]), g.t().matmul(s[0])},
                new Tensor[] {this, other}, this, other);
    }

    // ---------------------------------------------------------------- indexing

    /** out[i][j] = this[index[i][j]][j] (dim 0), and so on for other dims, as torch.gather. */
    public Tensor gather(int dim, Tensor index) {
        if (!Graph.needsGrad(this)) return Indexing.gather(this, dim, index);
        Tensor out = Graph.untracked(() -> Indexing.gather(this, dim, index));
        long[] in = shape;
        return Graph.record(out, "GatherBackward0", (g, s) -> new Tensor[] {zeros(g.device(), g.dtype, in).scatterAdd(dim, s[0], g)},
                new Tensor[] {this}, index);
    }

    /** A copy with src written at index along dim, as torch.scatter. */
    public Tensor scatter(int dim, Tensor index, Tensor src) {
        if (!Graph.needsGrad(this, src)) return Indexing.scatter(this, dim, index, src, false);
        Tensor out = Graph.untracked(() -> Indexing.scatter(this, dim, index, src, false));
        return Graph.record(out, "ScatterBackward0", (g, s) -> new Tensor[] {g.scatter(dim, s[0], 0.0), g.gather(dim, s[0])},
                new Tensor[] {this, src}, index);
    }

    public Tensor scatter_(int dim, Tensor index, Tensor src) {
        Elementwise.checkInPlaceGrad(this, src);
        return Indexing.scatter(this, dim, index, src, true);
    }

    public Tensor scatter(int dim, Tensor index, double value) {
        if (!Graph.needsGrad(this)) return Indexing.scatter(this, dim, index, value, false);
        Tensor out = Graph.untracked(() -> Indexing.scatter(this, dim, index, value, false));
        return Graph.record(out, "ScatterBackward1", (g, s) -> new Tensor[] {g.scatter(dim, s[0], 0.0)},
                new Tensor[] {this}, index);
    }

    public Tensor scatter_(int dim, Tensor index, double value) {
        Elementwise.checkInPlaceGrad(this, null);
        return Indexing.scatter(this, dim, index, value, true);
    }

    /** A copy with src added at index along dim (duplicates accumulate), as torch.scatter_add. */
    public Tensor scatterAdd(int dim, Tensor index, Tensor src) {
        if (!Graph.needsGrad(this, src)) return Indexing.scatterAdd(this, dim, index, src);
        Tensor out = Graph.untracked(() -> Indexing.scatterAdd(this, dim, index, src));
        return Graph.record(out, "ScatterAddBackward0", (g, s) -> new Tensor[] {g, g.gather(dim, s[0])},
                new Tensor[] {this, src}, index);
    }

    /** The entries at {@code index} (1-D, integer) along {@code dim}. */
    public Tensor indexSelect(int dim, Tensor index) {
        if (!Graph.needsGrad(this)) return Indexing.indexSelect(this, dim, index);
        Tensor out = Graph.untracked(() -> Indexing.indexSelect(this, dim, index));
        long[] in = shape;
        return Graph.record(out, "IndexSelectBackward0", (g, s) -> new Tensor[] {zeros(g.device(), g.dtype, in).indexAdd(dim, s[0], g)},
                new Tensor[] {this}, index);
    }

    /** A copy with the slices of {@code src} added at {@code index} along {@code dim} (torch.index_add). */
    public Tensor indexAdd(int dim, Tensor index, Tensor src) {
        if (!Graph.needsGrad(this, src)) return Indexing.indexAdd(this, dim, index, src);
        Tensor out = Graph.untracked(() -> Indexing.indexAdd(this, dim, index, src));
        return Graph.record(out, "IndexAddBackward0", (g, s) -> new Tensor[] {g, g.indexSelect(dim, s[0])},
                new Tensor[] {this, src}, index);
    }

    /** A copy with {@code value} where {@code mask} (bool, broadcastable) is true. */
    public Tensor maskedFill(Tensor mask, double value) {
        if (!Graph.needsGrad(this)) return Indexing.maskedFill(this, mask, value, false);
        Tensor out = Graph.untracked(() -> Indexing.maskedFill(this, mask, value, false));
        return Graph.record(out, "MaskedFillBackward0", (g, s) -> new Tensor[] {g.maskedFill(s[0], 0.0)},
                new Tensor[] {this}, mask);
    }

    public Tensor maskedFill_(Tensor mask, double value) {
        Elementwise.checkInPlaceGrad(this, null);
        return Indexing.maskedFill(this, mask, value, true);
    }

    /** One-hot encoding of an integer tensor: shape + [numClasses], int64; -1 infers the class count. */
    public Tensor oneHot(long numClasses) { return Indexing.oneHot(this, numClasses); }

    // ---------------------------------------------------------------- joining

    /** Concatenation along {@code dim}; each input's gradient is its slice of the output's. */
    public static Tensor cat(List<Tensor> tensors, int dim) {
        Tensor[] inputs = tensors.toArray(new Tensor[0]);
        if (!Graph.needsGrad(inputs)) return Joining.cat(tensors, dim);
        Tensor out = Graph.untracked(() -> Joining.cat(tensors, dim));
        long[] sizes = new long[inputs.length];
        int d = Shapes.wrapDim(dim, out.dim());
        for (int i = 0; i < inputs.length; i++) sizes[i] = inputs[i].dim() == 1 && inputs[i].numel() == 0 && out.dim() > 1 ? 0 : inputs[i].shape[d];
        return Graph.record(out, "CatBackward0", (g, s) -> {
            Tensor[] grads = new Tensor[sizes.length];
            long at = 0;
            for (int i = 0; i < sizes.length; i++) {
                grads[i] = sizes[i] == 0 && inputs[i].dim() != g.dim() ? null : g.narrow(d, at, sizes[i]);
                at += sizes[i];
            }
            return grads;
        }, inputs);
    }
    public static Tensor cat(List<Tensor> tensors) { return Joining.cat(tensors, 0); }
    /** Stacks equal-shaped tensors along a new dim; each input's gradient is its slice of the output's. */
    public static Tensor stack(List<Tensor> tensors, int dim) {
        Tensor[] inputs = tensors.toArray(new Tensor[0]);
        if (!Graph.needsGrad(inputs)) return Joining.stack(tensors, dim);
        Tensor out = Graph.untracked(() -> Joining.stack(tensors, dim));
        int d = Shapes.wrapDim(dim, out.dim());
        return Graph.record(out, "StackBackward0", (g, s) -> {
            Tensor[] grads = new Tensor[inputs.length];
            for (int i = 0; i < inputs.length; i++) grads[i] = g.select(d, i);
            return grads;
        }, inputs);
    }
    public static Tensor stack(List<Tensor> tensors) { return Joining.stack(tensors, 0); }
    /** Views of {@code splitSize} elements along dim (the last may be smaller). */
    public List<Tensor> split(long splitSize, int dim) { return Joining.split(this, splitSize, dim); }
    public List<Tensor> split(long[] sizes, int dim) { return Joining.split(this, sizes, dim); }
    public List<Tensor> chunk(int chunks, int dim) { return Joining.chunk(this, chunks, dim); }

    @Override
    public String toString() {
        if (closed) return "tensor(<closed>, shape=" + Shapes.format(shape) + ", dtype=" + dtype + ")";
        return TensorPrinter.format(this);
    }
}
