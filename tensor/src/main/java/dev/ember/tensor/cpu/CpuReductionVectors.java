package dev.ember.tensor.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float32 forms of the folding reductions on the Vector API: one loop,
 * {@link CpuReductionLoop}, copied per op by {@link LoopCopies} (which says why), with the op's
 * {@link Contribution}, combine and identity as the copy's constants.
 *
 * <p>Accuracy: each element's contribution (x, |x|, x², exp(x - c)...) is computed in float32,
 * then widened lane for lane to float64 and accumulated there. Float32 accumulators, even over
 * short blocks, leave an error near 1e-4 on a 16M-element sum of randn values, not within 1e-6
 * of a sum that happens to cancel to a few dozen; float64 lanes leave about 1e-9, for one
 * conversion per 8 floats.
 */
final class CpuReductionVectors {
    /** float64 accumulators. */
    static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /**
     * The float32 vectors, of the preferred shape: each widens into two float64 vectors, its
     * lower and upper halves. Not half-width vectors widened whole: every FloatVector in Ember
     * has the preferred shape, so the JIT's profiles of the Vector API's own methods (shared by
     * every caller) see one vector class. A second one made them polymorphic, and a kernel that
     * C2 compiled from a thin profile of its own then lost its intrinsics: the example's first
     * conv layer's weight gradient ran 5 to 7 times slower for the rest of some runs.
     */
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Floats per float64 vector: the width a fold adds in one step, half of F. */
    static final int GROUP = D.length();

    private static final ThreadLocal<double[]> LANES = ThreadLocal.withInitial(() -> new double[D.length()]);

    private CpuReductionVectors() {}

    /** What one element adds to the fold, lanewise: x itself, x², exp(x - centre)... */
    @FunctionalInterface
    interface Contribution {
        FloatVector apply(FloatVector x, FloatVector center);
    }

    /** A fold for one copy of the loop: contributions joined by {@code combine} (ADD, MAX or MIN) from {@code identity}. */
    record Spec(Contribution contribution, VectorOperators.Associative combine, double identity) {}

    /** The vector form of the fold of {@code contribution}s by {@code combine}, in its own copy of the loop. */
    static CpuReduceOp.VectorForm specialise(VectorOperators.Associative combine, double identity,
                                             Contribution contribution) {
        if (combine != VectorOperators.ADD && combine != VectorOperators.MAX && combine != VectorOperators.MIN) {
            throw new IllegalArgumentException("unsupported combine " + combine);
        }
        Object loop = LoopCopies.copy(CpuReductionLoop.class, new Spec(contribution, combine, identity), Object.class);
        return new CpuReduceOp.VectorForm((CpuReduceOp.RunFold) loop, (CpuReduceOp.ColumnFold) loop);
    }

    /** Half {@code part} (0: lanes below GROUP, 1: the rest) of v, widened to float64 lane for lane. */
    static DoubleVector widen(FloatVector v, int part) {
        return (DoubleVector) v.convertShape(VectorOperators.F2D, D, part);
    }

    /**
     * The lanes of {@code v} joined in lane order. Not reduceLanes, whose order differs between
     * the JIT's intrinsic and the interpreter's fallback: results must not change when code gets
     * compiled.
     */
    static double joinLanes(DoubleVector v, VectorOperators.Associative combine) {
        // into a per-thread array: toArray() allocated 1 MB a training step of the example in here
        double[] lanes = LANES.get();
        v.intoArray(lanes, 0);
        double total = lanes[0];
        for (int i = 1; i < lanes.length; i++) total = join(combine, total, lanes[i]);
        return total;
    }

    static double join(VectorOperators.Associative combine, double a, double b) {
        if (combine == VectorOperators.ADD) return a + b;
        return combine == VectorOperators.MAX ? Math.max(a, b) : Math.min(a, b);
    }
}
