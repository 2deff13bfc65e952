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

    @Override
    public void apply(MemorySegment a, long aOff, boolean aScalar, MemorySegment b, long bOff, boolean bScalar,
                      MemorySegment c, long cOff, long n, float p) {
        int step = S.length();
        long bound = aScalar && bScalar ? 0 : n - n % step, i = 0;
        if (!aScalar && !bScalar) {
            for (; i < bound; i += step) {
                F.apply(FloatVector.fromMemorySegment(S, a, aOff + i * 4, ORDER), FloatVector.fromMemorySegment(S, b, bOff + i * 4, ORDER), p)
                        .intoMemorySegment(c, cOff + i * 4, ORDER);
            }
        } else if (bScalar && !aScalar) {
            FloatVector vb = FloatVector.broadcast(S, b.get(ValueLayout.JAVA_FLOAT_UNALIGNED, bOff));
            for (; i < bound; i += step) {
                F.apply(FloatVector.fromMemorySegment(S, a, aOff + i * 4, ORDER), vb, p).intoMemorySegment(c, cOff + i * 4, ORDER);
            }
        } else if (aScalar && !bScalar) {
            FloatVector va = FloatVector.broadcast(S, a.get(ValueLayout.JAVA_FLOAT_UNALIGNED, aOff));
            for (; i < bound; i += step) {
                F.apply(va, FloatVector.fromMemorySegment(S, b, bOff + i * 4, ORDER), p).intoMemorySegment(c, cOff + i * 4, ORDER);
            }
        }
        for (; i < n; i += step) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector va = aScalar ? FloatVector.broadcast(S, a.get(ValueLayout.JAVA_FLOAT_UNALIGNED, aOff))
                    : FloatVector.fromMemorySegment(S, a, aOff + i * 4, ORDER, m);
            FloatVector vb = bScalar ? FloatVector.broadcast(S, b.get(ValueLayout.JAVA_FLOAT_UNALIGNED, bOff))
                    : FloatVector.fromMemorySegment(S, b, bOff + i * 4, ORDER, m);
            F.apply(va, vb, p).intoMemorySegment(c, cOff + i * 4, ORDER, m);
        }
    }
}
