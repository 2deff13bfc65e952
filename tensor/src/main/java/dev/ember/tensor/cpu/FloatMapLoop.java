package dev.ember.tensor.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float32 map loop, as a template: only ever used as a per-op copy made by
 * {@link VectorLoops#map} (see {@link LoopCopies} for why), where {@link #F} is the op's function
 * (with up to two float parameters, e.g. clamp's bounds).
 */
final class FloatMapLoop implements VectorLoops.MapKernel {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final VectorLoops.MapFn F = LoopCopies.classData(MethodHandles.lookup(), VectorLoops.MapFn.class);

    @Override
    public void apply(MemorySegment src, long srcOff, MemorySegment dst, long dstOff, long n, float p, float q) {
        int step = S.length();
        long bound = n - n % step, i = 0;
        for (; i < bound; i += step) {
            F.apply(FloatVector.fromMemorySegment(S, src, srcOff + i * 4, ORDER), p, q).intoMemorySegment(dst, dstOff + i * 4, ORDER);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            F.apply(FloatVector.fromMemorySegment(S, src, srcOff + i * 4, ORDER, m), p, q).intoMemorySegment(dst, dstOff + i * 4, ORDER, m);
        }
    }
}
