package dev.ember.tensor;

import java.util.function.DoubleUnaryOperator;
import java.util.function.LongUnaryOperator;
import dev.ember.tensor.cpu.VectorLoops.FloatMap;

/**
 * The one declaration of an elementwise op of one input: its name, the dtype rule, the math in
 * float64 (which every backend's general path and the tests' reference use), the integer form
 * where the op keeps integer dtypes, and optionally a float32 Vector API form for contiguous
 * runs. Backends find everything they need here; see {@link UnaryOps} for the declarations.
 *
 * @param name     the op's name, as PyTorch's
 * @param result   how the output dtype follows from the input's
 * @param math     the op on float64 values (float16/bfloat16/float32 inputs compute through it too)
 * @param integral the op on integer values, or null when integer inputs are promoted to float
 * @param vector   the op over a contiguous float32 run on the Vector API, or null to use
 *                 {@code math} per element
 */
public record UnaryOp(String name, Result result, DoubleUnaryOperator math, LongUnaryOperator integral,
                      FloatMap vector, Grad grad, double p0, double p1) {

    /** An op without a derivative yet; add one with a {@code withGrad...} method. */
    public UnaryOp(String name, Result result, DoubleUnaryOperator math, LongUnaryOperator integral, FloatMap vector) {
        this(name, result, math, integral, vector, null, 0, 0);
    }

    /**
     * The op's scalar parameters as its CUDA kernel takes them (clamp's bounds, pow's exponent,
     * softplus's beta and threshold); the CPU forms have them bound into their math already.
     */
    public UnaryOp withParams(double first, double second) {
        return new UnaryOp(name, result, math, integral, vector, grad, first, second);
    }

    /**
     * The derivative: the input's gradient from the output's gradient, and which of input and
     * output it needs (those are saved for backward and checked for in-place changes).
     */
    public record Grad(boolean needsInput, boolean needsOutput, Formula formula) {}

    /** grad_input = formula(grad_output, input, output); an unneeded argument is null. */
    @FunctionalInterface
    public interface Formula {
        Tensor apply(Tensor grad, Tensor input, Tensor output);
    }

    public UnaryOp withGrad(boolean needsInput, boolean needsOutput, Formula formula) {
        return new UnaryOp(name, result, math, integral, vector, new Grad(needsInput, needsOutput, formula), p0, p1);
    }

    public UnaryOp withGradOfInput(java.util.function.BinaryOperator<Tensor> f) {
        return withGrad(true, false, (g, x, y) -> f.apply(g, x));
    }

    public UnaryOp withGradOfOutput(java.util.function.BinaryOperator<Tensor> f) {
        return withGrad(false, true, (g, x, y) -> f.apply(g, y));
    }

    /** How the output dtype follows from the input dtype. */
    public enum Result {
        /** Same dtype as the input (neg, abs, relu, clamp...). */
        SAME,
        /** Floating inputs keep their dtype; integer and bool inputs give float32 (exp, sin...). */
        FLOAT,
        /** Always bool (isnan, logicalNot...). */
        BOOL
    }

    /** The output dtype for an input of dtype {@code in}. */
    public DType resultType(DType in) {
        return switch (result) {
            case SAME -> in;
            case FLOAT -> in.isFloatingPoint() ? in : DType.defaultFloat();
            case BOOL -> DType.BOOL;
        };
    }
}
