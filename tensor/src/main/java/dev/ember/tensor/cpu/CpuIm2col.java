package dev.ember.tensor.cpu;

import dev.ember.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * im2col and its adjoint col2im for one NCHW image (layout in {@link CpuConvGeometry}).
 *
 * <p>Row (c, i, j) of the column matrix holds, for every output pixel (oh, ow), the input pixel
 * that kernel tap (i, j) of channel c sees there, or 0 where it falls into the padding. For a
 * tap, the output rows and columns that see real pixels form one rectangle, computed once per
 * tap, so the inner loops carry no bounds tests: each output row is a zero run, a copied run
 * (a contiguous one when the stride is 1) and another zero run.
 *
 * <p>im2col only moves bits, so one byte-vector path serves float32 and float64 alike; col2im
 * adds, so it has a float and a double path.
 */
public final class CpuIm2col {
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED;
    /** Elements that im2col moves as bits: 4-byte and 8-byte ones. */
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;
    /** Bytes from which MemorySegment's bulk copy and fill beat a vector loop (their setup is fixed). */
    private static final long BULK = 1024;

    private CpuIm2col() {}

    /** The output positions [lo, hi) at which one kernel tap reads inside the input along one axis. */
    private record Span(int lo, int hi) {
        /** Positions o with 0 ≤ o·stride + shift < size, for o in [0, out). */
        static Span of(int shift, int stride, int size, int out) {
            int lo = shift >= 0 ? 0 : Math.min(out, (-shift + stride - 1) / stride);
            int hi = size - 1 - shift < 0 ? 0 : Math.min(out, (size - 1 - shift) / stride + 1);
            return new Span(lo, Math.max(lo, hi));
        }

        boolean isEmpty() { return lo == hi; }
    }

    /**
     * Writes the column matrix of the contiguous image at element offset {@code in} of
     * {@code src} into {@code col} from element offset {@code colAt}, its rows
     * {@code rowStride} elements apart (at least outPlane; what lies between rows is left alone).
     */
    public static void im2col(DType dtype, CpuConvGeometry g, MemorySegment src, long in, MemorySegment col, long colAt,
            long rowStride) {
        int e = dtype.itemSize(), kh = g.kernelH(), kw = g.kernelW(), outW = g.outW();
        long rowBytes = rowStride * e, planeBytes = (long) g.inPlane() * e;
        // Stride 1 with the output as wide as the input ("same" padding): a tap's rows are one
        // shifted copy of the plane, so its whole rectangle goes in one copy.
        boolean shifted = g.strideH() == 1 && g.strideW() == 1 && outW == g.inW();
        for (int c = 0; c < g.inChannels(); c++) {
            long plane = in * e + c * planeBytes;
            for (int i = 0; i < kh; i++) {
                int ih0 = i * g.dilationH() - g.padH();
                Span rows = Span.of(ih0, g.strideH(), g.inH(), g.outH());
                for (int j = 0; j < kw; j++) {
                    int iw0 = j * g.dilationW() - g.padW();
                    Span cols = Span.of(iw0, g.strideW(), g.inW(), outW);
                    long dst = colAt * e + ((long) (c * kh + i) * kw + j) * rowBytes;
                    zero(col, dst, (long) rows.lo * outW * e);
                    zero(col, dst + (long) rows.hi * outW * e, (long) (g.outH() - rows.hi) * outW * e);
                    if (rows.isEmpty()) continue;
                    if (shifted) {
                        shiftedTap(e, g, src, plane, ih0, iw0, rows, cols, col, dst);
                    } else {
                        for (int oh = rows.lo; oh < rows.hi; oh++) {
                            long from = plane + ((long) (oh * g.strideH() + ih0) * g.inW() + (long) cols.lo * g.strideW() + iw0) * e;
                            long to = dst + (long) oh * outW * e;
                            zero(col, to, (long) cols.lo * e);
                            if (g.strideW() == 1) {
                                copy(src, from, col, to + (long) cols.lo * e, (long) (cols.hi - cols.lo) * e);
                            } else {
                                gather(e, src, from, (long) g.strideW() * e, col, to + (long) cols.lo * e, cols.hi - cols.lo);
                            }
                            zero(col, to + (long) cols.hi * e, (long) (outW - cols.hi) * e);
                        }
                    }
                }
            }
        }
    }

    /**
     * One tap of a stride-1 convolution whose output rows are as wide as the input's: copies the
     * valid rectangle as one shifted run (input and output pixels advance together), then zeroes
     * the columns at each row's ends, which the run filled from the neighbouring input rows.
     */
    private static void shiftedTap(int e, CpuConvGeometry g, MemorySegment src, long plane, int ih0, int iw0,
            Span rows, Span cols, MemorySegment col, long dst) {
        int w = g.outW();
        if (!cols.isEmpty()) {
            long first = (long) rows.lo * w + cols.lo, last = (long) (rows.hi - 1) * w + cols.hi;
            copy(src, plane + (first + (long) ih0 * w + iw0) * e, col, dst + first * e, (last - first) * e);
        }
        for (int oh = rows.lo; oh < rows.hi; oh++) {
            long to = dst + (long) oh * w * e;
            zero(col, to, (long) cols.lo * e);
            zero(col, to + (long) cols.hi * e, (long) (w - cols.hi) * e);
        }
    }

    /**
     * Adds the column matrix at element offset {@code colAt} of {@code col} back onto the
     * contiguous image at element offset {@code out} of {@code dst}: each input pixel receives the sum of the
     * entries that im2col copied from it. The image must be zeroed (or hold what to add onto).
     */
    public static void col2im(DType dtype, CpuConvGeometry g, MemorySegment col, long colAt, MemorySegment dst, long out) {
        boolean f32 = dtype == DType.FLOAT32;
        int e = dtype.itemSize(), kh = g.kernelH(), kw = g.kernelW(), outW = g.outW(), sw = g.strideW();
        long rowBytes = (long) g.outPlane() * e, planeBytes = (long) g.inPlane() * e;
        for (int c = 0; c < g.inChannels(); c++) {
            long plane = out * e + c * planeBytes;
            for (int i = 0; i < kh; i++) {
                int ih0 = i * g.dilationH() - g.padH();
                Span rows = Span.of(ih0, g.strideH(), g.inH(), g.outH());
                for (int j = 0; j < kw; j++) {
                    int iw0 = j * g.dilationW() - g.padW();
                    Span cols = Span.of(iw0, sw, g.inW(), outW);
                    if (cols.isEmpty()) continue;
                    long from = colAt * e + ((long) (c * kh + i) * kw + j) * rowBytes;
                    int n = cols.hi - cols.lo;
                    for (int oh = rows.lo; oh < rows.hi; oh++) {
                        long to = plane + ((long) (oh * g.strideH() + ih0) * g.inW() + (long) cols.lo * sw + iw0) * e;
                        long at = from + ((long) oh * outW + cols.lo) * e;
                        if (sw != 1) {
                            addStrided(f32, col, at, dst, to, (long) sw * e, n);
                        } else if (f32) {
                            addFloats(col, at, dst, to, n);
                        } else {
                            addDoubles(col, at, dst, to, n);
                        }
                    }
                }
            }
        }
    }

    /** n bytes from src to dst. */
    static void copy(MemorySegment src, long from, MemorySegment dst, long to, long n) {
        if (n >= BULK) {
            MemorySegment.copy(src, from, dst, to, n);
            return;
        }
        long i = 0;
        for (long bound = n - B.length(); i <= bound; i += B.length()) {
            ByteVector.fromMemorySegment(B, src, from + i, ORDER).intoMemorySegment(dst, to + i, ORDER);
        }
        if (i < n) {
            VectorMask<Byte> m = B.indexInRange(i, n);
            ByteVector.fromMemorySegment(B, src, from + i, ORDER, m).intoMemorySegment(dst, to + i, ORDER, m);
        }
    }

    /** n zero bytes into dst. */
    static void zero(MemorySegment dst, long to, long n) {
        if (n <= 0) return;
        if (n >= BULK) {
            dst.asSlice(to, n).fill((byte) 0);
            return;
        }
        ByteVector z = ByteVector.zero(B);
        long i = 0;
        for (long bound = n - B.length(); i <= bound; i += B.length()) z.intoMemorySegment(dst, to + i, ORDER);
        if (i < n) z.intoMemorySegment(dst, to + i, ORDER, B.indexInRange(i, n));
    }

    /** n elements of e bytes, {@code step} bytes apart in src, into a contiguous run of dst. */
    private static void gather(int e, MemorySegment src, long from, long step, MemorySegment dst, long to, int n) {
        if (e == 4) {
            for (int k = 0; k < n; k++) dst.set(I32, to + 4L * k, src.get(I32, from + k * step));
        } else {
            for (int k = 0; k < n; k++) dst.set(I64, to + 8L * k, src.get(I64, from + k * step));
        }
    }

    /** dst[k·step] += src[k] for n elements (byte offsets). */
    private static void addStrided(boolean f32, MemorySegment src, long from, MemorySegment dst, long to, long step, int n) {
        if (f32) {
            for (int k = 0; k < n; k++) {
                long at = to + k * step;
                dst.set(F32, at, dst.get(F32, at) + src.get(F32, from + 4L * k));
            }
        } else {
            for (int k = 0; k < n; k++) {
                long at = to + k * step;
                dst.set(F64, at, dst.get(F64, at) + src.get(F64, from + 8L * k));
            }
        }
    }

    /** dst[k] += src[k] for n floats (byte offsets). */
    static void addFloats(MemorySegment src, long from, MemorySegment dst, long to, int n) {
        int k = 0;
        for (int bound = n - F.length(); k <= bound; k += F.length()) {
            long o = to + 4L * k;
            FloatVector.fromMemorySegment(F, dst, o, ORDER).add(FloatVector.fromMemorySegment(F, src, from + 4L * k, ORDER))
                    .intoMemorySegment(dst, o, ORDER);
        }
        if (k < n) {
            VectorMask<Float> m = F.indexInRange(k, n);
            long o = to + 4L * k;
            FloatVector.fromMemorySegment(F, dst, o, ORDER, m).add(FloatVector.fromMemorySegment(F, src, from + 4L * k, ORDER, m))
                    .intoMemorySegment(dst, o, ORDER, m);
        }
    }

    /** dst[k] += src[k] for n doubles (byte offsets). */
    static void addDoubles(MemorySegment src, long from, MemorySegment dst, long to, int n) {
        int k = 0;
        for (int bound = n - D.length(); k <= bound; k += D.length()) {
            long o = to + 8L * k;
            DoubleVector.fromMemorySegment(D, dst, o, ORDER).add(DoubleVector.fromMemorySegment(D, src, from + 8L * k, ORDER))
                    .intoMemorySegment(dst, o, ORDER);
        }
        if (k < n) {
            VectorMask<Double> m = D.indexInRange(k, n);
            long o = to + 8L * k;
            DoubleVector.fromMemorySegment(D, dst, o, ORDER, m).add(DoubleVector.fromMemorySegment(D, src, from + 8L * k, ORDER, m))
                    .intoMemorySegment(dst, o, ORDER, m);
        }
    }
}
