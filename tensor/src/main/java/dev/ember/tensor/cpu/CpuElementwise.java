package dev.ember.tensor.cpu;

import dev.ember.tensor.BinaryOp;
import dev.ember.tensor.DType;
import dev.ember.tensor.UnaryOp;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * CPU kernels for elementwise ops over strided, broadcast operands of any dtype. Each run of the
 * innermost dimension takes the Vector API path when everything is float32 and contiguous (or
 * a broadcast scalar), else a per-element path computing in long (integer ops) or double.
 */
public final class CpuElementwise {
    private CpuElementwise() {}

    /** out = op(in), computing in {@code compute}. */
    public static void unary(UnaryOp op, DType compute, long[] shape, Strided out, Strided in) {
        MemorySegment o = out.segment(), x = in.segment();
        DType ot = out.dtype(), it = in.dtype();
        boolean vector = op.vector() != null && ot == DType.FLOAT32 && it == DType.FLOAT32 && compute == DType.FLOAT32;
        boolean integral = !compute.isFloatingPoint() && op.integral() != null;
        StridedLoop.run(shape, new long[][] {out.byteStrides(), in.byteStrides()},
                new long[] {out.byteOffset(), in.byteOffset()}, true, (n, off, st) -> {
                    if (vector && st[0] == 4 && st[1] == 4) {
                        op.vector().apply(x, off[1], o, off[0], n);
                    } else if (integral) {
                        for (long i = 0; i < n; i++) {
                            Elements.putLong(o, ot, off[0] + i * st[0], op.integral().applyAsLong(Elements.getLong(x, it, off[1] + i * st[1])));
                        }
                    } else {
                        for (long i = 0; i < n; i++) {
                            Elements.putDouble(o, ot, off[0] + i * st[0], op.math().applyAsDouble(Elements.getDouble(x, it, off[1] + i * st[1])));
                        }
                    }
                });
    }

    /** out = op(a, b), computing in {@code compute}; a and b are read in their own dtypes. */
    public static void binary(BinaryOp op, DType compute, long[] shape, Strided out, Strided a, Strided b) {
        MemorySegment o = out.segment(), x = a.segment(), y = b.segment();
        DType ot = out.dtype(), at = a.dtype(), bt = b.dtype();
        boolean vector = op.vector() != null && ot == DType.FLOAT32 && at == DType.FLOAT32 && bt == DType.FLOAT32
                && compute == DType.FLOAT32;
        boolean integral = !compute.isFloatingPoint() && op.integral() != null;
        StridedLoop.run(shape, new long[][] {out.byteStrides(), a.byteStrides(), b.byteStrides()},
                new long[] {out.byteOffset(), a.byteOffset(), b.byteOffset()}, true, (n, off, st) -> {
                    if (vector && st[0] == 4 && (st[1] == 4 || st[1] == 0) && (st[2] == 4 || st[2] == 0)) {
                        op.vector().apply(x, off[1], st[1] == 0, y, off[2], st[2] == 0, o, off[0], n);
                    } else if (integral) {
                        for (long i = 0; i < n; i++) {
                            long r = op.integral().applyAsLong(Elements.getLong(x, at, off[1] + i * st[1]),
                                    Elements.getLong(y, bt, off[2] + i * st[2]));
                            Elements.putLong(o, ot, off[0] + i * st[0], r);
                        }
                    } else {
                        for (long i = 0; i < n; i++) {
                            // operands are cast to the compute type first, as PyTorch's (int64 16777217 == 16777216f)
                            double r = op.math().applyAsDouble(round(Elements.getDouble(x, at, off[1] + i * st[1]), compute),
                                    round(Elements.getDouble(y, bt, off[2] + i * st[2]), compute));
                            Elements.putDouble(o, ot, off[0] + i * st[0], round(r, compute));
                        }
                    }
                });
    }

    /** out = cond ? a : b. */
    public static void where(long[] shape, Strided out, Strided cond, Strided a, Strided b) {
        MemorySegment o = out.segment(), c = cond.segment(), x = a.segment(), y = b.segment();
        DType ot = out.dtype(), ct = cond.dtype(), at = a.dtype(), bt = b.dtype();
        boolean integral = !ot.isFloatingPoint();
        StridedLoop.run(shape, new long[][] {out.byteStrides(), cond.byteStrides(), a.byteStrides(), b.byteStrides()},
                new long[] {out.byteOffset(), cond.byteOffset(), a.byteOffset(), b.byteOffset()}, true, (n, off, st) -> {
                    for (long i = 0; i < n; i++) {
                        boolean pick = Elements.getLong(c, ct, off[1] + i * st[1]) != 0;
                        long oo = off[0] + i * st[0];
                        if (integral) {
                            Elements.putLong(o, ot, oo, pick ? Elements.getLong(x, at, off[2] + i * st[2])
                                    : Elements.getLong(y, bt, off[3] + i * st[3]));
                        } else {
                            Elements.putDouble(o, ot, oo, pick ? Elements.getDouble(x, at, off[2] + i * st[2])
                                    : Elements.getDouble(y, bt, off[3] + i * st[3]));
                        }
                    }
                });
    }

    /** out = in, converting dtype; {@code in} may be broadcast over {@code shape}. */
    public static void copy(long[] shape, Strided out, Strided in) {
        MemorySegment o = out.segment(), x = in.segment();
        DType ot = out.dtype(), it = in.dtype();
        int size = ot.itemSize();
        boolean sameType = ot == it;
        boolean integral = !ot.isFloatingPoint() && !it.isFloatingPoint();
        StridedLoop.run(shape, new long[][] {out.byteStrides(), in.byteStrides()},
                new long[] {out.byteOffset(), in.byteOffset()}, true, (n, off, st) -> {
                    if (sameType && st[0] == size && st[1] == size) {
                        MemorySegment.copy(x, off[1], o, off[0], n * size);
                    } else if (sameType) {
                        copyBits(x, off[1], st[1], o, off[0], st[0], n, size);
                    } else if (integral) {
                        for (long i = 0; i < n; i++) {
                            Elements.putLong(o, ot, off[0] + i * st[0], Elements.getLong(x, it, off[1] + i * st[1]));
                        }
                    } else {
                        for (long i = 0; i < n; i++) {
                            Elements.putDouble(o, ot, off[0] + i * st[0], Elements.getDouble(x, it, off[1] + i * st[1]));
                        }
                    }
                });
    }

    /** Strided copy of raw elements of one width: no conversion, so no per-element dtype dispatch. */
    private static void copyBits(MemorySegment src, long so, long ss, MemorySegment dst, long d, long ds, long n, int size) {
        switch (size) {
            case 1 -> { for (long i = 0; i < n; i++) dst.set(ValueLayout.JAVA_BYTE, d + i * ds, src.get(ValueLayout.JAVA_BYTE, so + i * ss)); }
            case 2 -> { for (long i = 0; i < n; i++) dst.set(Elements.I16, d + i * ds, src.get(Elements.I16, so + i * ss)); }
            case 4 -> { for (long i = 0; i < n; i++) dst.set(Elements.I32, d + i * ds, src.get(Elements.I32, so + i * ss)); }
            default -> { for (long i = 0; i < n; i++) dst.set(Elements.I64, d + i * ds, src.get(Elements.I64, so + i * ss)); }
        }
    }

    /** Rounds a float64 result to the compute type, so float32 ops round as float32 math would. */
    private static double round(double v, DType compute) {
        return compute == DType.FLOAT32 ? (float) v : v;
    }
}
