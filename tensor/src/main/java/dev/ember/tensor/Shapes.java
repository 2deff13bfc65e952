package dev.ember.tensor;

import java.util.Arrays;

/** Shape arithmetic and the checks (with PyTorch's messages) shared by every op. */
public final class Shapes {
    private Shapes() {}

    public static long numel(long[] shape) {
        long n = 1;
        for (long s : shape) n = Math.multiplyExact(n, s);
        return n;
    }

    /** Row-major (C-contiguous) strides in elements. */
    public static long[] contiguousStrides(long[] shape) {
        long[] strides = new long[shape.length];
        long s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            strides[i] = s;
            s *= Math.max(1, shape[i]);
        }
        return strides;
    }

    /** Whether (shape, strides) is row-major contiguous; size-1 dims may have any stride, as PyTorch. */
    public static boolean isContiguous(long[] shape, long[] strides) {
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] == 0) return true;
            if (shape[i] != 1) {
                if (strides[i] != expected) return false;
                expected *= shape[i];
            }
        }
        return true;
    }

    /** Wraps a possibly negative dim into [0, rank), with PyTorch's message when out of range. */
    public static int wrapDim(int dim, int rank) {
        int r = Math.max(rank, 1); // a 0-d tensor accepts dim 0 and -1, as PyTorch
        if (dim < -r || dim >= r) {
            throw new IndexOutOfBoundsException("Dimension out of range (expected to be in range of ["
                    + (-r) + ", " + (r - 1) + "], but got " + dim + ")");
        }
        return dim < 0 ? dim + r : dim;
    }

    /** The broadcast shape of two shapes, or PyTorch's error naming the mismatching dimension. */
    public static long[] broadcast(long[] a, long[] b) {
        int rank = Math.max(a.length, b.length);
        long[] out = new long[rank];
        for (int i = 0; i < rank; i++) {
            int ia = a.length - rank + i, ib = b.length - rank + i;
            long sa = ia >= 0 ? a[ia] : 1, sb = ib >= 0 ? b[ib] : 1;
            if (sa != sb && sa != 1 && sb != 1) {
                throw new IllegalArgumentException("The size of tensor a (" + sa + ") must match the size of tensor b ("
                        + sb + ") at non-singleton dimension " + i);
            }
            out[i] = sa == 1 ? sb : sa;
        }
        return out;
    }

    /** Strides that read a tensor of (shape, strides) as if it had {@code target} shape (0 where broadcast). */
    public static long[] broadcastStrides(long[] shape, long[] strides, long[] target) {
        long[] out = new long[target.length];
        int shift = target.length - shape.length;
        if (shift < 0) throw new IllegalArgumentException("cannot broadcast " + format(shape) + " to " + format(target));
        for (int i = 0; i < shape.length; i++) {
            long s = shape[i], t = target[i + shift];
            if (s == t) out[i + shift] = strides[i];
            else if (s == 1) out[i + shift] = 0;
            else {
                throw new IllegalArgumentException("The expanded size of the tensor (" + t
                        + ") must match the existing size (" + s + ") at non-singleton dimension " + (i + shift)
                        + ".  Target sizes: " + format(target) + ".  Tensor sizes: " + format(shape));
            }
        }
        return out;
    }

    /** Resolves one -1 in a requested shape and checks the element count, with PyTorch's message. */
    public static long[] inferShape(long[] requested, long numel) {
        long[] shape = requested.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException("only one dimension can be inferred");
                infer = i;
            } else if (shape[i] < 0) {
                throw new IllegalArgumentException("invalid shape dimension " + shape[i]);
            } else {
                known *= shape[i];
            }
        }
        if (infer >= 0) {
            if (known == 0 || numel % known != 0) {
                throw new IllegalArgumentException("shape '" + format(requested) + "' is invalid for input of size " + numel);
            }
            shape[infer] = numel / known;
        } else if (known != numel) {
            throw new IllegalArgumentException("shape '" + format(requested) + "' is invalid for input of size " + numel);
        }
        return shape;
    }

    public static void checkShape(long[] shape) {
        for (long s : shape) {
            if (s < 0) {
                throw new IllegalArgumentException("Trying to create tensor with negative dimension " + s + ": " + format(shape));
            }
        }
    }

    /** {@code [2, 3]}, as PyTorch prints sizes in messages. */
    public static String format(long[] shape) {
        return Arrays.toString(shape);
    }

    /** {@code 64x3136}, as PyTorch prints matrix shapes in matmul messages. */
    public static String formatX(long[] shape) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) sb.append('x');
            sb.append(shape[i]);
        }
        return sb.toString();
    }

    static long[] toLongs(int[] a) {
        long[] out = new long[a.length];
        for (int i = 0; i < a.length; i++) out[i] = a[i];
        return out;
    }
}
