package dev.ember.autograd;

import static dev.ember.autograd.Inputs.NON_INTEGER;
import static dev.ember.autograd.Inputs.NORMAL;
import static dev.ember.autograd.Inputs.POSITIVE;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.ember.autograd.Inputs.Dist;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BinaryOperator;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Float64 gradient checks of every differentiable elementwise op (unary, binary, tensor-scalar
 * and where) on fresh random inputs of random shapes, contiguous and strided, with broadcasting.
 */
class ElementwiseGradCheckTest {

    private record Unary(String name, UnaryOperator<Tensor> f, Dist dist) {}

    private static Unary u(String name, UnaryOperator<Tensor> f, Dist dist) {
        return new Unary(name, f, dist);
    }

    @TestFactory
    Stream<DynamicTest> unaryOps() {
        Dist clampSafe = NORMAL.avoiding(v -> Math.abs(v + 0.5) < 0.01 || Math.abs(v - 0.7) < 0.01);
        Dist softplusSafe = NORMAL.avoiding(v -> Math.abs(2 * v - 1) < 0.02);
        return Stream.of(
                u("neg", Tensor::neg, NORMAL),
                u("abs", Tensor::abs, NORMAL),
                u("sign", Tensor::sign, NORMAL),
                u("exp", Tensor::exp, NORMAL),
                u("log", Tensor::log, POSITIVE),
                u("log1p", Tensor::log1p, Inputs.uniform(-0.7, 3)),
                u("expm1", Tensor::expm1, NORMAL),
                u("sqrt", Tensor::sqrt, POSITIVE),
                u("rsqrt", Tensor::rsqrt, POSITIVE),
                u("sin", Tensor::sin, NORMAL),
                u("cos", Tensor::cos, NORMAL),
                u("tanh", Tensor::tanh, NORMAL),
                u("sigmoid", Tensor::sigmoid, NORMAL),
                u("relu", Tensor::relu, NORMAL),
                u("gelu", Tensor::gelu, NORMAL),
                u("gelu none", x -> x.gelu("none"), NORMAL),
                u("gelu tanh", x -> x.gelu("tanh"), NORMAL),
                u("silu", Tensor::silu, NORMAL),
                u("softplus", Tensor::softplus, NORMAL),
                u("softplus beta 2 threshold 1", x -> x.softplus(2, 1), softplusSafe),
                u("clamp", x -> x.clamp(-0.5, 0.7), clampSafe),
                u("clamp integral bounds", x -> x.clamp(-1, 1), NORMAL.avoiding(v -> Math.abs(Math.abs(v) - 1) < 0.01)),
                u("clampMin", x -> x.clampMin(-0.5), clampSafe),
                u("clampMax", x -> x.clampMax(0.7), clampSafe),
                u("floor", Tensor::floor, NON_INTEGER),
                u("ceil", Tensor::ceil, NON_INTEGER),
                u("round", Tensor::round, NON_INTEGER),
                u("pow 2 (long)", x -> x.pow(2L), NORMAL),
                u("pow 3 (long)", x -> x.pow(3L), NORMAL),
                u("pow 0 (long)", x -> x.pow(0L), NORMAL),
                u("pow 1 (long)", x -> x.pow(1L), NORMAL),
                u("pow -2 (long)", x -> x.pow(-2L), POSITIVE),
                u("pow 2.0", x -> x.pow(2.0), NORMAL),
                u("pow 0.0", x -> x.pow(0.0), NORMAL),
                u("pow 2.5", x -> x.pow(2.5), POSITIVE),
                u("pow 0.5", x -> x.pow(0.5), POSITIVE),
                u("pow -1.5", x -> x.pow(-1.5), POSITIVE),
                u("chain exp(sin(x)) * x", x -> x.sin().exp().mul(x), NORMAL))
                .map(c -> dynamicTest(c.name(), () -> checkUnary(c)));
    }

    private static void checkUnary(Unary c) {
        Inputs in = new Inputs();
        for (int rank = 0; rank <= 3; rank++) {
            long[] shape = in.shape(rank, 3);
            for (boolean contiguous : new boolean[] {true, false}) {
                if (!contiguous && rank == 0) continue;
                Inputs.scoped(() -> {
                    Tensor x = in.leaf(c.dist(), contiguous, shape);
                    in.check(c.name(), t -> c.f().apply(t[0]), x);
                });
            }
        }
        // a transposed (non-contiguous, not just strided) operand
        Inputs.scoped(() -> {
            Tensor x = in.leaf(c.dist(), 3, 4);
            in.check(c.name() + " of x.t()", t -> c.f().apply(t[0].t()), x);
        });
    }

    private record Binary(String name, BinaryOperator<Tensor> f, Dist a, Dist b) {}

    private static Binary b(String name, BinaryOperator<Tensor> f, Dist a, Dist b) {
        return new Binary(name, f, a, b);
    }

    /** Shape pairs: equal, broadcast either way, with a 0-d operand. */
    private static final long[][][] SHAPES = {
        {{3, 4}, {3, 4}},
        {{2, 3, 4}, {4}},
        {{3, 1}, {1, 4}},
        {{2, 1, 3}, {4, 3}},
        {{4}, {2, 3, 4}},
        {{}, {3}},
        {{2, 3}, {}},
        {{}, {}},
    };

    @TestFactory
    Stream<DynamicTest> binaryOps() {
        return Stream.of(
                b("add", Tensor::add, NORMAL, NORMAL),
                b("add alpha 2.5", (x, y) -> x.add(y, 2.5), NORMAL, NORMAL),
                b("add alpha -1", (x, y) -> x.add(y, -1), NORMAL, NORMAL),
                b("sub", Tensor::sub, NORMAL, NORMAL),
                b("sub alpha 0.5", (x, y) -> x.sub(y, 0.5), NORMAL, NORMAL),
                b("mul", Tensor::mul, NORMAL, NORMAL),
                b("div", Tensor::div, NORMAL, Inputs.awayFromZero(0.5, 2)),
                b("pow", Tensor::pow, POSITIVE, NORMAL),
                b("mul then add (shared input)", (x, y) -> x.mul(y).add(x), NORMAL, NORMAL))
                .map(c -> dynamicTest(c.name(), () -> checkBinary(c)));
    }

    /** The fixed pairs, then a random shape against a random broadcastable one (dims dropped from the front or set to 1). */
    private static List<long[][]> shapePairs(Inputs in) {
        List<long[][]> pairs = new ArrayList<>(List.of(SHAPES));
        long[] a = in.shape(1 + in.nextInt(3), 3);
        long[] b = java.util.Arrays.copyOfRange(a, in.nextInt(a.length), a.length);
        for (int i = 0; i < b.length; i++) if (in.nextInt(2) == 0) b[i] = 1;
        pairs.add(in.nextInt(2) == 0 ? new long[][] {a, b} : new long[][] {b, a});
        return pairs;
    }

    private static void checkBinary(Binary c) {
        Inputs in = new Inputs();
        for (long[][] pair : shapePairs(in)) {
            for (boolean contiguous : new boolean[] {true, false}) {
                Inputs.scoped(() -> {
                    Tensor a = in.leaf(c.a(), contiguous, pair[0]);
                    Tensor b = in.leaf(c.b(), contiguous, pair[1]);
                    in.check(c.name(), t -> c.f().apply(t[0], t[1]), a, b);
                });
            }
        }
        // only one side requires grad
        Inputs.scoped(() -> {
            Tensor a = in.leaf(c.a(), 2, 3);
            Tensor b = in.constant(c.b(), 3);
            in.check(c.name() + " (b constant)", t -> c.f().apply(t[0], t[1]), a, b);
            in.check(c.name() + " (a constant)", t -> c.f().apply(t[1], t[0]), b.requiresGrad_(), a.detach());
        });
    }

    @Test
    void remainderAwayFromItsJumps() {
        Inputs in = new Inputs();
        for (long[][] pair : shapePairs(in)) {
            for (boolean contiguous : new boolean[] {true, false}) {
                Inputs.scoped(() -> {
                    Tensor a, b;
                    int tries = 0;
                    do {
                        a = in.leaf(Inputs.uniform(-4, 4), contiguous, pair[0]);
                        b = in.leaf(Inputs.awayFromZero(0.5, 2), contiguous, pair[1]);
                    } while (!fractionalPartsSafe(a, b) && ++tries < 1000);
                    in.check("remainder", t -> t[0].remainder(t[1]), a, b);
                });
            }
        }
        Inputs.scoped(() -> {
            Tensor a = in.leaf(Inputs.uniform(-4, 4).avoiding(v -> {
                double f = v / 1.5 - Math.floor(v / 1.5);
                return f < 0.01 || f > 0.99;
            }), 3, 4);
            in.check("remainder(1.5)", t -> t[0].remainder(1.5), a);
            in.check("remainder(-1.5)", t -> t[0].remainder(-1.5), a);
        });
    }

    /** a / b at least 0.01 away from an integer everywhere, where remainder jumps. */
    private static boolean fractionalPartsSafe(Tensor a, Tensor b) {
        try (var s = Ember.scope(); var ng = Ember.noGrad()) {
            Tensor q = a.div(b);
            Tensor frac = q.sub(q.floor());
            return frac.min().item() > 0.01 && frac.max().item() < 0.99;
        }
    }

    @Test
    void maximumAndMinimumWithoutTies() {
        Inputs in = new Inputs();
        for (long[][] pair : shapePairs(in)) {
            for (boolean contiguous : new boolean[] {true, false}) {
                Inputs.scoped(() -> {
                    Tensor a, b;
                    int tries = 0;
                    do {
                        a = in.leaf(NORMAL, contiguous, pair[0]);
                        b = in.leaf(NORMAL, contiguous, pair[1]);
                    } while (!apart(a, b) && ++tries < 1000);
                    in.check("maximum", t -> t[0].maximum(t[1]), a, b);
                    in.check("minimum", t -> t[0].minimum(t[1]), a, b);
                });
            }
        }
    }

    private static boolean apart(Tensor a, Tensor b) {
        try (var s = Ember.scope(); var ng = Ember.noGrad()) {
            return a.sub(b).abs().min().item() > 1e-3;
        }
    }

    @TestFactory
    Stream<DynamicTest> tensorScalarOps() {
        record S(String name, UnaryOperator<Tensor> f, Dist d) {}
        return Stream.of(
                new S("add(double)", x -> x.add(1.5), NORMAL),
                new S("add(long)", x -> x.add(3L), NORMAL),
                new S("sub(double)", x -> x.sub(0.25), NORMAL),
                new S("sub(long)", x -> x.sub(2L), NORMAL),
                new S("mul(double)", x -> x.mul(-2.5), NORMAL),
                new S("mul(long)", x -> x.mul(3L), NORMAL),
                new S("div(double)", x -> x.div(0.3), NORMAL),
                new S("pow(double) on a tensor-scalar chain", x -> x.mul(2.0).add(1.0).pow(2.0), NORMAL))
                .map(c -> dynamicTest(c.name(), () -> {
                    Inputs in = new Inputs();
                    for (boolean contiguous : new boolean[] {true, false}) {
                        Inputs.scoped(() -> in.check(c.name(), t -> c.f().apply(t[0]), in.leaf(c.d(), contiguous, 2, 3)));
                    }
                    Inputs.scoped(() -> in.check(c.name() + " 0-d", t -> c.f().apply(t[0]), in.leaf(c.d())));
                }));
    }

    @Test
    void where() {
        Inputs in = new Inputs();
        long[][][] shapes = {
            {{3, 4}, {3, 4}, {3, 4}},
            {{3, 4}, {4}, {3, 1}},
            {{3, 1}, {1, 4}, {}},
            {{2, 1, 3}, {3}, {2, 4, 3}},
        };
        for (long[][] s : shapes) {
            for (boolean contiguous : new boolean[] {true, false}) {
                Inputs.scoped(() -> {
                    Tensor cond = in.mask(s[0]);
                    Tensor a = in.leaf(NORMAL, contiguous, s[1]);
                    Tensor b = in.leaf(NORMAL, contiguous, s[2]);
                    in.check("where", t -> Tensor.where(Inputs.on(t[0], cond), t[0], t[1]), a, b);
                    in.check("a.where(cond, b)", t -> t[0].where(Inputs.on(t[0], cond), t[1]), a, b);
                });
            }
        }
        Inputs.scoped(() -> {
            Tensor a = in.leaf(NORMAL, 3, 4);
            Tensor b = in.constant(NORMAL, 3, 4);
            in.check("where (b constant)", t -> Tensor.where(t[0].gt(0.0), t[0].exp(), t[1]), a, b);
        });
    }

    /** Where the derivative is not defined, the value PyTorch picks (never NaN where PyTorch has none). */
    @Test
    void gradientsAtEdgePointsMatchPyTorch() {
        Inputs.scoped(() -> {
            // pow(base, exponent): d/dbase is 0 where exponent == 0 (even at base 0), d/dexponent is 0 at base 0
            Tensor x = Tensor.fromArray(new double[] {0, 2, 0}).requiresGrad_();
            Tensor e = Tensor.fromArray(new double[] {0, 3, 2}).requiresGrad_();
            x.pow(e).sum().backward();
            org.junit.jupiter.api.Assertions.assertArrayEquals(new double[] {0, 12, 0}, x.grad().toDoubleArray(), 0);
            org.junit.jupiter.api.Assertions.assertArrayEquals(new double[] {0, 8 * Math.log(2), 0}, e.grad().toDoubleArray(),
                    1e-12);
            // pow with a scalar exponent 0, abs/relu/sign at 0
            Tensor z = Tensor.fromArray(new double[] {0, 1}).requiresGrad_();
            z.pow(0.0).sum().add(z.abs().sum()).add(z.relu().sum()).add(z.sign().sum()).backward();
            org.junit.jupiter.api.Assertions.assertArrayEquals(new double[] {0, 2}, z.grad().toDoubleArray(), 0);
            // maximum/minimum ties split the gradient evenly
            Tensor a = Tensor.fromArray(new double[] {1, 2}).requiresGrad_();
            a.maximum(a.detach()).sum().add(a.minimum(a.detach()).sum()).backward();
            org.junit.jupiter.api.Assertions.assertArrayEquals(new double[] {1, 1}, a.grad().toDoubleArray(), 0);
            // clamp passes the gradient at its bounds (inclusive), as PyTorch
            Tensor c = Tensor.fromArray(new double[] {-1, 0, 1, 2}).requiresGrad_();
            c.clamp(-1, 1).sum().backward();
            org.junit.jupiter.api.Assertions.assertArrayEquals(new double[] {1, 1, 1, 0}, c.grad().toDoubleArray(), 0);
        });
    }
}
