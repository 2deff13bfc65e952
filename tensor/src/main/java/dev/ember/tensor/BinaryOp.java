package dev.ember.tensor;

import java.util.function.DoubleBinaryOperator;
import java.util.function.LongBinaryOperator;
import dev.ember.tensor.cpu.VectorLoops.FloatZip;

/**
 * The one declaration of an elementwise op of two inputs (broadcast together): name, dtype
 * rule, float64 math, integer math (null when integers are promoted to float), and an optional
 * float32 Vector API form. See {@link BinaryOps} for the declarations.
 */
public record BinaryOp(String name, Result result, DoubleBinaryOperator math, LongBinaryOperator integral,
                       FloatZip vector, Grad grad, double alpha) {

    /** An op without a derivative yet; add one with {@link #withGrad}. */
    public BinaryOp(String name, Result result, DoubleBinaryOperator math, LongBinaryOperator integral, FloatZip vector) {
        this(name, result, math, integral, vector, null, 1);
    }

    /**
     * The op's scalar parameter as its CUDA kernel takes it ({@code alpha}: add and sub compute
     * a ± alpha·b); 1 unless set. The CPU forms have it bound into their math already.
     */
    public BinaryOp withAlpha(double a) {
        return new BinaryOp(name, result, math, integral, vector, grad, a);
    }

    /**
     * The derivative: both inputs' gradients (before reduction to the inputs' shapes, which the
     * recorder does) from the output's gradient, and whether it needs the inputs and the output.
     */
    public record Grad(boolean needsInputs, boolean needsOutput, Formula formula) {}

    /** {grad_a, grad_b} = formula(grad_output, a, b, output); unneeded arguments are null. */
    @FunctionalInterface
    public interface Formula {
        Tensor[] apply(Tensor grad, Tensor a, Tensor b, Tensor output);
    }

    public BinaryOp withGrad(boolean needsInputs, boolean needsOutput, Formula formula) {
        return new BinaryOp(name, result, math, integral, vector, new Grad(needsInputs, needsOutput, formula), alpha);
    }

    /** How the output dtype follows from the promoted input dtype. */
    public enum Result {
        /** The promoted type (add, mul, remainder...). */
        PROMOTE,
        /** The promoted type, with integers and bool going to float32 (true division, atan2...). */
        FLOAT,
        /** Bool, computed in the promoted type (comparisons) or on truthiness (logical ops). */
        BOOL
    }

    /** The dtype the op computes in, given the promoted input dtype. */
    public DType computeType(DType promoted) {
        return result == Result.FLOAT && !promoted.isFloatingPoint() ? DType.defaultFloat() : promoted;
    }

    /** The output dtype, given the promoted input dtype. */
    public DType resultType(DType promoted) {
        return result == Result.BOOL ? DType.BOOL : computeType(promoted);
    }
}
