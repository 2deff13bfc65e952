package dev.ember.tensor.cpu;

import dev.ember.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The elementwise pass of batch normalisation over contiguous [N, C, S] tensors: every output
 * element is an affine function of one or two inputs with per-channel coefficients,
 * <pre>  out = (a − ma[c])·ka[c] + (b − mb[c])·kb[c] + k0[c]</pre>
 * which is the forward pass (a = x, ma the mean, ka = w·invstd, k0 the bias; no b) and the
 * input gradient (a = dy, b = x, mb the mean) alike. Inputs are centred before scaling, so a
 * mean that is large against the spread costs no precision. The coefficients are folded in
 * double by the caller and applied in the tensor's dtype. (N·C) runs are split across threads.
 */
public final class CpuBatchNorm {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED;

    private CpuBatchNorm() {}

    /** One input of {@link #combine}: element offset, per-channel centre and per-channel factor. */
    public record Term(MemorySegment data, long offset, double[] centre, double[] factor) {}

    /** out = (a − ma[c])·ka[c] + (b − mb[c])·kb[c] + k0[c] elementwise; b may be null. */
    public static void combine(DType t, long n, int c, long s, Term a, Term b, double[] k0, MemorySegment out, long outOff) {
        long runs = n * c;
        Parallel.forRange(runs, Math.max(1, Parallel.GRAIN / Math.max(1, s)), (r0, r1) -> {
            for (long r = r0; r < r1; r++) {
                int ch = (int) (r % c);
                long at = r * s;
                MemorySegment bd = b == null ? null : b.data;
                long bAt = b == null ? 0 : b.offset + at;
                double mb = b == null ? 0 : b.centre[ch], kb = b == null ? 0 : b.factor[ch];
                if (t == DType.FLOAT32) {
                    runFloat(a.data, a.offset + at, (float) a.centre[ch], (float) a.factor[ch], bd, bAt, (float) mb, (float) kb,
                            (float) k0[ch], out, outOff + at, s);
                } else {
                    runDouble(a.data, a.offset + at, a.centre[ch], a.factor[ch], bd, bAt, mb, kb, k0[ch], out, outOff + at, s);
                }
            }
        });
    }

    private static void runFloat(MemorySegment a, long aOff, float ma, float ka, MemorySegment b, long bOff, float mb, float kb,
            float k0, MemorySegment out, long outOff, long len) {
        FloatVector vma = FloatVector.broadcast(F, ma), vka = FloatVector.broadcast(F, ka);
        FloatVector vmb = FloatVector.broadcast(F, mb), vkb = FloatVector.broadcast(F, kb), vk0 = FloatVector.broadcast(F, k0);
        long i = 0;
        for (long bound = len - F.length(); i <= bound; i += F.length()) {
            FloatVector y = FloatVector.fromMemorySegment(F, a, (aOff + i) * 4, ORDER).sub(vma).fma(vka, vk0);
            if (b != null) y = FloatVector.fromMemorySegment(F, b, (bOff + i) * 4, ORDER).sub(vmb).fma(vkb, y);
            y.intoMemorySegment(out, (outOff + i) * 4, ORDER);
        }
        for (; i < len; i++) {
            float y = Math.fma(a.getAtIndex(F32, aOff + i) - ma, ka, k0);
            if (b != null) y = Math.fma(b.getAtIndex(F32, bOff + i) - mb, kb, y);
            out.setAtIndex(F32, outOff + i, y);
        }
    }

    private static void runDouble(MemorySegment a, long aOff, double ma, double ka, MemorySegment b, long bOff, double mb,
            double kb, double k0, MemorySegment out, long outOff, long len) {
        DoubleVector vma = DoubleVector.broadcast(D, ma), vka = DoubleVector.broadcast(D, ka);
        DoubleVector vmb = DoubleVector.broadcast(D, mb), vkb = DoubleVector.broadcast(D, kb), vk0 = DoubleVector.broadcast(D, k0);
        long i = 0;
        for (long bound = len - D.length(); i <= bound; i += D.length()) {
            DoubleVector y = DoubleVector.fromMemorySegment(D, a, (aOff + i) * 8, ORDER).sub(vma).fma(vka, vk0);
            if (b != null) y = DoubleVector.fromMemorySegment(D, b, (bOff + i) * 8, ORDER).sub(vmb).fma(vkb, y);
            y.intoMemorySegment(out, (outOff + i) * 8, ORDER);
        }
        for (; i < len; i++) {
            double y = Math.fma(a.getAtIndex(F64, aOff + i) - ma, ka, k0);
            if (b != null) y = Math.fma(b.getAtIndex(F64, bOff + i) - mb, kb, y);
            out.setAtIndex(F64, outOff + i, y);
        }
    }
}
