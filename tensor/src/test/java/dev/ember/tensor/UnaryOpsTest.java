package dev.ember.tensor;

import static dev.ember.tensor.TestTensors.ALL;
import static dev.ember.tensor.TestTensors.FLOATS;
import static dev.ember.tensor.TestTensors.NUMERIC;
import static dev.ember.tensor.TestTensors.assertBaseAfterWrite;
import static dev.ember.tensor.TestTensors.assertTensor;
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
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleUnaryOperator;
import java.util.function.LongUnaryOperator;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every op of {@link UnaryOps}, out of place and in place, against float64 math written here,
 * on fresh random inputs of random shapes and layouts for every dtype the op supports, through
 * both the Vector API path (contiguous float32, lengths off the vector width) and the strided one.
 */
@ExtendWith(TestTensors.Scoped.class)
class UnaryOpsTest {

    /** How the result dtype follows from the input's, as PyTorch's. */
    enum Kind { SAME, FLOAT, BOOL }

    /**
     * One op under test: its Ember forms, the reference on float64 values, the reference on
     * integers (for ops that keep integer dtypes), the input domain and the dtypes it supports.
     */
    record Case(String name, UnaryOperator<Tensor> op, UnaryOperator<Tensor> inPlace, DoubleUnaryOperator ref,
                LongUnaryOperator intRef, Kind kind, Domain domain, DType[] dtypes) {
        DType resultType(DType in) {
            return switch (kind) {
                case SAME -> in;
                case FLOAT -> isFloat(in) ? in : DType.FLOAT32;
                case BOOL -> DType.BOOL;
            };
        }

        @Override
        public String toString() { return name; }
    }

    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
    private static final DoubleUnaryOperator GELU_REF = UnaryOpsTest::geluExact;

    static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        // float results: integer and bool inputs give float32
        c.add(new Case("exp", Tensor::exp, Tensor::exp_, Math::exp, null, Kind.FLOAT, Domain.range(-6, 6), ALL));
        c.add(new Case("log", Tensor::log, Tensor::log_, Math::log, null, Kind.FLOAT, Domain.range(-1, 8), ALL));
        c.add(new Case("log1p", Tensor::log1p, Tensor::log1p_, Math::log1p, null, Kind.FLOAT, Domain.range(-1.5, 8), ALL));
        c.add(new Case("expm1", Tensor::expm1, Tensor::expm1_, Math::expm1, null, Kind.FLOAT, Domain.range(-5, 5), ALL));
        c.add(new Case("sqrt", Tensor::sqrt, Tensor::sqrt_, Math::sqrt, null, Kind.FLOAT, Domain.range(-1, 9), ALL));
        c.add(new Case("rsqrt", Tensor::rsqrt, Tensor::rsqrt_, x -> 1 / Math.sqrt(x), null, Kind.FLOAT, Domain.range(-1, 9), ALL));
        c.add(new Case("sin", Tensor::sin, Tensor::sin_, Math::sin, null, Kind.FLOAT, Domain.range(-10, 10), ALL));
        c.add(new Case("cos", Tensor::cos, Tensor::cos_, Math::cos, null, Kind.FLOAT, Domain.range(-10, 10), ALL));
        c.add(new Case("tanh", Tensor::tanh, Tensor::tanh_, Math::tanh, null, Kind.FLOAT, Domain.range(-6, 6), ALL));
        c.add(new Case("sigmoid", Tensor::sigmoid, Tensor::sigmoid_, x -> 1 / (1 + Math.exp(-x)), null, Kind.FLOAT,
                Domain.range(-15, 15), ALL));
        // activations PyTorch defines for floating types only
        c.add(new Case("gelu", Tensor::gelu, null, GELU_REF, null, Kind.FLOAT, Domain.range(-7, 7), FLOATS));
        c.add(new Case("gelu(none)", x -> x.gelu("none"), null, GELU_REF, null, Kind.FLOAT, Domain.range(-7, 7), FLOATS));
        c.add(new Case("gelu(tanh)", x -> x.gelu("tanh"), null,
                x -> 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))), null, Kind.FLOAT,
                Domain.range(-7, 7), FLOATS));
        c.add(new Case("silu", Tensor::silu, Tensor::silu_, x -> x / (1 + Math.exp(-x)), null, Kind.FLOAT,
                Domain.range(-12, 12), FLOATS));
        c.add(new Case("softplus", Tensor::softplus, null, x -> x > 20 ? x : Math.log1p(Math.exp(x)), null, Kind.FLOAT,
                Domain.range(-30, 30), FLOATS));
        c.add(new Case("softplus(2,5)", x -> x.softplus(2, 5), null, x -> 2 * x > 5 ? x : Math.log1p(Math.exp(2 * x)) / 2,
                null, Kind.FLOAT, Domain.range(-10, 10), FLOATS));
        // same dtype as the input
        c.add(new Case("abs", Tensor::abs, Tensor::abs_, Math::abs, Math::abs, Kind.SAME, Domain.DEFAULT, NUMERIC));
        c.add(new Case("neg", Tensor::neg, Tensor::neg_, x -> -x, x -> -x, Kind.SAME, Domain.DEFAULT, NUMERIC));
        c.add(new Case("relu", Tensor::relu, Tensor::relu_, x -> x > 0 || Double.isNaN(x) ? x : 0, x -> Math.max(x, 0),
                Kind.SAME, Domain.DEFAULT, NUMERIC));
        c.add(new Case("sign", Tensor::sign, Tensor::sign_, x -> x > 0 ? 1 : x < 0 ? -1 : 0, Long::signum, Kind.SAME,
                Domain.DEFAULT, ALL));
        c.add(new Case("floor", Tensor::floor, Tensor::floor_, Math::floor, x -> x, Kind.SAME, Domain.DEFAULT, NUMERIC));
        c.add(new Case("ceil", Tensor::ceil, Tensor::ceil_, Math::ceil, x -> x, Kind.SAME, Domain.DEFAULT, NUMERIC));
        c.add(new Case("round", Tensor::round, Tensor::round_, Math::rint, x -> x, Kind.SAME,
                Domain.of(-3.5, -2.5, -1.5, -0.5, -0.25, 0, 0.5, 0.75, 1.5, 2.5, 3.5, 1.2, -7.7, Double.NaN), NUMERIC));
        c.add(new Case("clamp(-2,3)", x -> x.clamp(-2, 3), x -> x.clamp_(-2, 3), x -> clampRef(x, -2, 3),
                x -> Math.min(Math.max(x, -2), 3), Kind.SAME, Domain.DEFAULT, NUMERIC));
        c.add(new Case("clampMin(1)", x -> x.clampMin(1), x -> x.clampMin_(1), x -> clampRef(x, 1, Double.POSITIVE_INFINITY),
                x -> Math.max(x, 1), Kind.SAME, Domain.DEFAULT, NUMERIC));
        c.add(new Case("clampMax(2)", x -> x.clampMax(2), x -> x.clampMax_(2), x -> clampRef(x, Double.NEGATIVE_INFINITY, 2),
                x -> Math.min(x, 2), Kind.SAME, Domain.DEFAULT, NUMERIC));
        // fractional bounds: integer inputs become float32, as torch.clamp(int_tensor, 0.5)
        c.add(new Case("clamp(-1.25,2.5)", x -> x.clamp(-1.25, 2.5), x -> x.clamp_(-1.25, 2.5), x -> clampRef(x, -1.25, 2.5),
                null, Kind.FLOAT, Domain.DEFAULT, NUMERIC));
        c.add(new Case("clampMin(0.5)", x -> x.clampMin(0.5), x -> x.clampMin_(0.5), x -> clampRef(x, 0.5, Double.POSITIVE_INFINITY),
                null, Kind.FLOAT, Domain.DEFAULT, NUMERIC));
        c.add(new Case("clampMax(-0.5)", x -> x.clampMax(-0.5), x -> x.clampMax_(-0.5),
                x -> clampRef(x, Double.NEGATIVE_INFINITY, -0.5), null, Kind.FLOAT, Domain.DEFAULT, NUMERIC));
        c.add(new Case("clamp(3,1)", x -> x.clamp(3, 1), x -> x.clamp_(3, 1), x -> clampRef(x, 3, 1),
                x -> Math.min(Math.max(x, 3), 1), Kind.SAME, Domain.DEFAULT, NUMERIC));
        // scalar powers
        c.add(new Case("pow(2.0)", x -> x.pow(2.0), x -> x.pow_(2.0), x -> Math.pow(x, 2), null, Kind.FLOAT, Domain.DEFAULT, NUMERIC));
        c.add(new Case("pow(0.5)", x -> x.pow(0.5), x -> x.pow_(0.5), x -> Math.pow(x, 0.5), null, Kind.FLOAT, Domain.DEFAULT, NUMERIC));
        c.add(new Case("pow(-1.5)", x -> x.pow(-1.5), x -> x.pow_(-1.5), x -> Math.pow(x, -1.5), null, Kind.FLOAT,
                Domain.range(0, 5), FLOATS));
        c.add(new Case("pow(3L)", x -> x.pow(3L), null, x -> Math.pow(x, 3), x -> x * x * x, Kind.SAME, Domain.range(-6, 6), NUMERIC));
        // bool results
        c.add(new Case("isnan", Tensor::isnan, null, x -> Double.isNaN(x) ? 1 : 0, null, Kind.BOOL, Domain.range(-3, 3), ALL));
        c.add(new Case("isfinite", Tensor::isfinite, null, x -> Double.isFinite(x) ? 1 : 0, null, Kind.BOOL, Domain.range(-3, 3), ALL));
        c.add(new Case("logicalNot", Tensor::logicalNot, null, x -> x == 0 ? 1 : 0, null, Kind.BOOL, Domain.of(0, -0.0, 1, -2.5,
                Double.NaN, 3), ALL));
        return c;
    }

    private static double clampRef(double x, double lo, double hi) {
        return Double.isNaN(x) ? x : Math.min(Math.max(x, lo), hi);
    }

    /** The expected result of {@code c} on input values {@code xs} of dtype {@code in}. */
    static double[] reference(Case c, DType in, double[] xs) {
        DType out = c.resultType(in);
        double[] e = new double[xs.length];
        for (int i = 0; i < xs.length; i++) {
            double x = xs[i];
            if (out == DType.BOOL) e[i] = c.ref().applyAsDouble(x) != 0 ? 1 : 0;
            else if (!isFloat(out)) e[i] = wrap(out, c.intRef().applyAsLong((long) x));
            else e[i] = roundTo(out, c.ref().applyAsDouble(roundTo(computeType(out), x)));
        }
        return e;
    }

    // ------------------------------------------------------------------ random checks

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void outOfPlaceOnRandomShapesLayoutsAndDtypes(Case c) {
        Rng r = Rng.fresh();
        for (DType dt : c.dtypes()) {
            for (int trial = 0; trial < 10; trial++) {
                TT x = TestTensors.random(r, dt, randomShape(r, 4, 6), c.domain());
                check(c, x, r);
            }
            // 0-d and zero-size
            check(c, TestTensors.random(r, dt, new long[0], c.domain()), r);
            check(c, TestTensors.random(r, dt, new long[] {3, 0, 2}, c.domain()), r);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void vectorPathOnContiguousFloat32OfAwkwardLengths(Case c) {
        Rng r = Rng.fresh();
        DType dt = DType.FLOAT32;
        if (!java.util.Arrays.asList(c.dtypes()).contains(dt)) return;
        for (int len : new int[] {1, 3, 7, 15, 16, 17, 31, 33, 63, 65, 100 + r.nextInt(0, 60), 1000 + r.nextInt(1, 15)}) {
            check(c, TestTensors.randomVector(r, dt, len, c.domain()), r);
        }
        // a run that starts mid-storage (non-zero offset) and one big enough for the parallel split
        TT base = TestTensors.random(r, dt, new long[] {3, 37}, Layout.CONTIGUOUS, c.domain());
        Tensor row = base.t().select(0, 1);
        TT sliced = new TT(row, java.util.Arrays.copyOfRange(base.values(), 37, 74), base.base(), base.baseValues(),
                base.geom().select(0, 1), "row 1 of " + base);
        check(c, sliced, r);
        if (c.ref() == (Object) GELU_REF) return; // its decimal reference is too slow for 40k elements
        check(c, TestTensors.random(r, dt, new long[] {40_000 + r.nextInt(1, 15)}, Layout.CONTIGUOUS, c.domain()), r);
        check(c, TestTensors.random(r, dt, new long[] {170, 205}, Layout.PERMUTED, c.domain()), r);
    }

    private static void check(Case c, TT x, Rng r) {
        String ctx = c.name() + " on " + x + ", " + r;
        Tensor y = c.op().apply(x.t());
        assertTensor(ctx, c.resultType(x.dtype()), x.shape(), reference(c, x.dtype(), x.values()), y);
        assertTrue(y.isContiguous(), ctx + ": result contiguous");
        assertTensor(ctx + ": input left unchanged", x.dtype(), x.shape(), x.values(), x.t());
    }

    @ParameterizedTest(name = "{0}_")
    @MethodSource("cases")
    void inPlaceWritesThroughTheViewOnly(Case c) {
        if (c.inPlace() == null) return;
        Rng r = Rng.fresh();
        for (DType dt : c.dtypes()) {
            for (int trial = 0; trial < 5; trial++) {
                TT x = TestTensors.randomWritable(r, dt, randomShape(r, 4, 5), c.domain());
                String ctx = c.name() + "_ on " + x + ", " + r;
                DType result = c.resultType(dt);
                if (isFloat(result) && !isFloat(dt)) {
                    var e = assertThrows(IllegalArgumentException.class, () -> c.inPlace().apply(x.t()), ctx);
                    assertEquals("result type Float can't be cast to the desired output type " + torchName(dt), e.getMessage(), ctx);
                    assertTensor(ctx + ": left unchanged", dt, x.shape(), x.values(), x.t());
                    continue;
                }
                int version = x.t().version();
                Tensor y = c.inPlace().apply(x.t());
                assertSame(x.t(), y, ctx + ": returns this");
                double[] expected = reference(c, dt, x.values());
                assertTensor(ctx, dt, x.shape(), expected, x.t());
                assertBaseAfterWrite(ctx, x, expected);
                assertTrue(x.t().version() > version, ctx + ": version bumped");
            }
        }
    }

    @ParameterizedTest(name = "{0}_")
    @MethodSource("cases")
    void inPlaceIntoAnExpandedTensorIsRefused(Case c) {
        if (c.inPlace() == null) return;
        Tensor x = Tensor.ones(3, 1).expand(3, 4);
        var e = assertThrows(IllegalArgumentException.class, () -> c.inPlace().apply(x), c.name());
        assertTrue(e.getMessage().contains("more than one element of the written-to tensor refers to a single memory location"),
                e.getMessage());
    }

    static String torchName(DType t) {
        return switch (t) {
            case BOOL -> "Bool";
            case UINT8 -> "Byte";
            case INT32 -> "Int";
            case INT64 -> "Long";
            case FLOAT16 -> "Half";
            case BFLOAT16 -> "BFloat16";
            case FLOAT32 -> "Float";
            case FLOAT64 -> "Double";
        };
    }

    // ------------------------------------------------------------------ fixed values from PyTorch

    @Test
    void geluMatchesPyTorchFloat64() {
        // torch.nn.functional.gelu(torch.tensor([...], dtype=torch.float64)) and approximate='tanh', torch 1.13
        double[] x = {-7.5, -5, -3, -1, -0.1, 0.5, 2, 4};
        double[] exact = {-2.39391839684799379e-13, -1.43325785934012018e-06, -4.04969409489031040e-03,
                -1.58655253931457019e-01, -4.60172162722971012e-02, 3.45731230637006559e-01, 1.95449973610364158e+00,
                3.99987331503266752e+00};
        double[] tanh = {-0.0, -2.29179619726238570e-07, -3.63739208177299433e-03, -1.58808009391723293e-01,
                -4.60172489545648405e-02, 3.45714009825143942e-01, 1.95459769408777495e+00, 3.99992975405180751e+00};
        for (int i = 0; i < x.length; i++) {
            assertEquals(exact[i], geluExact(x[i]), 1e-15 + 1e-13 * Math.abs(exact[i]), "reference gelu(" + x[i] + ")");
        }
        Tensor t = Tensor.fromArray(x);
        assertTensor("gelu float64", DType.FLOAT64, new long[] {8}, exact, t.gelu());
        assertTensor("gelu tanh float64", DType.FLOAT64, new long[] {8}, tanh, t.gelu("tanh"));
        var e = assertThrows(IllegalArgumentException.class, () -> t.gelu("fast"));
        assertTrue(e.getMessage().contains("approximate"), e.getMessage());
    }

    @Test
    void resultDtypesFollowPyTorch() {
        Tensor i = Tensor.fromArray(new int[] {1, 2});
        assertEquals(DType.FLOAT32, i.exp().dtype());
        assertEquals(DType.FLOAT32, i.sqrt().dtype());
        assertEquals(DType.INT32, i.relu().dtype());
        assertEquals(DType.INT32, i.abs().dtype());
        assertEquals(DType.INT32, i.neg().dtype());
        assertEquals(DType.BOOL, i.isnan().dtype());
        assertEquals(DType.INT32, i.clamp(0, 1).dtype());
        assertEquals(DType.FLOAT32, i.clamp(0.5, 1).dtype());
        assertEquals(DType.INT32, i.pow(2L).dtype());
        assertEquals(DType.FLOAT32, i.pow(2.0).dtype());
        Tensor h = Tensor.ones(DType.FLOAT16, 2);
        assertEquals(DType.FLOAT16, h.exp().dtype());
        assertEquals(DType.FLOAT16, h.pow(2.0).dtype());
        Tensor b = Tensor.fromArray(new boolean[] {true, false});
        assertEquals(DType.FLOAT32, b.exp().dtype());
        assertArrayEquals(new double[] {Math.E, 1}, b.exp().toDoubleArray(), 1e-6);
        assertArrayEquals(new boolean[] {false, true}, b.logicalNot().toBooleanArray());
        // torch.tensor([True]).pow(2) is int64
        assertEquals(DType.INT64, b.pow(2L).dtype());
        assertArrayEquals(new long[] {1, 0}, b.pow(2L).toLongArray());
    }

    @Test
    void specialValues() {
        Tensor x = Tensor.fromArray(new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, 0f, -2.5f, 2.5f, 0.5f});
        assertArrayEquals(new double[] {0, 1, -1, 0, 0, -1, 1, 1}, x.sign().toDoubleArray());
        double[] relu = x.relu().toDoubleArray();
        assertTrue(Double.isNaN(relu[0]), "relu keeps NaN");
        assertArrayEquals(new double[] {Double.POSITIVE_INFINITY, 0, 0, 0, 0, 2.5, 0.5}, java.util.Arrays.copyOfRange(relu, 1, 8), 0);
        double[] round = x.round().toDoubleArray();
        assertArrayEquals(new double[] {Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0, 0, -2, 2, 0},
                java.util.Arrays.copyOfRange(round, 1, 8), 0);
        assertArrayEquals(new boolean[] {true, false, false, false, false, false, false, false}, x.isnan().toBooleanArray());
        assertArrayEquals(new boolean[] {false, false, false, true, true, true, true, true}, x.isfinite().toBooleanArray());
        // float16 overflows to inf, as PyTorch's half exp
        Tensor h = Tensor.full(DType.FLOAT16, 12, 3);
        assertArrayEquals(new double[] {Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY},
                h.exp().toDoubleArray());
        // uint8 negation wraps
        assertArrayEquals(new long[] {255, 254, 0}, Tensor.fromArray(new byte[] {1, 2, 0}).neg().toLongArray());
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.fromArray(new boolean[] {true}).neg());
        assertTrue(e.getMessage().contains("Negation, the `-` operator, on a bool tensor is not supported"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.fromArray(new boolean[] {true}).neg_());
    }

    @Test
    void integerPowerWithNegativeExponentIsRefused() {
        Tensor i = Tensor.fromArray(new long[] {2, 3});
        var e = assertThrows(RuntimeException.class, () -> i.pow(-1L));
        assertTrue(e.getMessage().contains("Integers to negative integer powers are not allowed"), e.getMessage());
        // 1 and -1 to negative powers are fine
        assertArrayEquals(new long[] {1, -1, 1}, Tensor.fromArray(new long[] {1, -1, 1}).pow(-3L).toLongArray());
        assertArrayEquals(new long[] {1, 1}, Tensor.fromArray(new long[] {1, -1}).pow(-2L).toLongArray());
    }

    // ------------------------------------------------------------------ high-precision erf for the gelu reference

    private static final MathContext MC = new MathContext(70);
    private static final BigDecimal PI = new BigDecimal(
            "3.14159265358979323846264338327950288419716939937510582097494459230781640628620899862803");
    private static final BigDecimal TWO_OVER_SQRT_PI = BigDecimal.valueOf(2).divide(PI.sqrt(MC), MC);
    private static final BigDecimal SQRT_2 = BigDecimal.valueOf(2).sqrt(MC);

    /** gelu(x) = x/2 (1 + erf(x/sqrt 2)), with erf from its Maclaurin series in 70-digit decimal arithmetic. */
    static double geluExact(double x) {
        if (Double.isNaN(x)) return x;
        if (Double.isInfinite(x)) return x > 0 ? x : Double.NaN;
        if (x > 12) return x;
        if (x < -12) return -0.0; // |gelu| < 1e-31
        BigDecimal bx = new BigDecimal(x);
        BigDecimal z = bx.divide(SQRT_2, MC);
        // erf(z) = 2/sqrt(pi) sum (-1)^n z^(2n+1) / (n! (2n+1))
        BigDecimal z2 = z.multiply(z, MC).negate();
        BigDecimal term = z, sum = z;
        BigDecimal eps = new BigDecimal("1e-50");
        for (int n = 1; n < 2000; n++) {
            term = term.multiply(z2, MC).divide(BigDecimal.valueOf(n), MC);
            BigDecimal add = term.divide(BigDecimal.valueOf(2L * n + 1), MC);
            sum = sum.add(add, MC);
            if (add.abs().compareTo(eps) < 0 && n > 2 * z2.abs().doubleValue()) break;
        }
        BigDecimal erf = sum.multiply(TWO_OVER_SQRT_PI, MC);
        return bx.multiply(BigDecimal.ONE.add(erf, MC), MC).divide(BigDecimal.valueOf(2), MC).doubleValue();
    }
}
