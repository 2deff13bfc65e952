package dev.ember.tensor;

import static dev.ember.tensor.TestTensors.ALL;
import static dev.ember.tensor.TestTensors.FLOATS;
import static dev.ember.tensor.TestTensors.NUMERIC;
import static dev.ember.tensor.TestTensors.assertBaseAfterWrite;
import static dev.ember.tensor.TestTensors.assertTensor;
import static dev.ember.tensor.TestTensors.broadcastShape;
import static dev.ember.tensor.TestTensors.broadcastValues;
import static dev.ember.tensor.TestTensors.broadcastableTo;
import static dev.ember.tensor.TestTensors.computeType;
import static dev.ember.tensor.TestTensors.isFloat;
import static dev.ember.tensor.TestTensors.randomShape;
import static dev.ember.tensor.TestTensors.roundTo;
import static dev.ember.tensor.TestTensors.wrap;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ember.tensor.TestTensors.Domain;
import dev.ember.tensor.TestTensors.Layout;
import dev.ember.tensor.TestTensors.Rng;
import dev.ember.tensor.TestTensors.TT;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BinaryOperator;
import java.util.function.DoubleBinaryOperator;
import java.util.function.LongBinaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every op of {@link BinaryOps} against float64 (or exact integer) math written here: tensor with
 * tensor for every pair of supported dtypes with broadcasting, 0-d and zero-size operands and
 * random layouts; tensor with double and long scalars; in-place forms; the Vector API paths.
 */
@ExtendWith(TestTensors.Scoped.class)
class BinaryOpsTest {

    /** How the result follows from the promoted dtype. */
    enum Kind {
        /** the promoted dtype */
        PROMOTE,
        /** the promoted dtype, integers and bool going to float32 (true division) */
        FLOAT,
        /** bool, compared in the promoted dtype */
        COMPARE,
        /** bool, on truthiness */
        LOGICAL
    }

    interface ScalarD { Tensor apply(Tensor t, double s); }

    interface ScalarL { Tensor apply(Tensor t, long s); }

    /** One op under test and its forms; the references see values already in the compute type. */
    static final class Case {
        final String name;
        final BinaryOperator<Tensor> op;
        final DoubleBinaryOperator ref;
        final LongBinaryOperator intRef;
        final Kind kind;
        BinaryOperator<Tensor> inPlace;
        ScalarD scalarD, scalarDInPlace;
        ScalarL scalarL, scalarLInPlace;
        Domain domA = Domain.DEFAULT, domB = Domain.DEFAULT;
        DType[] dtypes = ALL;

        Case(String name, BinaryOperator<Tensor> op, DoubleBinaryOperator ref, LongBinaryOperator intRef, Kind kind) {
            this.name = name; this.op = op; this.ref = ref; this.intRef = intRef; this.kind = kind;
        }

        Case inPlace(BinaryOperator<Tensor> f) { inPlace = f; return this; }
        Case scalars(ScalarD d, ScalarL l) { scalarD = d; scalarL = l; return this; }
        Case scalarsInPlace(ScalarD d, ScalarL l) { scalarDInPlace = d; scalarLInPlace = l; return this; }
        Case domains(Domain a, Domain b) { domA = a; domB = b; return this; }
        Case dtypes(DType... d) { dtypes = d; return this; }

        DType outType(DType promoted) {
            return switch (kind) {
                case PROMOTE -> promoted;
                case FLOAT -> isFloat(promoted) ? promoted : DType.FLOAT32;
                case COMPARE, LOGICAL -> DType.BOOL;
            };
        }

        /** The expected value of a (op) b for operands promoted to {@code promoted}. */
        double expected(DType promoted, double a, double b) {
            if (!isFloat(promoted) && promoted != DType.BOOL) {
                // PyTorch casts the operands to the common dtype first: a wider integer scalar wraps
                // (uint8 maximum(2, -3) is maximum(2, 253)); the tensors' own values are unchanged by it
                a = wrap(promoted, (long) a);
                b = wrap(promoted, (long) b);
            }
            DType out = outType(promoted);
            DType compute = computeType(kind == Kind.FLOAT ? out : promoted);
            return switch (kind) {
                case PROMOTE, FLOAT -> isFloat(out)
                        ? roundTo(out, ref.applyAsDouble(roundTo(compute, a), roundTo(compute, b)))
                        : wrap(out, intRef.applyAsLong((long) a, (long) b));
                case COMPARE -> isFloat(compute) ? ref.applyAsDouble(roundTo(compute, a), roundTo(compute, b)) : ref.applyAsDouble(a, b);
                case LOGICAL -> ref.applyAsDouble(a, b);
            };
        }

        @Override
        public String toString() { return name; }
    }

    @Test
    void aWiderIntegerScalarWrapsIntoTheResultDtypeFirstAsInPyTorch() {
        // values from PyTorch 1.13: torch.tensor([2, 7], dtype=torch.uint8) (op) torch.tensor(-3), and 258, 300
        Tensor a = Tensor.fromArray(new long[] {2, 7}).to(DType.UINT8);
        Tensor minus3 = Tensor.scalar(DType.INT64, -3);
        assertArrayEquals(new double[] {253, 253}, a.maximum(minus3).toDoubleArray());
        assertArrayEquals(new double[] {2, 7}, a.minimum(minus3).toDoubleArray());
        assertArrayEquals(new double[] {255, 4}, a.add(minus3).toDoubleArray());
        assertArrayEquals(new double[] {250, 235}, a.mul(minus3).toDoubleArray());
        assertArrayEquals(new double[] {1, 1}, a.lt(minus3).toDoubleArray());
        assertArrayEquals(new double[] {1, 0}, a.eq(Tensor.scalar(DType.INT64, 258)).toDoubleArray());
        assertArrayEquals(new double[] {44, 44}, a.maximum(Tensor.scalar(DType.INT64, 300)).toDoubleArray());
        assertEquals(DType.UINT8, a.maximum(minus3).dtype());
    }

    private static final Domain WIDE = Domain.range(-100, 100);
    /** Non-zero divisors (also after truncation to integers and wrapping into uint8). */
    private static final Domain DIVISORS = Domain.of(-7, -3, -2.5, -1.75, -1, 1, 1.5, 2, 3, 4.25, 6);
    private static final Domain TIES = Domain.of(-2, -1, -0.5, 0, 0.5, 1, 2, 3, Double.NaN);
    private static final Domain TRUTH = Domain.of(0, 0, 1, -2, 0.5, Double.NaN, -0.0);

    static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        c.add(new Case("add", Tensor::add, Double::sum, Long::sum, Kind.PROMOTE).inPlace(Tensor::add_)
                .scalars(Tensor::add, Tensor::add).scalarsInPlace(Tensor::add_, Tensor::add_).domains(WIDE, WIDE));
        c.add(new Case("add(alpha=3)", (a, b) -> a.add(b, 3), (a, b) -> a + 3 * b, (a, b) -> a + 3 * b, Kind.PROMOTE)
                .inPlace((a, b) -> a.add_(b, 3)).domains(WIDE, WIDE));
        c.add(new Case("add(alpha=-0.75)", (a, b) -> a.add(b, -0.75), (a, b) -> a - 0.75 * b, null, Kind.PROMOTE)
                .inPlace((a, b) -> a.add_(b, -0.75)).dtypes(FLOATS));
        c.add(new Case("sub", Tensor::sub, (a, b) -> a - b, (a, b) -> a - b, Kind.PROMOTE).inPlace(Tensor::sub_)
                .scalars(Tensor::sub, Tensor::sub).scalarsInPlace(Tensor::sub_, Tensor::sub_).domains(WIDE, WIDE).dtypes(NUMERIC));
        c.add(new Case("sub(alpha=2)", (a, b) -> a.sub(b, 2), (a, b) -> a - 2 * b, (a, b) -> a - 2 * b, Kind.PROMOTE)
                .inPlace((a, b) -> a.sub_(b, 2)).domains(WIDE, WIDE).dtypes(NUMERIC));
        c.add(new Case("mul", Tensor::mul, (a, b) -> a * b, (a, b) -> a * b, Kind.PROMOTE).inPlace(Tensor::mul_)
                .scalars(Tensor::mul, Tensor::mul).scalarsInPlace(Tensor::mul_, Tensor::mul_).domains(WIDE, WIDE));
        c.add(new Case("div", Tensor::div, (a, b) -> a / b, null, Kind.FLOAT).inPlace(Tensor::div_)
                .scalars(Tensor::div, null).scalarsInPlace(Tensor::div_, null).domains(Domain.range(-10, 10), Domain.range(-10, 10)));
        c.add(new Case("pow", Tensor::pow, Math::pow, BinaryOpsTest::intPow, Kind.PROMOTE)
                .domains(Domain.range(-4, 4), Domain.range(0, 3)).dtypes(NUMERIC));
        c.add(new Case("remainder", Tensor::remainder, BinaryOpsTest::pyMod, Math::floorMod, Kind.PROMOTE)
                .inPlace(Tensor::remainder_).scalars(Tensor::remainder, Tensor::remainder)
                .domains(Domain.range(-20, 20), DIVISORS).dtypes(NUMERIC));
        c.add(new Case("floorDivide", Tensor::floorDivide, BinaryOpsTest::pyFloorDiv, Math::floorDiv, Kind.PROMOTE)
                .inPlace(Tensor::floorDivide_).scalars(Tensor::floorDivide, Tensor::floorDivide)
                .domains(Domain.range(-20, 20), DIVISORS).dtypes(NUMERIC));
        c.add(new Case("maximum", Tensor::maximum, (a, b) -> Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.max(a, b),
                Math::max, Kind.PROMOTE).dtypes(NUMERIC));
        c.add(new Case("minimum", Tensor::minimum, (a, b) -> Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.min(a, b),
                Math::min, Kind.PROMOTE).dtypes(NUMERIC));
        c.add(new Case("eq", Tensor::eq, (a, b) -> a == b ? 1 : 0, null, Kind.COMPARE).scalars(Tensor::eq, null).domains(TIES, TIES));
        c.add(new Case("ne", Tensor::ne, (a, b) -> a != b ? 1 : 0, null, Kind.COMPARE).scalars(Tensor::ne, null).domains(TIES, TIES));
        c.add(new Case("lt", Tensor::lt, (a, b) -> a < b ? 1 : 0, null, Kind.COMPARE).scalars(Tensor::lt, null).domains(TIES, TIES));
        c.add(new Case("le", Tensor::le, (a, b) -> a <= b ? 1 : 0, null, Kind.COMPARE).scalars(Tensor::le, null).domains(TIES, TIES));
        c.add(new Case("gt", Tensor::gt, (a, b) -> a > b ? 1 : 0, null, Kind.COMPARE).scalars(Tensor::gt, null).domains(TIES, TIES));
        c.add(new Case("ge", Tensor::ge, (a, b) -> a >= b ? 1 : 0, null, Kind.COMPARE).scalars(Tensor::ge, null).domains(TIES, TIES));
        c.add(new Case("logicalAnd", Tensor::logicalAnd, (a, b) -> a != 0 && b != 0 ? 1 : 0, null, Kind.LOGICAL).domains(TRUTH, TRUTH));
        c.add(new Case("logicalOr", Tensor::logicalOr, (a, b) -> a != 0 || b != 0 ? 1 : 0, null, Kind.LOGICAL).domains(TRUTH, TRUTH));
        return c;
    }

    /** Python's float modulo: the result takes the divisor's sign. */
    static double pyMod(double a, double b) {
        double m = a % b; // C's fmod
        if (m != 0 && (m < 0) != (b < 0)) m += b;
        return m;
    }

    /** Python's float floor division (as torch's div_floor_floating): exact even where a / b rounds to an integer. */
    static double pyFloorDiv(double a, double b) {
        if (b == 0) return a / b;
        double m = a % b;
        double q = (a - m) / b;
        if (m != 0 && (b < 0) != (m < 0)) q -= 1;
        if (q == 0) return Math.copySign(0.0, a / b);
        double f = Math.floor(q);
        return q - f > 0.5 ? f + 1 : f;
    }

    /** Integer power with wrap-around, refusing negative exponents (except for bases 1 and -1). */
    static long intPow(long base, long exp) {
        if (exp < 0) {
            if (base == 1) return 1;
            if (base == -1) return exp % 2 == 0 ? 1 : -1;
            throw new ArithmeticException("negative exponent");
        }
        long r = 1;
        for (long i = 0; i < exp; i++) r *= base;
        return r;
    }

    private static double[] expected(Case c, DType promoted, double[] a, double[] b) {
        double[] e = new double[a.length];
        for (int i = 0; i < e.length; i++) e[i] = c.expected(promoted, a[i], b[i]);
        return e;
    }

    private static boolean supported(Case c, DType t) { return Arrays.asList(c.dtypes).contains(t); }

    // ------------------------------------------------------------------ tensor with tensor

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void tensorTensorForEveryDtypePairWithBroadcasting(Case c) {
        Rng r = Rng.fresh();
        for (DType da : c.dtypes) {
            for (DType db : c.dtypes) {
                for (int trial = 0; trial < 3; trial++) {
                    long[] shape = randomShape(r, 4, 5);
                    long[] sa = r.chance(0.5) ? shape : broadcastableTo(r, shape);
                    long[] sb = r.chance(0.5) ? shape : broadcastableTo(r, shape);
                    if (r.chance(0.5)) { long[] t = sa; sa = sb; sb = t; }
                    check(c, TestTensors.random(r, da, sa, c.domA), TestTensors.random(r, db, sb, c.domB), r);
                }
            }
        }
    }

    private static void check(Case c, TT a, TT b, Rng r) {
        String ctx = c.name + "(" + a + ", " + b + "), " + r;
        long[] shape = broadcastShape(a.shape(), b.shape());
        DType promoted = PromotionTest.resultType(a.dtype(), a.shape().length == 0, b.dtype(), b.shape().length == 0);
        double[] av = broadcastValues(a.values(), a.shape(), shape), bv = broadcastValues(b.values(), b.shape(), shape);
        Tensor y = c.op.apply(a.t(), b.t());
        assertTensor(ctx, c.outType(promoted), shape, expected(c, promoted, av, bv), y);
        assertTensor(ctx + ": a unchanged", a.dtype(), a.shape(), a.values(), a.t());
        assertTensor(ctx + ": b unchanged", b.dtype(), b.shape(), b.values(), b.t());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void float32VectorPaths(Case c) {
        if (!supported(c, DType.FLOAT32)) return;
        Rng r = Rng.fresh();
        DType f = DType.FLOAT32;
        for (int len : new int[] {1, 5, 15, 16, 17, 33, 64 + r.nextInt(1, 15), 1000 + r.nextInt(1, 15)}) {
            long[] s = {len};
            // same-shape contiguous: the straight loop
            check(c, TestTensors.random(r, f, s, Layout.CONTIGUOUS, c.domA), TestTensors.random(r, f, s, Layout.CONTIGUOUS, c.domB), r);
            // a 0-d operand on either side: a scalar broadcast over the run
            check(c, TestTensors.random(r, f, s, Layout.CONTIGUOUS, c.domA), TestTensors.random(r, f, new long[0], c.domB), r);
            check(c, TestTensors.random(r, f, new long[0], c.domA), TestTensors.random(r, f, s, Layout.CONTIGUOUS, c.domB), r);
        }
        int rows = r.nextInt(2, 9), cols = r.nextInt(17, 40);
        long[] m = {rows, cols};
        // row broadcast, column broadcast, outer broadcast
        check(c, TestTensors.random(r, f, m, Layout.CONTIGUOUS, c.domA), TestTensors.random(r, f, new long[] {cols}, Layout.CONTIGUOUS, c.domB), r);
        check(c, TestTensors.random(r, f, new long[] {rows, 1}, Layout.CONTIGUOUS, c.domA), TestTensors.random(r, f, m, Layout.CONTIGUOUS, c.domB), r);
        check(c, TestTensors.random(r, f, new long[] {rows, 1}, Layout.CONTIGUOUS, c.domA),
                TestTensors.random(r, f, new long[] {1, cols}, Layout.CONTIGUOUS, c.domB), r);
        // big enough for the parallel split: contiguous, and transposed against contiguous
        long[] big = {40_000 + r.nextInt(1, 15)};
        check(c, TestTensors.random(r, f, big, Layout.CONTIGUOUS, c.domA), TestTensors.random(r, f, big, Layout.CONTIGUOUS, c.domB), r);
        long[] bigM = {190, 181};
        check(c, TestTensors.random(r, f, bigM, Layout.PERMUTED, c.domA), TestTensors.random(r, f, bigM, Layout.CONTIGUOUS, c.domB), r);
        check(c, TestTensors.random(r, f, bigM, Layout.SLICED, c.domA), TestTensors.random(r, f, new long[] {181}, Layout.SLICED, c.domB), r);
    }

    // ------------------------------------------------------------------ tensor with scalar

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void tensorWithDoubleAndLongScalars(Case c) {
        if (c.scalarD == null && c.scalarL == null) return;
        Rng r = Rng.fresh();
        for (DType da : c.dtypes) {
            for (int trial = 0; trial < 6; trial++) {
                TT a = TestTensors.random(r, da, randomShape(r, 3, 6), c.domA);
                long[] shape = a.shape();
                if (c.scalarD != null) {
                    double s = TestTensors.randomValue(r, DType.FLOAT64, c.domB);
                    if (trial == 0) s = Math.rint(s); // a float scalar even when its value is integral
                    DType promoted = PromotionTest.scalarResultType(da, true);
                    double[] sv = new double[a.values().length];
                    Arrays.fill(sv, s);
                    String ctx = c.name + "(" + a + ", double " + s + "), " + r;
                    assertTensor(ctx, c.outType(promoted), shape, expected(c, promoted, a.values(), sv), c.scalarD.apply(a.t(), s));
                }
                if (c.scalarL != null) {
                    long s = (long) TestTensors.randomValue(r, DType.INT64, c.domB);
                    DType promoted = PromotionTest.scalarResultType(da, false);
                    double[] sv = new double[a.values().length];
                    Arrays.fill(sv, s);
                    String ctx = c.name + "(" + a + ", long " + s + "), " + r;
                    assertTensor(ctx, c.outType(promoted), shape, expected(c, promoted, a.values(), sv), c.scalarL.apply(a.t(), s));
                }
                assertTensor(c.name + ": input unchanged, " + r, da, shape, a.values(), a.t());
            }
        }
    }

    // ------------------------------------------------------------------ in place

    @ParameterizedTest(name = "{0}_")
    @MethodSource("cases")
    void inPlaceWithBroadcastSecondOperand(Case c) {
        if (c.inPlace == null) return;
        Rng r = Rng.fresh();
        for (DType da : c.dtypes) {
            for (DType db : c.dtypes) {
                for (int trial = 0; trial < 2; trial++) {
                    TT a = TestTensors.randomWritable(r, da, randomShape(r, 4, 5), c.domA);
                    TT b = TestTensors.random(r, db, broadcastableTo(r, a.shape()), c.domB);
                    String ctx = c.name + "_(" + a + ", " + b + "), " + r;
                    DType promoted = PromotionTest.resultType(da, a.shape().length == 0, db, b.shape().length == 0);
                    DType result = c.outType(promoted);
                    if (!PromotionTest.canCast(result, da)) {
                        var e = assertThrows(IllegalArgumentException.class, () -> c.inPlace.apply(a.t(), b.t()), ctx);
                        assertEquals("result type " + UnaryOpsTest.torchName(result) + " can't be cast to the desired output type "
                                + UnaryOpsTest.torchName(da), e.getMessage(), ctx);
                        assertTensor(ctx + ": left unchanged", da, a.shape(), a.values(), a.t());
                        continue;
                    }
                    double[] bv = broadcastValues(b.values(), b.shape(), a.shape());
                    double[] want = castInto(da, expected(c, promoted, a.values(), bv));
                    int version = a.t().version();
                    assertSame(a.t(), c.inPlace.apply(a.t(), b.t()), ctx + ": returns this");
                    assertTensor(ctx, da, a.shape(), want, a.t());
                    assertBaseAfterWrite(ctx, a, want);
                    assertTensor(ctx + ": b unchanged", db, b.shape(), b.values(), b.t());
                    assertTrue(a.t().version() > version, ctx + ": version bumped");
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}_")
    @MethodSource("cases")
    void inPlaceWithScalars(Case c) {
        if (c.scalarDInPlace == null && c.scalarLInPlace == null) return;
        Rng r = Rng.fresh();
        for (DType da : c.dtypes) {
            for (int trial = 0; trial < 4; trial++) {
                if (c.scalarDInPlace != null) {
                    TT a = TestTensors.randomWritable(r, da, randomShape(r, 3, 5), c.domA);
                    double s = TestTensors.randomValue(r, DType.FLOAT64, c.domB);
                    String ctx = c.name + "_(" + a + ", double " + s + "), " + r;
                    DType promoted = PromotionTest.scalarResultType(da, true);
                    DType result = c.outType(promoted);
                    if (!PromotionTest.canCast(result, da)) {
                        var e = assertThrows(IllegalArgumentException.class, () -> c.scalarDInPlace.apply(a.t(), s), ctx);
                        assertTrue(e.getMessage().startsWith("result type " + UnaryOpsTest.torchName(result) + " can't be cast"), ctx);
                    } else {
                        double[] sv = new double[a.values().length];
                        Arrays.fill(sv, s);
                        double[] want = castInto(da, expected(c, promoted, a.values(), sv));
                        assertSame(a.t(), c.scalarDInPlace.apply(a.t(), s), ctx);
                        assertTensor(ctx, da, a.shape(), want, a.t());
                        assertBaseAfterWrite(ctx, a, want);
                    }
                }
                if (c.scalarLInPlace != null) {
                    TT a = TestTensors.randomWritable(r, da, randomShape(r, 3, 5), c.domA);
                    long s = (long) TestTensors.randomValue(r, DType.INT64, c.domB);
                    String ctx = c.name + "_(" + a + ", long " + s + "), " + r;
                    DType promoted = PromotionTest.scalarResultType(da, false);
                    DType result = c.outType(promoted);
                    if (!PromotionTest.canCast(result, da)) {
                        assertThrows(IllegalArgumentException.class, () -> c.scalarLInPlace.apply(a.t(), s), ctx);
                    } else {
                        double[] sv = new double[a.values().length];
                        Arrays.fill(sv, s);
                        double[] want = castInto(da, expected(c, promoted, a.values(), sv));
                        assertSame(a.t(), c.scalarLInPlace.apply(a.t(), s), ctx);
                        assertTensor(ctx, da, a.shape(), want, a.t());
                        assertBaseAfterWrite(ctx, a, want);
                    }
                }
            }
        }
    }

    /** Values computed in the result type, as written into a tensor of dtype {@code t}. */
    private static double[] castInto(DType t, double[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) out[i] = isFloat(t) ? roundTo(t, v[i]) : wrap(t, (long) v[i]);
        return out;
    }

    @Test
    void inPlaceWithAnOverlappingOperandReadsTheOriginalValues() {
        Rng r = Rng.fresh();
        int n = r.nextInt(2, 7);
        TT a = TestTensors.random(r, DType.FLOAT64, new long[] {n, n}, Layout.CONTIGUOUS, Domain.plain(-4, 4));
        double[] want = new double[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) want[i * n + j] = a.values()[i * n + j] + a.values()[j * n + i];
        a.t().add_(a.t().t());
        assertTensor("a += a.T, " + r, DType.FLOAT64, new long[] {n, n}, want, a.t());

        TT v = TestTensors.random(r, DType.FLOAT32, new long[] {10}, Layout.CONTIGUOUS, Domain.plain(-4, 4));
        double[] shifted = v.values().clone();
        for (int i = 1; i < 10; i++) shifted[i] = (float) (v.values()[i] * v.values()[i - 1]);
        v.t().narrow(0, 1, 9).mul_(v.t().narrow(0, 0, 9));
        assertTensor("v[1:] *= v[:-1], " + r, DType.FLOAT32, new long[] {10}, shifted, v.t());

        TT s = TestTensors.random(r, DType.INT64, new long[] {4, 5}, Layout.CONTIGUOUS, Domain.range(-9, 9));
        double[] sq = new double[20];
        for (int i = 0; i < 20; i++) sq[i] = s.values()[i] * s.values()[i];
        s.t().mul_(s.t());
        assertTensor("s *= s, " + r, DType.INT64, new long[] {4, 5}, sq, s.t());
    }

    // ------------------------------------------------------------------ errors and edge cases

    @Test
    void integerDivisionByZeroThrows() {
        Tensor a = Tensor.fromArray(new long[] {5, 3});
        Tensor z = Tensor.fromArray(new long[] {0, 1});
        for (var f : List.<Runnable>of(() -> a.floorDivide(z), () -> a.remainder(z), () -> a.floorDivide(0L), () -> a.remainder(0L),
                () -> a.clone().floorDivide_(z), () -> a.clone().remainder_(z))) {
            var e = assertThrows(ArithmeticException.class, f::run);
            assertTrue(e.getMessage().contains("ZeroDivisionError"), e.getMessage());
        }
        // float division by zero follows IEEE: 5 // 0 = inf, -5 // 0 = -inf, 0 // 0 = nan, 5 % 0 = nan
        Tensor f = Tensor.fromArray(new double[] {5, -5, 0});
        double[] fd = f.floorDivide(0.0).toDoubleArray();
        assertEquals(Double.POSITIVE_INFINITY, fd[0]);
        assertEquals(Double.NEGATIVE_INFINITY, fd[1]);
        assertTrue(Double.isNaN(fd[2]));
        for (double v : f.remainder(0.0).toDoubleArray()) assertTrue(Double.isNaN(v));
        // int / int is true division: 1 / 0 = inf
        assertArrayEquals(new double[] {Double.POSITIVE_INFINITY, 3}, a.div(z).toDoubleArray());
    }

    @Test
    void floorDivideAndRemainderFollowPython() {
        // torch.tensor([5,-5,5,-5]) // torch.tensor([3,3,-3,-3]) and %, ints and floats
        Tensor a = Tensor.fromArray(new long[] {5, -5, 5, -5}), b = Tensor.fromArray(new long[] {3, 3, -3, -3});
        assertArrayEquals(new long[] {1, -2, -2, 1}, a.floorDivide(b).toLongArray());
        assertArrayEquals(new long[] {2, 1, -1, -2}, a.remainder(b).toLongArray());
        Tensor af = a.to(DType.FLOAT32), bf = b.to(DType.FLOAT32);
        assertArrayEquals(new double[] {1, -2, -2, 1}, af.floorDivide(bf).toDoubleArray());
        assertArrayEquals(new double[] {2, 1, -1, -2}, af.remainder(bf).toDoubleArray());
        // torch.tensor(1., dtype=torch.float64) // 0.1 == 9 (1 / 0.1 rounds to exactly 10.0)
        assertEquals(9.0, Tensor.scalar(DType.FLOAT64, 1).floorDivide(0.1).item());
        assertEquals(9.0, Tensor.scalar(DType.FLOAT64, 1).floorDivide(Tensor.scalar(DType.FLOAT64, 0.1)).item());
        // inf // 2 is nan in Python and PyTorch
        assertTrue(Double.isNaN(Tensor.scalar(DType.FLOAT64, Double.POSITIVE_INFINITY).floorDivide(2.0).item()));
        assertArrayEquals(new long[] {-4, 3}, Tensor.fromArray(new int[] {-7, 7}).floorDivide(2L).toLongArray());
    }

    @Test
    void integerPowerWithNegativeExponentThrows() {
        Tensor a = Tensor.fromArray(new long[] {5, 3});
        var e = assertThrows(ArithmeticException.class, () -> a.pow(Tensor.fromArray(new long[] {-1, 1})));
        assertEquals("Integers to negative integer powers are not allowed.", e.getMessage());
        assertArrayEquals(new long[] {1, -1, 1}, Tensor.fromArray(new long[] {1, -1, -1}).pow(Tensor.fromArray(new long[] {-5, -3, -2}))
                .toLongArray());
        // a float exponent makes it float: 2 ** -1.0 = 0.5
        assertArrayEquals(new double[] {0.2, 1 / 3.0}, a.pow(Tensor.fromArray(new float[] {-1, -1})).toDoubleArray(), 1e-7);
    }

    @Test
    void integerArithmeticWrapsAndStaysExact() {
        Tensor u = Tensor.fromArray(new byte[] {(byte) 200, 3});
        assertArrayEquals(new long[] {44, 103}, u.add(100L).toLongArray());
        assertArrayEquals(new long[] {255, 0}, Tensor.fromArray(new byte[] {2, 3}).sub(Tensor.fromArray(new byte[] {3, 3})).toLongArray());
        Tensor i = Tensor.fromArray(new int[] {Integer.MAX_VALUE, Integer.MIN_VALUE});
        assertArrayEquals(new int[] {Integer.MIN_VALUE, Integer.MAX_VALUE}, i.add(Tensor.fromArray(new int[] {1, -1})).toIntArray());
        long big = (1L << 53) + 1;
        Tensor l = Tensor.fromArray(new long[] {big, -big});
        assertArrayEquals(new long[] {big + 2, -big + 2}, l.add(2L).toLongArray(), "int64 beyond 2^53 stays exact");
        assertArrayEquals(new long[] {big * 3, -big * 3}, l.mul(Tensor.fromArray(new long[] {3, 3})).toLongArray());
        assertArrayEquals(new long[] {big, -big}, l.maximum(Tensor.fromArray(new long[] {big - 1, -big - 1})).toLongArray());
        assertArrayEquals(new boolean[] {false, true}, l.eq(Tensor.fromArray(new long[] {big - 1, -big})).toBooleanArray());
    }

    @Test
    void comparisonsHappenInThePromotedType() {
        // torch.tensor([16777217]) == torch.tensor([16777216.]) is True: both compare as float32
        assertArrayEquals(new boolean[] {true}, Tensor.fromArray(new long[] {16777217}).eq(Tensor.fromArray(new float[] {16777216f}))
                .toBooleanArray());
        // torch.tensor([0.1]) == 0.1 is True: the scalar is cast to float32 first
        assertArrayEquals(new boolean[] {true}, Tensor.fromArray(new float[] {0.1f}).eq(0.1).toBooleanArray());
        // torch.tensor([0.1]) + torch.tensor(0.1, dtype=torch.float64) is 0.2f exactly (0.1f + 0.1f)
        assertEquals(0.1f + 0.1f, (float) Tensor.fromArray(new float[] {0.1f}).add(Tensor.scalar(DType.FLOAT64, 0.1)).item());
        // NaN is unequal to everything, itself included
        Tensor n = Tensor.fromArray(new float[] {Float.NaN});
        assertArrayEquals(new boolean[] {false}, n.eq(n).toBooleanArray());
        assertArrayEquals(new boolean[] {true}, n.ne(n).toBooleanArray());
    }

    @Test
    void alphaRules() {
        Tensor i = Tensor.fromArray(new long[] {1, 2});
        var e = assertThrows(IllegalArgumentException.class, () -> i.add(Tensor.fromArray(new long[] {1, 2}), 0.5));
        assertEquals("For integral input tensors, argument alpha must not be a floating point number.", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> i.sub(Tensor.fromArray(new long[] {1, 2}), 0.5));
        // torch.tensor([1, 2]).add(torch.tensor([1., 2.]), alpha=0.5) is tensor([1.5, 3.0])
        assertArrayEquals(new double[] {1.5, 3.0}, i.add(Tensor.fromArray(new float[] {1, 2}), 0.5).toDoubleArray());
        assertArrayEquals(new double[] {0.5, 1.0}, i.sub(Tensor.fromArray(new float[] {1, 2}), 0.5).toDoubleArray());
        assertArrayEquals(new long[] {3, 6}, i.add(Tensor.fromArray(new long[] {1, 2}), 2).toLongArray());
        assertArrayEquals(new long[] {-1, -2}, i.sub(Tensor.fromArray(new long[] {1, 2}), 2).toLongArray());
    }

    @Test
    void subtractionWithBoolIsRefused() {
        Tensor b = Tensor.fromArray(new boolean[] {true, false});
        var e = assertThrows(IllegalArgumentException.class, () -> b.sub(b));
        assertTrue(e.getMessage().startsWith("Subtraction, the `-` operator, with two bool tensors is not supported."), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.ones(2).sub(b));
        assertTrue(e.getMessage().startsWith("Subtraction, the `-` operator, with a bool tensor is not supported."), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> b.sub(1L));
        assertThrows(IllegalArgumentException.class, () -> b.sub_(b));
    }

    @Test
    void inPlaceBroadcastAndOverlapErrors() {
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 3).add_(Tensor.zeros(4, 2, 3)));
        assertEquals("output with shape [2, 3] doesn't match the broadcast shape [4, 2, 3]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(1, 3).mul_(Tensor.zeros(2, 1)));
        assertEquals("output with shape [1, 3] doesn't match the broadcast shape [2, 3]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros().add_(Tensor.zeros(1)));
        assertEquals("output with shape [] doesn't match the broadcast shape [1]", e.getMessage());
        Tensor expanded = Tensor.zeros(3, 1).expand(3, 4);
        e = assertThrows(IllegalArgumentException.class, () -> expanded.add_(1.0));
        assertEquals("unsupported operation: more than one element of the written-to tensor refers to a single memory location."
                + " Please clone() the tensor before performing the operation.", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> expanded.mul_(Tensor.ones(3, 4)));
        assertArrayEquals(new double[12], expanded.toDoubleArray(), "nothing was written");
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 3).add(Tensor.zeros(2, 4)));
        assertEquals("The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1", e.getMessage());
    }

    @Test
    void failedOpLeavesNoMemoryBehind() {
        Tensor a = Tensor.fromArray(new long[] {5, 3});
        Tensor z = Tensor.fromArray(new long[] {0, 1});
        Tensor minusOne = Tensor.fromArray(new long[] {-1, -1});
        Tensor three = Tensor.zeros(3);
        long live = Ember.liveBytes();
        assertThrows(ArithmeticException.class, () -> a.floorDivide(z));
        assertThrows(ArithmeticException.class, () -> a.remainder(0L));
        assertThrows(ArithmeticException.class, () -> a.pow(minusOne));
        assertThrows(ArithmeticException.class, () -> a.pow(-2L));
        assertThrows(IllegalArgumentException.class, () -> a.add(three));
        assertThrows(IllegalArgumentException.class, () -> a.add_(2.5));
        assertEquals(live, Ember.liveBytes(), "a failed op frees what it allocated");
    }
}
