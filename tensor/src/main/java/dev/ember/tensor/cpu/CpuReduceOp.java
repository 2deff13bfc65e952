package dev.ember.tensor.cpu;

import java.lang.foreign.MemorySegment;
import java.util.function.DoubleBinaryOperator;
import java.util.function.LongBinaryOperator;

/**
 * The one declaration of a reduction that folds elements into an accumulator: what
 * {@link CpuReduction} needs to run it on any dtype and layout. See {@link CpuReduceOps} for the
 * declarations.
 *
 * <p>A reduction may be <em>centred</em>: each output position carries a value (the mean for
 * variance, the row maximum for logsumexp) computed by an earlier pass, which the accumulate
 * step and the finish see. Uncentred ops ignore it.
 *
 * @param name             the op's name, for messages and debugging
 * @param identity         the accumulator before any element (also the result over no elements, before finish)
 * @param accumulate       folds one element, read as double, into the accumulator
 * @param merge            combines two accumulators of consecutive ranges (left, right), for split work
 * @param finish           turns the accumulator over {@code count} elements into the result
 * @param integralIdentity the identity of the integer form
 * @param integral         the op on integer and bool inputs, exact in long (accumulate and merge at
 *                         once, no finish), or null to read them as double
 * @param vector           the float32 Vector API forms, or null to fold float32 per element
 */
public record CpuReduceOp(String name, double identity, Accumulate accumulate, DoubleBinaryOperator merge, Finish finish,
                          long integralIdentity, LongBinaryOperator integral, VectorForm vector) {

    /** acc' = f(acc, x) for an element x of the output position whose centre is {@code center}. */
    @FunctionalInterface
    public interface Accumulate {
        double apply(double acc, double x, double center);
    }

    /** The result from the accumulator over {@code count} elements. */
    @FunctionalInterface
    public interface Finish {
        double apply(double acc, long count, double center);
    }

    /**
     * The op over contiguous float32 memory. Both forms return or add accumulators in the op's
     * double representation, so they mix freely with the per-element form.
     */
    public record VectorForm(RunFold run, ColumnFold columns) {}

    /** The accumulator over the contiguous run of {@code n} floats at {@code offset} (bytes). */
    @FunctionalInterface
    public interface RunFold {
        double fold(MemorySegment s, long offset, long n, float center);
    }

    /**
     * Folds {@code rows} rows ({@code rowStride} bytes apart) of {@code cols} contiguous floats
     * at {@code offset} into the per-column accumulators {@code acc}, column j centred on
     * {@code centers[j]}.
     */
    @FunctionalInterface
    public interface ColumnFold {
        void fold(MemorySegment s, long offset, long rowStride, long rows, int cols, float[] centers, double[] acc);
    }

    /** A fold with no finish, no integer form and no vector form; add them with the {@code with} methods. */
    public static CpuReduceOp of(String name, double identity, Accumulate accumulate, DoubleBinaryOperator merge) {
        return new CpuReduceOp(name, identity, accumulate, merge, (acc, count, center) -> acc, 0, null, null);
    }

    public CpuReduceOp withName(String newName) {
        return new CpuReduceOp(newName, identity, accumulate, merge, finish, integralIdentity, integral, vector);
    }

    public CpuReduceOp withFinish(Finish f) {
        return new CpuReduceOp(name, identity, accumulate, merge, f, integralIdentity, integral, vector);
    }

    public CpuReduceOp withIntegral(long id, LongBinaryOperator op) {
        return new CpuReduceOp(name, identity, accumulate, merge, finish, id, op, vector);
    }

    public CpuReduceOp withoutIntegral() {
        return new CpuReduceOp(name, identity, accumulate, merge, finish, 0, null, vector);
    }

    public CpuReduceOp withVector(VectorForm form) {
        return new CpuReduceOp(name, identity, accumulate, merge, finish, integralIdentity, integral, form);
    }
}
