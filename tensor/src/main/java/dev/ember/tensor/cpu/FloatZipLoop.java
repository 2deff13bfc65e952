package dev.ember.tensor.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float32 zip loop, as a template: only ever used as a per-op copy made by
 * {@link VectorLoops#zip} (see {@link LoopCopies} for why), where {@link #F} is the op's function
 * (with an optional float parameter, e.g. add's alpha).
 * An operand flagged scalar is one value broadcast over the run.
 */
final class FloatZipLoop implements VectorLoops.ZipKernel {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final VectorLoops.ZipFn F = LoopCopies.classData(MethodHandles.lookup(), VectorLoops.ZipFn.class);

    /**
     * Each operand pattern has a loop of its own (a small method, compiled on its own), so that
     * the first call with a new pattern compiles that loop instead of invalidating and
     * recompiling one large method holding all of them: on a cold JVM the JIT's work competes
     * with the kernels for the cores.
     */
    @Override
    public void apply(MemorySegment a, long aOff, boolean aScalar, MemorySegment b, long bOff, boolean bScalar,
                      MemorySegment c, long cOff, long n, float p) {
        long bound = aScalar && bScalar ? 0 : n - n % S.length();
        if (!aScalar && !bScalar) {
            both(a, aOff, b, bOff, c, cOff, bound, p);
        } else if (bScalar && !aScalar) {
            scalarB(a, aOff, b.get(ValueLayout.JAVA_FLOAT_UNALIGNED, bOff), c, cOff, bound, p);
        } else if (aScalar && !bScalar) {
            scalarA(a.get(ValueLayout.JAVA_FLOAT_UNALIGNED, aOff), b, bOff, c, cOff, bound, p);
        }
        if (bound < n) tail(a, aOff, aScalar, b, bOff, bScalar, c, cOff, bound, n, p);
    }

    private static void both(MemorySegment a, long aOff, MemorySegment b, long bOff, MemorySegment c, long cOff, long bound,
                             float p) {
        for (long i = 0; i < bound; i += S.length()) {
            F.apply(FloatVector.fromMemorySegment(S, a, aOff + i * 4, ORDER), FloatVector.fromMemorySegment(S, b, bOff + i * 4, ORDER), p)
                    .intoMemorySegment(c, cOff + i * 4, ORDER);
        }
    }

    private static void scalarB(MemorySegment a, long aOff, float b, MemorySegment c, long cOff, long bound, float p) {
        FloatVector vb = FloatVector.broadcast(S, b);
        for (long i = 0; i < bound; i += S.length()) {
            F.apply(FloatVector.fromMemorySegment(S, a, aOff + i * 4, ORDER), vb, p).intoMemorySegment(c, cOff + i * 4, ORDER);
        }
    }

    private static void scalarA(float a, MemorySegment b, long bOff, MemorySegment c, long cOff, long bound, float p) {
        FloatVector va = FloatVector.broadcast(S, a);
        for (long i = 0; i < bound; i += S.length()) {
            F.apply(va, FloatVector.fromMemorySegment(S, b, bOff + i * 4, ORDER), p).intoMemorySegment(c, cOff + i * 4, ORDER);
        }
    }

    /** Elements from {@code from} to n (less than one vector, or all of them when both operands are scalars), masked. */
    private static void tail(MemorySegment a, long aOff, boolean aScalar, MemorySegment b, long bOff, boolean bScalar,
                             MemorySegment c, long cOff, long from, long n, float p) {
        for (long i = from; i < n; i += S.length()) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector va = aScalar ? FloatVector.broadcast(S, a.get(ValueLayout.JAVA_FLOAT_UNALIGNED, aOff))
                    : FloatVector.fromMemorySegment(S, a, aOff + i * 4, ORDER, m);
            FloatVector vb = bScalar ? FloatVector.broadcast(S, b.get(ValueLayout.JAVA_FLOAT_UNALIGNED, bOff))
                    : FloatVector.fromMemorySegment(S, b, bOff + i * 4, ORDER, m);
            F.apply(va, vb, p).intoMemorySegment(c, cOff + i * 4, ORDER, m);
        }
    }
}
