package dev.ember.tensor.cuda;

import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * The iteration geometry of an elementwise kernel: one shape and up to four operands' strides
 * (operand 0 the output), laid out as the kernels' {@code EmberLayout4} struct (see
 * native-kernels/src/main/cuda/elementwise.cu): sizes[8] at 0, strides[4][8] at 64, ndim at 320,
 * flags at 324; 328 bytes passed by value.
 *
 * <p>Before it is written, the geometry is simplified as PyTorch's TensorIterator does: size-1
 * dimensions are dropped and neighbours that every operand walks as one (outer stride = inner
 * stride × inner size) are merged, so a contiguous tensor of any rank is one dimension and the
 * kernel does the least index arithmetic.
 */
public final class CudaLayout {
    public static final int MAX_DIMS = 8;
    public static final int MAX_OPERANDS = 4;
    public static final long BYTES = 328;
    /** flags bit 0: every operand is contiguous with the one shape (no broadcast). */
    public static final int CONTIGUOUS = 1;

    private final long[] sizes;
    private final long[][] strides;

    private CudaLayout(long[] sizes, long[][] strides) {
        this.sizes = sizes;
        this.strides = strides;
    }

    /**
     * The simplified geometry of {@code shape} walked by operands with the given strides (in
     * elements, one array per operand, each as long as the shape).
     */
    public static CudaLayout of(long[] shape, long[]... operandStrides) {
        if (operandStrides.length == 0 || operandStrides.length > MAX_OPERANDS) {
            throw new IllegalArgumentException("an elementwise kernel takes 1 to " + MAX_OPERANDS + " operands, not "
                    + operandStrides.length);
        }
        int ops = operandStrides.length;
        long[] sizes = new long[shape.length];
        long[][] strides = new long[ops][shape.length];
        int n = 0;
        boolean empty = Arrays.stream(shape).anyMatch(s -> s == 0);
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] == 1 && !empty) continue;
            if (n > 0 && mergeable(sizes[n - 1], strides, n - 1, shape[d], operandStrides, d)) {
                // the kept (outer) dimension absorbs this inner one: its stride becomes the inner stride
                sizes[n - 1] *= shape[d];
                for (int k = 0; k < ops; k++) strides[k][n - 1] = operandStrides[k][d];
                continue;
            }
            sizes[n] = shape[d];
            for (int k = 0; k < ops; k++) strides[k][n] = operandStrides[k][d];
            n++;
        }
        if (n > MAX_DIMS) {
            throw new IllegalArgumentException("CUDA elementwise kernels take at most " + MAX_DIMS
                    + " dimensions after merging, got " + n + " for shape " + Arrays.toString(shape));
        }
        long[][] kept = new long[ops][];
        for (int k = 0; k < ops; k++) kept[k] = Arrays.copyOf(strides[k], n);
        return new CudaLayout(Arrays.copyOf(sizes, n), kept);
    }

    /** Whether outer dimension (size, strides at column o) and inner dimension d can be walked as one. */
    private static boolean mergeable(long outerSize, long[][] outer, int o, long innerSize, long[][] inner, int d) {
        for (int k = 0; k < outer.length; k++) {
            if (outer[k][o] != inner[k][d] * innerSize) return false;
        }
        return outerSize > 0 && innerSize > 0;
    }

    public int ndim() { return sizes.length; }

    public long[] sizes() { return sizes.clone(); }

    public long[] strides(int operand) { return strides[operand].clone(); }

    public long numel() {
        long n = 1;
        for (long s : sizes) n *= s;
        return n;
    }

    /** Whether every operand walks the elements in order with unit stride (one dimension of stride 1, or none). */
    public boolean contiguous() {
        if (sizes.length == 0) return true;
        if (sizes.length > 1) return false;
        for (long[] s : strides) if (s[0] != 1) return false;
        return true;
    }

    /** The struct, as the kernels read it (native byte order). */
    public MemorySegment toStruct(SegmentAllocator arena) {
        MemorySegment m = arena.allocate(BYTES, 8);
        for (int d = 0; d < sizes.length; d++) {
            m.setAtIndex(ValueLayout.JAVA_LONG, d, sizes[d]);
            for (int k = 0; k < strides.length; k++) m.setAtIndex(ValueLayout.JAVA_LONG, 8 + 8L * k + d, strides[k][d]);
        }
        m.set(ValueLayout.JAVA_INT, 320, sizes.length);
        m.set(ValueLayout.JAVA_INT, 324, contiguous() ? CONTIGUOUS : 0);
        return m;
    }

    /**
     * A two-operand geometry (destination, source) as strided_copy.cu's {@code EmberStridedLayout}:
     * sizes[8] at 0, dst strides at 64, src strides at 128, ndim at 192; 200 bytes.
     */
    public MemorySegment toCopyStruct(SegmentAllocator arena) {
        if (strides.length != 2) throw new IllegalStateException("a copy has 2 operands, not " + strides.length);
        MemorySegment m = arena.allocate(200, 8);
        for (int d = 0; d < sizes.length; d++) {
            m.setAtIndex(ValueLayout.JAVA_LONG, d, sizes[d]);
            m.setAtIndex(ValueLayout.JAVA_LONG, 8 + d, strides[0][d]);
            m.setAtIndex(ValueLayout.JAVA_LONG, 16 + d, strides[1][d]);
        }
        m.set(ValueLayout.JAVA_INT, 192, sizes.length);
        return m;
    }

    /** The element offset of each operand at linear index i (row-major over the sizes): what the kernel computes. */
    public long[] offsetsAt(long i) {
        long[] off = new long[strides.length];
        for (int d = sizes.length - 1; d >= 0; d--) {
            long c = i % sizes[d];
            i /= sizes[d];
            for (int k = 0; k < strides.length; k++) off[k] += c * strides[k][d];
        }
        return off;
    }
}
