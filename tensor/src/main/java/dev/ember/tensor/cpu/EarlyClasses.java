package dev.ember.tensor.cpu;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Loads, before any kernel is compiled, classes that would otherwise first appear mid-run and
 * make HotSpot throw compiled kernels away.
 *
 * <p>Why: C2 compiles a call on an abstract type that has one loaded implementation as a direct
 * call, recording that assumption (class hierarchy analysis); loading a second implementation
 * later deoptimises every method compiled under it. In the Fashion-MNIST example the run's first
 * heap memory segment (a byte[] one, 1.1 s in) deoptimised fourteen C2-compiled methods, the
 * first convolution's kernel among them, which then ran in the slow tiers for two more training
 * steps until C2 had compiled it again; the Vector API's first int mask (max pooling's) did the
 * same to methods compiled with float masks alone. With every kind loaded up front, nothing a
 * kernel relies on changes under it. (Kernels use heap segments over their scratch arrays and
 * masks of several lane types anyway, so the steady state has these classes loaded either way.)
 */
final class EarlyClasses {
    private EarlyClasses() {}

    static void load() {
        // a heap segment of every array kind: the native kind is loaded by the first tensor
        MemorySegment.ofArray(new byte[0]);
        MemorySegment.ofArray(new short[0]);
        MemorySegment.ofArray(new char[0]);
        MemorySegment.ofArray(new int[0]);
        MemorySegment.ofArray(new long[0]);
        MemorySegment.ofArray(new float[0]);
        MemorySegment.ofArray(new double[0]);
        // the vector, mask and shuffle classes of the lane types the kernels use, at their shape
        for (Class<?> lane : new Class<?>[] {float.class, double.class, int.class, long.class}) {
            VectorSpecies<?> s = VectorSpecies.of(lane, VectorShape.preferredShape());
            s.zero();
            s.maskAll(true);
            s.iotaShuffle(0, 1, false);
        }
    }
}
