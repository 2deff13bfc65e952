package dev.ember.tensor.cpu;

import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.MAX;
import static jdk.incubator.vector.VectorOperators.MIN;

import dev.ember.tensor.cpu.CpuReductionVectors.Contribution;
import jdk.incubator.vector.FloatVector;

/**
 * The declarations of the folding reductions. Ops with two passes (var, std, logsumexp, softmax)
 * are a first fold whose results centre a second one; max/min with indices are the engine's
 * other kind, see {@link CpuReduction#reduceWithIndex}.
 *
 * <p>Ops with a float32 vector form name what each element contributes and how contributions
 * combine; {@link CpuReductionVectors#specialise} turns that into loops.
 */
public final class CpuReduceOps {
    private CpuReduceOps() {}

    private static final Contribution X = (x, c) -> x;
    private static final Contribution ABS = (x, c) -> x.abs();
    private static final Contribution SQUARE = (x, c) -> x.mul(x);
    private static final Contribution SQUARED_DEVIATION_FROM_CENTER = (x, c) -> {
        FloatVector d = x.sub(c);
        return d.mul(d);
    };
    private static final Contribution EXP_SHIFTED = (x, c) -> VectorExp.exp(x.sub(c));

    private static final double INF = Double.POSITIVE_INFINITY;

    public static final CpuReduceOp SUM = CpuReduceOp.of("sum", 0, (a, x, c) -> a + x, Double::sum)
            .withIntegral(0, Long::sum)
            .withVector(CpuReductionVectors.specialise(ADD, 0, X));

    /** The mean; 0/0 gives NaN over no elements, as PyTorch. */
    public static final CpuReduceOp MEAN = SUM.withName("mean").withoutIntegral().withFinish((a, n, c) -> a / n);

    public static final CpuReduceOp PROD = CpuReduceOp.of("prod", 1, (a, x, c) -> a * x, (a, b) -> a * b)
            .withIntegral(1, (a, b) -> a * b);

    /** Math.max propagates NaN, so a NaN is the maximum, as PyTorch; the vector MAX does the same. */
    public static final CpuReduceOp MAX_OP = CpuReduceOp.of("max", -INF, (a, x, c) -> Math.max(a, x), Math::max)
            .withIntegral(Long.MIN_VALUE, Math::max)
            .withVector(CpuReductionVectors.specialise(MAX, -INF, X));

    public static final CpuReduceOp MIN_OP = CpuReduceOp.of("min", INF, (a, x, c) -> Math.min(a, x), Math::min)
            .withIntegral(Long.MAX_VALUE, Math::min)
            .withVector(CpuReductionVectors.specialise(MIN, INF, X));

    /** Truthiness: NaN counts as true, as a non-zero value. */
    public static final CpuReduceOp ANY = CpuReduceOp.of("any", 0, (a, x, c) -> a != 0 || x != 0 ? 1 : 0,
            (a, b) -> a != 0 || b != 0 ? 1 : 0).withIntegral(0, (a, b) -> a != 0 || b != 0 ? 1 : 0);

    public static final CpuReduceOp ALL = CpuReduceOp.of("all", 1, (a, x, c) -> a != 0 && x != 0 ? 1 : 0,
            (a, b) -> a != 0 && b != 0 ? 1 : 0).withIntegral(1, (a, b) -> a != 0 && b != 0 ? 1 : 0);

    /** Every norm of no elements is 0, as PyTorch's norm (even where the formula would give inf). */
    private static final CpuReduceOp.Finish NORM_OF_NOTHING = (a, n, c) -> n == 0 ? 0 : a;

    public static final CpuReduceOp NORM_2 = CpuReduceOp.of("norm", 0, (a, x, c) -> a + x * x, Double::sum)
            .withFinish((a, n, c) -> Math.sqrt(a))
            .withVector(CpuReductionVectors.specialise(ADD, 0, SQUARE));

    public static final CpuReduceOp NORM_1 = CpuReduceOp.of("norm", 0, (a, x, c) -> a + Math.abs(x), Double::sum)
            .withVector(CpuReductionVectors.specialise(ADD, 0, ABS));

    /** The largest magnitude; NaN propagates. */
    public static final CpuReduceOp NORM_INF = CpuReduceOp.of("norm", 0, (a, x, c) -> Math.max(a, Math.abs(x)), Math::max)
            .withVector(CpuReductionVectors.specialise(MAX, 0, ABS));

    /** The smallest magnitude; NaN propagates. */
    public static final CpuReduceOp NORM_NEG_INF = CpuReduceOp.of("norm", INF, (a, x, c) -> Math.min(a, Math.abs(x)), Math::min)
            .withFinish(NORM_OF_NOTHING)
            .withVector(CpuReductionVectors.specialise(MIN, INF, ABS));

    /** The number of non-zero elements (NaN included). */
    public static final CpuReduceOp NORM_0 = CpuReduceOp.of("norm", 0, (a, x, c) -> x != 0 ? a + 1 : a, Double::sum);

    /** (sum |x|^p)^(1/p) for any other p. */
    public static CpuReduceOp normP(double p) {
        return CpuReduceOp.of("norm", 0, (a, x, c) -> a + Math.pow(Math.abs(x), p), Double::sum)
                .withFinish((a, n, c) -> n == 0 ? 0 : Math.pow(a, 1 / p));
    }

    /** sum (x - centre)^2: the second pass of var and std, centred on the mean (see {@link #variance}). */
    private static final CpuReduceOp SQUARED_DEVIATION = CpuReduceOp.of("var", 0,
                    (a, x, c) -> a + (x - c) * (x - c), Double::sum)
            .withVector(CpuReductionVectors.specialise(ADD, 0, SQUARED_DEVIATION_FROM_CENTER));

    /**
     * The variance (or with {@code root} the standard deviation) around centres that hold the
     * mean, over N - correction degrees of freedom, clamped at 0 so too few elements give inf or
     * NaN, as PyTorch.
     */
    public static CpuReduceOp variance(double correction, boolean root) {
        return SQUARED_DEVIATION.withName(root ? "std" : "var").withFinish((a, n, c) -> {
            double v = a / Math.max(0, n - correction);
            return root ? Math.sqrt(v) : v;
        });
    }

    /** sum exp(x - centre), centred on the maximum: the sum in softmax's denominator. */
    public static final CpuReduceOp EXP_SUM = CpuReduceOp.of("exp_sum", 0, (a, x, c) -> a + Math.exp(x - c), Double::sum)
            .withVector(CpuReductionVectors.specialise(ADD, 0, EXP_SHIFTED));

    /**
     * logsumexp's first pass: the shift, the maximum, except that an infinite maximum shifts by 0
     * (as PyTorch), so all -inf gives -inf and +inf gives +inf rather than NaN. Integers are read
     * as double: logsumexp of an integer tensor is a float.
     */
    public static final CpuReduceOp LOGSUMEXP_SHIFT = MAX_OP.withName("logsumexp").withoutIntegral()
            .withFinish((m, n, c) -> Double.isInfinite(m) ? 0 : m);

    /** logsumexp's second pass, centred on {@link #LOGSUMEXP_SHIFT}. */
    public static final CpuReduceOp LOGSUMEXP = EXP_SUM.withName("logsumexp").withFinish((a, n, c) -> Math.log(a) + c);
}
