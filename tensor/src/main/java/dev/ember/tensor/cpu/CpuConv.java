package dev.ember.tensor.cpu;

import dev.ember.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * 2-D convolution on the CPU as im2col + {@link Gemm}, float32 or float64, over contiguous
 * NCHW operands addressed by element offsets (as Gemm's). For group g of image n, with
 * col = im2col(x[n]) and W_g the group's [outChannels/groups × groupColRows] weight rows:
 * <pre>
 *   forward          y[n]_g  = W_g · col_g (+ bias)
 *   backward input   dx[n]   = col2im(W_gᵀ · dy[n]_g)
 *   backward weight  dW_g   += dy[n]_g · col_gᵀ, summed over n
 * </pre>
 * Images are split across threads (each product then runs on its own thread, its column
 * matrix in that thread's cache); a single image instead lets Gemm split the product. A
 * pointwise convolution (1×1, stride 1, no padding) multiplies the image itself.
 *
 * <p>Float32 convolutions with stride 1 (the common 3×3 "same" kind) skip the column matrix:
 * {@link CpuConvDirect} computes the forward and input-gradient passes straight from a padded
 * copy of each image, {@link CpuConvDirectWeight} the weight gradient. On small images the
 * column matrix and Gemm's packing of it cost about as much as the multiply itself. The weight
 * gradient of a convolution with only a few taps per channel (a first layer) takes
 * {@link CpuConvFewTaps} at any stride, and its forward pass at stride 1
 * {@link CpuConvFewTapsForward}.
 */
public final class CpuConv {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private CpuConv() {}

    /** y = conv(x, w) + bias; {@code bias} may be null. */
    public static void forward(DType t, CpuConvGeometry g, MemorySegment x, long xOff, MemorySegment w, long wOff,
            MemorySegment bias, long biasOff, MemorySegment y, long yOff) {
        if (direct(t, g) && CpuConvDirect.appliesToForward(g)) {
            CpuConvDirect.forward(g, x, xOff, w, wOff, bias, biasOff, y, yOff);
            return;
        }
        if (direct(t, g) && CpuConvFewTapsForward.applies(g)) {
            CpuConvFewTapsForward.forward(g, x, xOff, w, wOff, bias, biasOff, y, yOff);
            return;
        }
        int k = g.groupColRows(), p = g.outPlane(), cog = g.groupOutChannels();
        Parallel.forRange(g.batch(), 1, (start, end) -> {
            try (CpuConvScratch col = columns(t, g)) {
                for (long n = start; n < end; n++) {
                    MemorySegment b = g.pointwise() ? x : col.segment;
                    long bOff = g.pointwise() ? xOff + n * g.inImage() : 0;
                    if (!g.pointwise()) CpuIm2col.im2col(t, g, x, xOff + n * g.inImage(), b, 0, p);
                    long out = yOff + n * g.outImage();
                    for (int grp = 0; grp < g.groups(); grp++) {
                        Gemm.gemm(t, cog, p, k, 1, w, wOff + (long) grp * cog * k, k, 1,
                                b, bOff + (long) grp * k * p, p, 1, 0, y, out + (long) grp * cog * p, p, 1);
                    }
                    if (bias != null) addBias(t, y, out, g.outChannels(), p, bias, biasOff);
                }
            }
        });
    }

    /** dx = the gradient of conv(x, w) with respect to x, given dy. */
    public static void backwardInput(DType t, CpuConvGeometry g, MemorySegment dy, long dyOff, MemorySegment w, long wOff,
            MemorySegment dx, long dxOff) {
        if (direct(t, g) && CpuConvDirect.appliesToBackwardInput(g)) {
            CpuConvDirect.backwardInput(g, dy, dyOff, w, wOff, dx, dxOff);
            return;
        }
        int k = g.groupColRows(), p = g.outPlane(), cog = g.groupOutChannels();
        Parallel.forRange(g.batch(), 1, (start, end) -> {
            try (CpuConvScratch col = columns(t, g)) {
                for (long n = start; n < end; n++) {
                    long in = dxOff + n * g.inImage();
                    // pointwise: the column matrix is the image, so the product lands in dx directly
                    MemorySegment c = g.pointwise() ? dx : col.segment;
                    long cOff = g.pointwise() ? in : 0;
                    for (int grp = 0; grp < g.groups(); grp++) {
                        Gemm.gemm(t, k, p, cog, 1, w, wOff + (long) grp * cog * k, 1, k,
                                dy, dyOff + n * g.outImage() + (long) grp * cog * p, p, 1, 0, c, cOff + (long) grp * k * p, p, 1);
                    }
                    if (!g.pointwise()) {
                        CpuIm2col.zero(dx, in * t.itemSize(), g.inImage() * t.itemSize());
                        CpuIm2col.col2im(t, g, c, 0, dx, in);
                    }
                }
            }
        });
    }

    /**
     * dw = the gradient of conv(x, w) with respect to w, given dy. The batch is cut into one
     * contiguous share per thread; each share accumulates its own partial gradient (the first
     * straight into dw) and the partials are then added in share order, so the result does not
     * depend on thread timing.
     *
     * <p>When {@code db} is not null (outChannels long), the float32 kernels that read dy row by
     * row also sum it into the bias gradient there; returns whether db was filled (else the
     * caller sums dy itself).
     */
    public static boolean backwardWeight(DType t, CpuConvGeometry g, MemorySegment dy, long dyOff, MemorySegment x,
            long xOff, MemorySegment dw, long dwOff, double[] db) {
        int k = g.groupColRows(), p = g.outPlane(), cog = g.groupOutChannels(), batch = g.batch();
        long size = (long) g.outChannels() * k;
        if (batch == 0) {
            CpuIm2col.zero(dw, dwOff * t.itemSize(), size * t.itemSize());
            return false;
        }
        if (t == DType.FLOAT32 && CpuConvFewTaps.applies(g)) {
            CpuConvFewTaps.backwardWeight(g, dy, dyOff, x, xOff, dw, dwOff, db);
            return db != null;
        }
        if (direct(t, g)) {
            CpuConvDirectWeight.backwardWeight(g, dy, dyOff, x, xOff, dw, dwOff, db);
            return db != null;
        }
        int shares = Math.min(Parallel.numThreads(), batch);
        MemorySegment[] partial = new MemorySegment[shares];
        long[] partialOff = new long[shares];
        partial[0] = dw;
        partialOff[0] = dwOff;
        for (int s = 1; s < shares; s++) partial[s] = heap(t, size);
        Parallel.forTasks(shares, share -> {
            long start = (long) batch * share / shares, end = (long) batch * (share + 1) / shares;
            MemorySegment acc = partial[share];
            long accOff = partialOff[share];
            try (CpuConvScratch col = columns(t, g)) {
                for (long n = start; n < end; n++) {
                    MemorySegment b = g.pointwise() ? x : col.segment;
                    long bOff = g.pointwise() ? xOff + n * g.inImage() : 0;
                    if (!g.pointwise()) CpuIm2col.im2col(t, g, x, xOff + n * g.inImage(), b, 0, p);
                    double beta = n == start ? 0 : 1;
                    for (int grp = 0; grp < g.groups(); grp++) {
                        Gemm.gemm(t, cog, k, p, 1, dy, dyOff + n * g.outImage() + (long) grp * cog * p, p, 1,
                                b, bOff + (long) grp * k * p, 1, p, beta, acc, accOff + (long) grp * cog * k, k, 1);
                    }
                }
            }
        });
        for (int s = 1; s < shares; s++) addInto(t, partial[s], dw, dwOff, size);
        return false;
    }

    /** Whether the direct kernels may take the convolution: float32, stride 1 and not pointwise (which needs no im2col). */
    private static boolean direct(DType t, CpuConvGeometry g) {
        return t == DType.FLOAT32 && CpuConvDirect.stride1(g) && !g.pointwise();
    }

    /** Column scratch for one thread's images, or null when the convolution is pointwise. */
    private static CpuConvScratch columns(DType t, CpuConvGeometry g) {
        return g.pointwise() ? null : CpuConvScratch.take((long) g.colRows() * g.outPlane() * t.itemSize());
    }

    /** A zeroed heap buffer of n elements of t, reachable from every thread. */
    private static MemorySegment heap(DType t, long n) {
        return t == DType.FLOAT32 ? MemorySegment.ofArray(new float[Math.toIntExact(n)])
                : MemorySegment.ofArray(new double[Math.toIntExact(n)]);
    }

    /** Row r of the rows×p block at element offset {@code off} gets bias[r] added. */
    private static void addBias(DType t, MemorySegment y, long off, int rows, int p, MemorySegment bias, long biasOff) {
        for (int r = 0; r < rows; r++) {
            long at = (off + (long) r * p) * t.itemSize();
            if (t == DType.FLOAT32) {
                FloatVector b = FloatVector.broadcast(F, bias.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, biasOff + r));
                int i = 0;
                for (; i <= p - F.length(); i += F.length()) {
                    FloatVector.fromMemorySegment(F, y, at + 4L * i, ORDER).add(b).intoMemorySegment(y, at + 4L * i, ORDER);
                }
                VectorMask<Float> m = F.indexInRange(i, p);
                FloatVector.fromMemorySegment(F, y, at + 4L * i, ORDER, m).add(b).intoMemorySegment(y, at + 4L * i, ORDER, m);
            } else {
                DoubleVector b = DoubleVector.broadcast(D, bias.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, biasOff + r));
                int i = 0;
                for (; i <= p - D.length(); i += D.length()) {
                    DoubleVector.fromMemorySegment(D, y, at + 8L * i, ORDER).add(b).intoMemorySegment(y, at + 8L * i, ORDER);
                }
                VectorMask<Double> m = D.indexInRange(i, p);
                DoubleVector.fromMemorySegment(D, y, at + 8L * i, ORDER, m).add(b).intoMemorySegment(y, at + 8L * i, ORDER, m);
            }
        }
    }

    /** dst[i] += src[i] for n elements, src from its start, dst from element offset dstOff. */
    private static void addInto(DType t, MemorySegment src, MemorySegment dst, long dstOff, long n) {
        int chunk = 1 << 20;
        for (long i = 0; i < n; i += chunk) {
            int len = (int) Math.min(chunk, n - i);
            if (t == DType.FLOAT32) {
                CpuIm2col.addFloats(src, 4 * i, dst, 4 * (dstOff + i), len);
            } else {
                CpuIm2col.addDoubles(src, 8 * i, dst, 8 * (dstOff + i), len);
            }
        }
    }
}
