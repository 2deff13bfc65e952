package dev.ember.tensor.cpu;

import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.F2D;

import dev.ember.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Per-channel reductions over a contiguous [N, C, S] tensor (S the product of the dims after the
 * channel), accumulated in double for float32 and float64 alike: batch-norm statistics and
 * gradient sums, and the bias gradient of a convolution. Channels are split across threads;
 * each channel is reduced by one thread in a fixed order, so results are deterministic.
 *
 * <p>Every reduction here is one kernel, {@link #moments}: per channel, Σ(a − α) and
 * Σ(a − α)(b − β) for per-channel shifts α and β.
 */
public final class CpuBatchNormStats {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED;

    private CpuBatchNormStats() {}

    /** Per-channel mean and biased variance (divided by N·S), for N·S > 0. */
    public record MeanVar(double[] mean, double[] var) {}

    /** Per-channel Σ dy and Σ dy·(x − mean), the sums batch-norm's backward needs. */
    public record GradSums(double[] sumDy, double[] sumDyXmu) {}

    /** Per-channel sums of x. */
    public static double[] sums(DType t, MemorySegment x, long off, long n, int c, long s) {
        double[][] m = moments(t, x, off, new double[c], null, 0, null, n, c, s);
        return m[0];
    }

    /**
     * Per-channel mean and biased variance in one pass, shifted by each channel's first element:
     * with d = x − x₀, var = (Σd² − (Σd)²/M) / M. The shift keeps Σd small next to Σd², so the
     * subtraction does not cancel even when the mean is large against the spread.
     */
    public static MeanVar meanVar(DType t, MemorySegment x, long off, long n, int c, long s) {
        double[] shift = new double[c];
        for (int ch = 0; ch < c; ch++) shift[ch] = load(t, x, off + ch * s);
        double[][] m = moments(t, x, off, shift, x, off, shift, n, c, s);
        double count = (double) n * s;
        double[] mean = new double[c], var = new double[c];
        for (int ch = 0; ch < c; ch++) {
            double d = m[0][ch] / count;
            mean[ch] = shift[ch] + d;
            var[ch] = Math.max(0, m[1][ch] / count - d * d);
        }
        return new MeanVar(mean, var);
    }

    /** Per-channel Σ dy and Σ dy·(x − mean). */
    public static GradSums gradSums(DType t, MemorySegment dy, long dyOff, MemorySegment x, long xOff, double[] mean,
            long n, int c, long s) {
        double[][] m = moments(t, dy, dyOff, new double[c], x, xOff, mean, n, c, s);
        return new GradSums(m[0], m[1]);
    }

    /**
     * Per channel ch: {Σ (a − α[ch]), Σ (a − α[ch])·(b − β[ch])} over the channel's N runs of S
     * elements; the second is left 0 when b is null. Offsets count elements.
     */
    private static double[][] moments(DType t, MemorySegment a, long aOff, double[] alpha, MemorySegment b, long bOff,
            double[] beta, long n, int c, long s) {
        double[] first = new double[c], second = new double[c];
        long perChannel = Math.max(1, n * s);
        Parallel.forRange(c, Math.max(1, Parallel.GRAIN / perChannel), (c0, c1) -> {
            double[] acc = new double[2];
            for (int ch = (int) c0; ch < c1; ch++) {
                double sa = 0, sab = 0;
                for (long i = 0; i < n; i++) {
                    long at = (i * c + ch) * s;
                    acc[0] = 0;
                    acc[1] = 0;
                    if (t == DType.FLOAT32) {
                        runFloat(a, aOff + at, alpha[ch], b, bOff + at, b == null ? 0 : beta[ch], s, acc);
                    } else {
                        runDouble(a, aOff + at, alpha[ch], b, bOff + at, b == null ? 0 : beta[ch], s, acc);
                    }
                    sa += acc[0];
                    sab += acc[1];
                }
                first[ch] = sa;
                second[ch] = sab;
            }
        });
        return new double[][] {first, second};
    }

    /** acc += {Σ (a − α), Σ (a − α)(b − β)} over one run of float32, widened to double lanes. */
    private static void runFloat(MemorySegment a, long aOff, double alpha, MemorySegment b, long bOff, double beta,
            long len, double[] acc) {
        DoubleVector va = DoubleVector.broadcast(D, alpha), vb = DoubleVector.broadcast(D, beta);
        DoubleVector s0 = DoubleVector.zero(D), s1 = DoubleVector.zero(D), p0 = DoubleVector.zero(D), p1 = DoubleVector.zero(D);
        long i = 0;
        for (long bound = len - F.length(); i <= bound; i += F.length()) {
            FloatVector x = FloatVector.fromMemorySegment(F, a, (aOff + i) * 4, ORDER);
            DoubleVector x0 = ((DoubleVector) x.convertShape(F2D, D, 0)).sub(va);
            DoubleVector x1 = ((DoubleVector) x.convertShape(F2D, D, 1)).sub(va);
            s0 = s0.add(x0);
            s1 = s1.add(x1);
            if (b != null) {
                FloatVector y = FloatVector.fromMemorySegment(F, b, (bOff + i) * 4, ORDER);
                p0 = x0.fma(((DoubleVector) y.convertShape(F2D, D, 0)).sub(vb), p0);
                p1 = x1.fma(((DoubleVector) y.convertShape(F2D, D, 1)).sub(vb), p1);
            }
        }
        double sa = CpuReductionVectors.joinLanes(s0.add(s1), ADD), sab = CpuReductionVectors.joinLanes(p0.add(p1), ADD);
        for (; i < len; i++) {
            double x = a.getAtIndex(F32, aOff + i) - alpha;
            sa += x;
            if (b != null) sab += x * (b.getAtIndex(F32, bOff + i) - beta);
        }
        acc[0] += sa;
        acc[1] += sab;
    }

    /** As {@link #runFloat}, for float64. */
    private static void runDouble(MemorySegment a, long aOff, double alpha, MemorySegment b, long bOff, double beta,
            long len, double[] acc) {
        DoubleVector va = DoubleVector.broadcast(D, alpha), vb = DoubleVector.broadcast(D, beta);
        DoubleVector s = DoubleVector.zero(D), p = DoubleVector.zero(D);
        long i = 0;
        for (long bound = len - D.length(); i <= bound; i += D.length()) {
            DoubleVector x = DoubleVector.fromMemorySegment(D, a, (aOff + i) * 8, ORDER).sub(va);
            s = s.add(x);
            if (b != null) p = x.fma(DoubleVector.fromMemorySegment(D, b, (bOff + i) * 8, ORDER).sub(vb), p);
        }
        double sa = CpuReductionVectors.joinLanes(s, ADD), sab = CpuReductionVectors.joinLanes(p, ADD);
        for (; i < len; i++) {
            double x = a.getAtIndex(F64, aOff + i) - alpha;
            sa += x;
            if (b != null) sab += x * (b.getAtIndex(F64, bOff + i) - beta);
        }
        acc[0] += sa;
        acc[1] += sab;
    }

    private static double load(DType t, MemorySegment x, long index) {
        return t == DType.FLOAT32 ? x.getAtIndex(F32, index) : x.getAtIndex(F64, index);
    }
}
