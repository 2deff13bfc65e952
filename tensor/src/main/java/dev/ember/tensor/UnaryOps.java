package dev.ember.tensor;

import static jdk.incubator.vector.VectorOperators.ABS;
import static jdk.incubator.vector.VectorOperators.COS;
import static jdk.incubator.vector.VectorOperators.EXPM1;
import static jdk.incubator.vector.VectorOperators.LOG;
import static jdk.incubator.vector.VectorOperators.LOG1P;
import static jdk.incubator.vector.VectorOperators.NEG;
import static jdk.incubator.vector.VectorOperators.SIN;
import static jdk.incubator.vector.VectorOperators.SQRT;
import static jdk.incubator.vector.VectorOperators.TANH;

import dev.ember.tensor.UnaryOp.Result;
import dev.ember.tensor.cpu.VectorExp;
import dev.ember.tensor.cpu.VectorLoops;
import jdk.incubator.vector.FloatVector;

/** The declarations of the one-input elementwise ops. */
public final class UnaryOps {
    private UnaryOps() {}

    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
    private static final double INV_SQRT_2 = 1 / Math.sqrt(2);

    public static final UnaryOp NEG_OP = new UnaryOp("neg", Result.SAME, x -> -x, x -> -x,
            VectorLoops.map(v -> v.lanewise(NEG)))
            .withGrad(false, false, (g, x, y) -> g.neg());
    public static final UnaryOp ABS_OP = new UnaryOp("abs", Result.SAME, Math::abs, Math::abs,
            VectorLoops.map(v -> v.lanewise(ABS)))
            .withGradOfInput((g, x) -> g.mul(x.sign()));
    /** sign(NaN) is 0, as PyTorch's (0 < x) - (x < 0). */
    public static final UnaryOp SIGN = new UnaryOp("sign", Result.SAME,
            x -> x > 0 ? 1 : x < 0 ? -1 : 0, Long::signum, null)
            .withGrad(false, false, (g, x, y) -> g.mul(0L));
    public static final UnaryOp EXP_OP = new UnaryOp("exp", Result.FLOAT, Math::exp, null,
            VectorLoops.map(VectorExp::exp))
            .withGradOfOutput((g, y) -> g.mul(y));
    public static final UnaryOp LOG_OP = new UnaryOp("log", Result.FLOAT, Math::log, null,
            VectorLoops.map(v -> v.lanewise(LOG)))
            .withGradOfInput((g, x) -> g.div(x));
    public static final UnaryOp LOG1P_OP = new UnaryOp("log1p", Result.FLOAT, Math::log1p, null,
            VectorLoops.map(v -> v.lanewise(LOG1P)))
            .withGradOfInput((g, x) -> g.div(x.add(1L)));
    public static final UnaryOp EXPM1_OP = new UnaryOp("expm1", Result.FLOAT, Math::expm1, null,
            VectorLoops.map(v -> v.lanewise(EXPM1)))
            .withGradOfOutput((g, y) -> g.mul(y.add(1L)));
    public static final UnaryOp SQRT_OP = new UnaryOp("sqrt", Result.FLOAT, Math::sqrt, null,
            VectorLoops.map(v -> v.lanewise(SQRT)))
            .withGradOfOutput((g, y) -> g.div(y.mul(2L)));
    public static final UnaryOp RSQRT = new UnaryOp("rsqrt", Result.FLOAT, x -> 1 / Math.sqrt(x), null,
            VectorLoops.map(v -> {
                FloatVector root = v.lanewise(SQRT);
                return root.broadcast(1f).div(root);
            }))
            .withGradOfOutput((g, y) -> g.mul(y.pow(3L)).mul(-0.5));
    public static final UnaryOp SIN_OP = new UnaryOp("sin", Result.FLOAT, Math::sin, null,
            VectorLoops.map(v -> v.lanewise(SIN)))
            .withGradOfInput((g, x) -> g.mul(x.cos()));
    public static final UnaryOp COS_OP = new UnaryOp("cos", Result.FLOAT, Math::cos, null,
            VectorLoops.map(v -> v.lanewise(COS)))
            .withGradOfInput((g, x) -> g.mul(x.sin()).neg());
    public static final UnaryOp TANH_OP = new UnaryOp("tanh", Result.FLOAT, Math::tanh, null,
            VectorLoops.map(v -> v.lanewise(TANH)))
            .withGradOfOutput((g, y) -> g.mul(y.mul(y).neg().add(1L)));
    public static final UnaryOp SIGMOID = new UnaryOp("sigmoid", Result.FLOAT, UnaryOps::sigmoid, null,
            VectorLoops.map(v -> v.broadcast(1f).div(VectorExp.exp(v.neg()).add(1f))))
            .withGradOfOutput((g, y) -> g.mul(y).mul(y.neg().add(1L)));
    /** relu keeps NaN, as PyTorch's clamp_min(x, 0). */
    public static final UnaryOp RELU = new UnaryOp("relu", Result.SAME, x -> x > 0 || Double.isNaN(x) ? x : 0,
            x -> Math.max(x, 0),
            VectorLoops.map(v -> v.max(0f)))
            .withGradOfOutput((g, y) -> Elementwise.binary(g, y, BinaryOps.RELU_BACKWARD, null));
    public static final UnaryOp GELU = new UnaryOp("gelu", Result.FLOAT,
            x -> 0.5 * x * MathFunctions.erfc(-x * INV_SQRT_2), null, null)
            .withGradOfInput(UnaryOps::geluGrad);
    public static final UnaryOp GELU_TANH = new UnaryOp("gelu_tanh", Result.FLOAT,
            x -> 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))), null,
            VectorLoops.map(v -> {
                FloatVector inner = v.mul(v).mul(0.044715f).add(1f).mul(v).mul((float) SQRT_2_OVER_PI);
                return v.mul(0.5f).mul(inner.lanewise(TANH).add(1f));
            }))
            .withGradOfInput(UnaryOps::geluTanhGrad);
    public static final UnaryOp SILU = new UnaryOp("silu", Result.FLOAT, x -> x * sigmoid(x), null,
            VectorLoops.map(v -> v.div(VectorExp.exp(v.neg()).add(1f))))
            .withGradOfInput((g, x) -> {
                Tensor sig = x.sigmoid();
                return g.mul(sig).mul(x.mul(sig.neg().add(1L)).add(1L));
            });
    public static final UnaryOp FLOOR = new UnaryOp("floor", Result.SAME, Math::floor, x -> x, null)
            .withGrad(false, false, (g, x, y) -> g.mul(0L));
    public static final UnaryOp CEIL = new UnaryOp("ceil", Result.SAME, Math::ceil, x -> x, null)
            .withGrad(false, false, (g, x, y) -> g.mul(0L));
    /** Half to even, as PyTorch's round (nearbyint). */
    public static final UnaryOp ROUND = new UnaryOp("round", Result.SAME, Math::rint, x -> x, null)
            .withGrad(false, false, (g, x, y) -> g.mul(0L));
    public static final UnaryOp ISNAN = new UnaryOp("isnan", Result.BOOL, x -> Double.isNaN(x) ? 1 : 0, x -> 0, null);
    public static final UnaryOp ISFINITE = new UnaryOp("isfinite", Result.BOOL, x -> Double.isFinite(x) ? 1 : 0, x -> 1, null);
    public static final UnaryOp LOGICAL_NOT = new UnaryOp("logical_not", Result.BOOL, x -> x == 0 ? 1 : 0,
            x -> x == 0 ? 1 : 0, null);

    private static final VectorLoops.MapKernel CLAMP_LOOP = VectorLoops.mapKernel((v, lo, hi) -> v.max(lo).min(hi));
    private static final VectorLoops.FloatMap SQUARE_LOOP = VectorLoops.map(v -> v.mul(v));

    /** The standard normal CDF Phi(x) = erfc(-x/sqrt 2)/2, with its derivative, for GELU's gradient. */
    static final UnaryOp NORMAL_CDF = new UnaryOp("normal_cdf", Result.FLOAT,
            x -> 0.5 * MathFunctions.erfc(-x * INV_SQRT_2), null, null)
            .withGradOfInput((g, x) -> g.mul(x.mul(x).mul(-0.5).exp().mul(1 / Math.sqrt(2 * Math.PI))));

    /** softplus(x) = log(1 + e^(beta x)) / beta, linear above {@code threshold} for stability. */
    public static UnaryOp softplus(double beta, double threshold) {
        return new UnaryOp("softplus", Result.FLOAT,
                x -> x * beta > threshold ? x : Math.log1p(Math.exp(x * beta)) / beta, null, null)
                .withGradOfInput((g, x) -> g.mul(Tensor.where(x.mul(beta).gt(threshold), Tensor.onesLike(x),
                        x.mul(beta).sigmoid())))
                .withParams(beta, threshold);
    }

    /**
     * clamp(x, min, max); a null bound is absent. NaN stays NaN. Integer tensors clamped by
     * integral bounds stay integer (the caller decides the dtype).
     */
    public static UnaryOp clamp(Double min, Double max) {
        double lo = min == null ? Double.NEGATIVE_INFINITY : min;
        double hi = max == null ? Double.POSITIVE_INFINITY : max;
        long loL = min == null ? Long.MIN_VALUE : (long) Math.ceil(lo);
        long hiL = max == null ? Long.MAX_VALUE : (long) Math.floor(hi);
        float loF = (float) lo, hiF = (float) hi;
        boolean integralBounds = (min == null || lo == Math.rint(lo)) && (max == null || hi == Math.rint(hi));
        return new UnaryOp("clamp", integralBounds ? Result.SAME : Result.FLOAT,
                x -> Double.isNaN(x) ? x : Math.min(Math.max(x, lo), hi),
                x -> Math.min(Math.max(x, loL), hiL),
                (s, so, d, o, n) -> CLAMP_LOOP.apply(s, so, d, o, n, loF, hiF))
                .withGradOfInput((g, x) -> g.mul(x.ge(lo).logicalAnd(x.le(hi))))
                .withParams(lo, hi);
    }

    /** x^exponent for a scalar exponent. */
    public static UnaryOp powScalar(double exponent, boolean integralExponent) {
        long e = (long) exponent;
        return new UnaryOp("pow", integralExponent ? Result.SAME : Result.FLOAT, x -> Math.pow(x, exponent),
                integralExponent ? x -> MathFunctions.pow(x, e) : null,
                exponent == 2 ? SQUARE_LOOP : null)
                .withGradOfInput((g, x) -> exponent == 0 ? g.mul(0L) : g.mul(x.pow(exponent - 1)).mul(exponent))
                .withParams(exponent, 0);
    }

    /** d/dx x*Phi(x) = Phi(x) + x*phi(x). */
    private static Tensor geluGrad(Tensor g, Tensor x) {
        Tensor cdf = Elementwise.unary(x, NORMAL_CDF);
        Tensor pdf = x.mul(x).mul(-0.5).exp().mul(1 / Math.sqrt(2 * Math.PI));
        return g.mul(cdf.add(x.mul(pdf)));
    }

    /** Derivative of the tanh approximation, term by term. */
    private static Tensor geluTanhGrad(Tensor g, Tensor x) {
        Tensor inner = x.add(x.pow(3L).mul(0.044715)).mul(SQRT_2_OVER_PI);
        Tensor t = inner.tanh();
        Tensor dInner = x.mul(x).mul(3 * 0.044715).add(1L).mul(SQRT_2_OVER_PI);
        Tensor left = t.add(1L).mul(0.5);
        Tensor right = x.mul(0.5).mul(t.mul(t).neg().add(1L)).mul(dInner);
        return g.mul(left.add(right));
    }

    static double sigmoid(double x) {
        return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    }
}
