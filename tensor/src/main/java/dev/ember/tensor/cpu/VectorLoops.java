package dev.ember.tensor.cpu;

import java.lang.foreign.MemorySegment;
import java.util.function.BinaryOperator;
import java.util.function.UnaryOperator;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * float32 loops over contiguous runs on the Vector API, with a masked tail. Each op gets its
 * own compiled copy of the loop (see {@link LoopCopies} for why a shared loop would box every
 * vector). Ops with parameters (clamp's bounds, add's alpha) share one copy per kind of op and
 * take the parameters as arguments, so a new bound does not make a new class.
 */
public final class VectorLoops {
    public static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private VectorLoops() {}

    /** A float32 map over a contiguous run: dst[i] = f(src[i]); offsets in bytes. */
    @FunctionalInterface
    public interface FloatMap {
        void apply(MemorySegment src, long srcOff, MemorySegment dst, long dstOff, long n);
    }

    /**
     * A float32 zip over a contiguous run: c[i] = f(a[i], b[i]); offsets in bytes. An operand
     * flagged scalar is one value broadcast over the run.
     */
    @FunctionalInterface
    public interface FloatZip {
        void apply(MemorySegment a, long aOff, boolean aScalar, MemorySegment b, long bOff, boolean bScalar,
                   MemorySegment c, long cOff, long n);
    }

    /** The per-vector function of a map, with up to two parameters. */
    @FunctionalInterface
    public interface MapFn {
        FloatVector apply(FloatVector v, float p, float q);
    }

    /** The per-vector function of a zip, with one parameter. */
    @FunctionalInterface
    public interface ZipFn {
        FloatVector apply(FloatVector a, FloatVector b, float p);
    }

    /** A compiled map loop taking its parameters per call. */
    public interface MapKernel {
        void apply(MemorySegment src, long srcOff, MemorySegment dst, long dstOff, long n, float p, float q);
    }

    /** A compiled zip loop taking its parameter per call. */
    public interface ZipKernel {
        void apply(MemorySegment a, long aOff, boolean aScalar, MemorySegment b, long bOff, boolean bScalar,
                   MemorySegment c, long cOff, long n, float p);
    }

    /** The map loop specialised for {@code f}. Call once per op (at declaration), not per use. */
    public static FloatMap map(UnaryOperator<FloatVector> f) {
        MapKernel k = mapKernel((v, p, q) -> f.apply(v));
        return (s, so, d, o, n) -> k.apply(s, so, d, o, n, 0, 0);
    }

    /** The zip loop specialised for {@code f}. Call once per op (at declaration), not per use. */
    public static FloatZip zip(BinaryOperator<FloatVector> f) {
        ZipKernel k = zipKernel((a, b, p) -> f.apply(a, b));
        return (a, ao, as, b, bo, bs, c, co, n) -> k.apply(a, ao, as, b, bo, bs, c, co, n, 0);
    }

    /** A parameterised map loop; keep it in a static final and bind parameters per op instance. */
    public static MapKernel mapKernel(MapFn f) {
        return LoopCopies.copy(FloatMapLoop.class, f, MapKernel.class);
    }

    /** A parameterised zip loop; keep it in a static final and bind the parameter per op instance. */
    public static ZipKernel zipKernel(ZipFn f) {
        return LoopCopies.copy(FloatZipLoop.class, f, ZipKernel.class);
    }
}
