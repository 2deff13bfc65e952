package dev.ember.tensor;

import dev.ember.tensor.BinaryOp.Result;
import dev.ember.tensor.cpu.VectorLoops;

/** The declarations of the two-input elementwise ops. */
public final class BinaryOps {
    private BinaryOps() {}

    public static final BinaryOp ADD = new BinaryOp("add", Result.PROMOTE, Double::sum, Long::sum,
            VectorLoops.zip((x, y) -> x.add(y)))
            .withGrad(false, false, (g, a, b, y) -> new Tensor[] {g, g});
    public static final BinaryOp SUB = new BinaryOp("sub", Result.PROMOTE, (a, b) -> a - b, (a, b) -> a - b,
            VectorLoops.zip((x, y) -> x.sub(y)))
            .withGrad(false, false, (g, a, b, y) -> new Tensor[] {g, g.neg()});
    public static final BinaryOp MUL = new BinaryOp("mul", Result.PROMOTE, (a, b) -> a * b, (a, b) -> a * b,
            VectorLoops.zip((x, y) -> x.mul(y)))
            .withGrad(true, false, (g, a, b, y) -> new Tensor[] {g.mul(b), g.mul(a)});
    /** True division: integers divide as float32, as PyTorch's / . */
    public static final BinaryOp DIV = new BinaryOp("div", Result.FLOAT, (a, b) -> a / b, null,
            VectorLoops.zip((x, y) -> x.div(y)))
            .withGrad(true, false, (g, a, b, y) -> new Tensor[] {g.div(b), g.mul(a).div(b.mul(b)).neg()});
    public static final BinaryOp POW = new BinaryOp("pow", Result.PROMOTE, Math::pow, MathFunctions::pow, null)
            .withGrad(true, true, BinaryOps::powGrad);
    /** Python's modulo: the result takes the divisor's sign. */
    public static final BinaryOp REMAINDER = new BinaryOp("remainder", Result.PROMOTE,
            MathFunctions::remainder, MathFunctions::remainder, null)
            .withGrad(true, false, (g, a, b, y) -> new Tensor[] {g, g.mul(a.floorDivide(b)).neg()});
    public static final BinaryOp FLOOR_DIVIDE = new BinaryOp("floor_divide", Result.PROMOTE,
            BinaryOps::floorDivide, MathFunctions::floorDivide, null);
    public static final BinaryOp MAXIMUM = new BinaryOp("maximum", Result.PROMOTE, Math::max, Math::max,
            VectorLoops.zip((x, y) -> x.max(y)))
            .withGrad(true, false, (g, a, b, y) -> extremumGrad(g, a.gt(b), a.eq(b)));
    public static final BinaryOp MINIMUM = new BinaryOp("minimum", Result.PROMOTE, Math::min, Math::min,
            VectorLoops.zip((x, y) -> x.min(y)))
            .withGrad(true, false, (g, a, b, y) -> extremumGrad(g, a.lt(b), a.eq(b)));

    public static final BinaryOp EQ = new BinaryOp("eq", Result.BOOL, (a, b) -> a == b ? 1 : 0, (a, b) -> a == b ? 1 : 0, null);
    public static final BinaryOp NE = new BinaryOp("ne", Result.BOOL, (a, b) -> a != b ? 1 : 0, (a, b) -> a != b ? 1 : 0, null);
    public static final BinaryOp LT = new BinaryOp("lt", Result.BOOL, (a, b) -> a < b ? 1 : 0, (a, b) -> a < b ? 1 : 0, null);
    public static final BinaryOp LE = new BinaryOp("le", Result.BOOL, (a, b) -> a <= b ? 1 : 0, (a, b) -> a <= b ? 1 : 0, null);
    public static final BinaryOp GT = new BinaryOp("gt", Result.BOOL, (a, b) -> a > b ? 1 : 0, (a, b) -> a > b ? 1 : 0, null);
    public static final BinaryOp GE = new BinaryOp("ge", Result.BOOL, (a, b) -> a >= b ? 1 : 0, (a, b) -> a >= b ? 1 : 0, null);
    public static final BinaryOp LOGICAL_AND = new BinaryOp("logical_and", Result.BOOL,
            (a, b) -> a != 0 && b != 0 ? 1 : 0, (a, b) -> a != 0 && b != 0 ? 1 : 0, null);
    public static final BinaryOp LOGICAL_OR = new BinaryOp("logical_or", Result.BOOL,
            (a, b) -> a != 0 || b != 0 ? 1 : 0, (a, b) -> a != 0 || b != 0 ? 1 : 0, null);

    /**
     * relu's backward, PyTorch's threshold_backward(grad, result, 0): the gradient where the
     * output is positive (or NaN), else 0. One fused op: a comparison then a multiply by a bool
     * mask would take two passes and the slow mixed-dtype path.
     */
    public static final BinaryOp RELU_BACKWARD = new BinaryOp("threshold_backward", Result.PROMOTE,
            (g, y) -> y <= 0 ? 0 : g, (g, y) -> y <= 0 ? 0 : g,
            VectorLoops.zip((g, y) -> g.blend(0f, y.compare(jdk.incubator.vector.VectorOperators.LE, 0f))))
            .withGrad(true, false, (gg, g, y, out) -> new Tensor[] {Elementwise.binary(gg, y, BinaryOps.RELU_BACKWARD_OF_GRAD, null),
                    Tensor.zerosLike(y)});

    /** The same mask applied to the gradient's gradient (double backward through relu). */
    private static final BinaryOp RELU_BACKWARD_OF_GRAD = new BinaryOp("threshold_backward", Result.PROMOTE,
            (g, y) -> y <= 0 ? 0 : g, (g, y) -> y <= 0 ? 0 : g,
            VectorLoops.zip((g, y) -> g.blend(0f, y.compare(jdk.incubator.vector.VectorOperators.LE, 0f))));

    /** x + alpha * y, rounded once (fma), as PyTorch computes add with alpha. */
    private static final VectorLoops.ZipKernel AXPY_LOOP = VectorLoops.zipKernel((x, y, alpha) -> y.fma(y.broadcast(alpha), x));

    /** a + alpha * b (and a - alpha * b via a negative alpha), as torch.add's alpha. */
    public static BinaryOp addScaled(double alpha) {
        float alphaF = (float) alpha;
        long alphaL = (long) alpha;
        return new BinaryOp("add", Result.PROMOTE, (a, b) -> a + alpha * b, (a, b) -> a + alphaL * b,
                (a, ao, as, b, bo, bs, c, co, n) -> AXPY_LOOP.apply(a, ao, as, b, bo, bs, c, co, n, alphaF))
                .withGrad(false, false, (g, a, b, y) -> new Tensor[] {g, g.mul(alpha)})
                .withAlpha(alpha);
    }

    /**
     * d(a^b)/da = b a^(b-1), taken as 0 where b = 0 (else 0^-1 would make it NaN at a = 0); d(a^b)/db =
     * a^b ln a, taken as 0 where a = 0 and b >= 0; both as PyTorch.
     */
    private static Tensor[] powGrad(Tensor g, Tensor a, Tensor b, Tensor y) {
        Tensor ga = Tensor.where(b.eq(0.0), Tensor.zerosLike(y), g.mul(b).mul(a.pow(b.sub(1L))));
        Tensor gb = Tensor.where(a.eq(0.0).logicalAnd(b.ge(0.0)), Tensor.zerosLike(y), g.mul(y).mul(a.log()));
        return new Tensor[] {ga, gb};
    }

    /** max/min of two tensors: the gradient goes to the chosen input, split evenly on ties. */
    private static Tensor[] extremumGrad(Tensor g, Tensor aWins, Tensor tie) {
        Tensor half = g.mul(tie).mul(0.5);
        return new Tensor[] {g.mul(aWins).add(half), g.mul(aWins.logicalOr(tie).logicalNot()).add(half)};
    }

    /**
     * Python's float floor division, as PyTorch's div_floor_floating: floor(a / b) taken on the
     * exact quotient, so 1.0 // 0.1 is 9 (a / b rounds to 10.0) and inf // 2 is NaN.
     */
    private static double floorDivide(double a, double b) {
        if (b == 0) return a / b;
        double mod = a % b;
        double div = (a - mod) / b;
        if (mod != 0 && (b < 0) != (mod < 0)) div -= 1;
        if (div == 0) return Math.copySign(0.0, a / b);
        double floor = Math.floor(div);
        return div - floor > 0.5 ? floor + 1 : floor;
    }
}
