package dev.ember.autograd;

import static dev.ember.autograd.Inputs.NORMAL;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.ember.tensor.Ember;
import dev.ember.tensor.Tensor;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Float64 gradient checks of reductions, softmax-like ops and cumsum, over all dims and single dims, keepdim both ways. */
class ReductionGradCheckTest {

    private record R(String name, UnaryOperator<Tensor> f) {}

    private static final int[] ALL = {};

    /** The reductions that take (dims, keepdim), each over all, one, several and negative dims, keepdim both ways. */
    @TestFactory
    Stream<DynamicTest> dimReductions() {
        Stream.Builder<R> cases = Stream.builder();
        int[][] dimSets = {ALL, {0}, {1}, {-1}, {0, 2}, {2, 0}};
        for (int[] dims : dimSets) {
            for (boolean keep : new boolean[] {false, true}) {
                String at = java.util.Arrays.toString(dims) + (keep ? " keepdim" : "");
                cases.add(new R("sum " + at, x -> x.sum(dims, keep)));
                cases.add(new R("mean " + at, x -> x.mean(dims, keep)));
                for (double correction : new double[] {0, 1}) {
                    cases.add(new R("var correction " + correction + " " + at, x -> x.var(dims, correction, keep)));
                    cases.add(new R("std correction " + correction + " " + at, x -> x.std(dims, correction, keep)));
                }
                for (double p : new double[] {1, 2, 3, Double.POSITIVE_INFINITY}) {
                    cases.add(new R("norm p=" + p + " " + at, x -> x.norm(p, dims, keep)));
                }
                cases.add(new R("logsumexp " + at, x -> x.logsumexp(dims, keep)));
            }
        }
        return cases.build().map(c -> dynamicTest(c.name(), () -> {
            Inputs in = new Inputs();
            long[] shape = {2 + in.nextInt(2), 2 + in.nextInt(2), 2 + in.nextInt(2)}; // no size 1: var's dof stays > 0
            for (boolean contiguous : new boolean[] {true, false}) {
                Inputs.scoped(() -> {
                    Tensor x;
                    do {
                        x = in.leaf(NORMAL, contiguous, shape);
                    } while (!noNearTiesOfAbs(x));
                    in.check(c.name(), t -> c.f().apply(t[0]), x);
                });
            }
        }));
    }

    /** inf-norm's gradient jumps where two |x| tie: keep every pair 1e-3 apart. */
    private static boolean noNearTiesOfAbs(Tensor x) {
        double[] v = x.toDoubleArray();
        for (int i = 0; i < v.length; i++) {
            for (int j = i + 1; j < v.length; j++) {
                if (Math.abs(Math.abs(v[i]) - Math.abs(v[j])) < 1e-3) return false;
            }
        }
        return true;
    }

    @TestFactory
    Stream<DynamicTest> shorthandReductions() {
        return Stream.of(
                new R("sum()", Tensor::sum),
                new R("sum(dim)", x -> x.sum(1)),
                new R("sum(dim, keepdim)", x -> x.sum(-1, true)),
                new R("mean()", Tensor::mean),
                new R("mean(dim)", x -> x.mean(0)),
                new R("mean(dim, keepdim)", x -> x.mean(1, true)),
                new R("var()", Tensor::var),
                new R("var(dim)", x -> x.var(1)),
                new R("std()", Tensor::std),
                new R("std(dim)", x -> x.std(0)),
                new R("norm()", Tensor::norm),
                new R("norm(1)", x -> x.norm(1)),
                new R("norm(3)", x -> x.norm(3)),
                new R("logsumexp(dim)", x -> x.logsumexp(1)),
                new R("prod()", Tensor::prod),
                new R("prod(dim)", x -> x.prod(1)),
                new R("prod(dim, keepdim)", x -> x.prod(0, true)),
                new R("max()", Tensor::max),
                new R("min()", Tensor::min),
                new R("max(dim) values", x -> x.max(1).values()),
                new R("max(dim, keepdim) values", x -> x.max(0, true).values()),
                new R("min(dim) values", x -> x.min(-1).values()),
                new R("min(dim, keepdim) values", x -> x.min(1, true).values()),
                new R("softmax(0)", x -> x.softmax(0)),
                new R("softmax(1)", x -> x.softmax(1)),
                new R("softmax(-1)", x -> x.softmax(-1)),
                new R("logSoftmax(0)", x -> x.logSoftmax(0)),
                new R("logSoftmax(-1)", x -> x.logSoftmax(-1)),
                new R("cumsum(0)", x -> x.cumsum(0)),
                new R("cumsum(1)", x -> x.cumsum(1)),
                new R("cumsum(-1)", x -> x.cumsum(-1)),
                new R("softmax then weighted sum", x -> x.softmax(1).mul(x).sum(1)))
                .map(c -> dynamicTest(c.name(), () -> {
                    Inputs in = new Inputs();
                    long rows = 2 + in.nextInt(3), cols = 2 + in.nextInt(3);
                    for (boolean contiguous : new boolean[] {true, false}) {
                        Inputs.scoped(() -> {
                            Tensor x;
                            do {
                                x = in.leaf(NORMAL, contiguous, rows, cols);
                            } while (!noNearTiesOfAbs(x));
                            in.check(c.name(), t -> c.f().apply(t[0]), x);
                        });
                    }
                    Inputs.scoped(() -> in.check(c.name() + " of x.t()", t -> c.f().apply(t[0].t()), in.leaf(NORMAL, 4, 3)));
                }));
    }

    @Test
    void reductionsOfOneDimAndZeroDimTensors() {
        Inputs in = new Inputs();
        Inputs.scoped(() -> {
            Tensor v = in.leaf(NORMAL, 5);
            in.check("sum 1-D", t -> t[0].sum(), v);
            in.check("prod 1-D", t -> t[0].prod(), v);
            in.check("softmax 1-D", t -> t[0].softmax(0), v);
            in.check("cumsum 1-D", t -> t[0].cumsum(0), v);
            Tensor s = in.leaf(NORMAL);
            in.check("sum 0-d", t -> t[0].sum(), s);
            in.check("mean 0-d", t -> t[0].mean(), s);
            in.check("max 0-d", t -> t[0].max(), s);
        });
    }

    @Test
    void prodWithZeros() {
        Inputs in = new Inputs();
        Inputs.scoped(() -> {
            // one zero in the whole tensor, then two; along a dim: rows with none, one and two zeros
            double[] v = in.values(NORMAL, 12);
            Tensor oneZero = leafWithZeros(v, new int[] {5}, 3, 4);
            in.check("prod() one zero", t -> t[0].prod(), oneZero);
            in.check("prod(1) one zero", t -> t[0].prod(1), oneZero);
            Tensor twoZeros = leafWithZeros(v, new int[] {2, 9}, 3, 4);
            in.check("prod() two zeros", t -> t[0].prod(), twoZeros);
            in.check("prod(0) two zeros in different columns", t -> t[0].prod(0), twoZeros);
            Tensor mixed = leafWithZeros(v, new int[] {4, 9, 10}, 3, 4);
            in.check("prod(1) rows with 0, 1 and 2 zeros", t -> t[0].prod(1), mixed);
            in.check("prod(1, keepdim) rows with 0, 1 and 2 zeros", t -> t[0].prod(1, true), mixed);
        });
        // the gradients themselves, by hand: d prod / dx_i = product of the others
        Inputs.scoped(() -> {
            Tensor x = Tensor.fromArray(new double[] {2, 0, 3, 0, 5, 7}, 2, 3).requiresGrad_();
            x.prod(1).sum().backward();
            assertArrayEquals(new double[] {0, 6, 0, 35, 0, 0}, x.grad().toDoubleArray(), 0);
            Tensor y = Tensor.fromArray(new double[] {2, 0, 3, 0}).requiresGrad_();
            y.prod().backward();
            assertArrayEquals(new double[] {0, 0, 0, 0}, y.grad().toDoubleArray(), 0);
        });
    }

    private static Tensor leafWithZeros(double[] values, int[] zeroAt, long... shape) {
        double[] v = values.clone();
        for (int i : zeroAt) v[i] = 0;
        return Tensor.fromArray(v, shape).requiresGrad_();
    }

    @Test
    void maxAndMinGradientsGoToTheChosenElement() {
        try (var s = Ember.scope()) {
            Tensor x = Tensor.fromArray(new double[] {1, 5, 3, 4, 2, 6}, 2, 3).requiresGrad_();
            x.max(1).values().mul(Tensor.fromArray(new double[] {10, 20})).sum().backward();
            assertArrayEquals(new double[] {0, 10, 0, 0, 0, 20}, x.grad().toDoubleArray(), 0);
            x.setGrad(null);
            x.min().backward();
            assertArrayEquals(new double[] {1, 0, 0, 0, 0, 0}, x.grad().toDoubleArray(), 0);
            x.setGrad(null);
            // ties share the gradient evenly, as PyTorch's max() of all elements
            Tensor tied = Tensor.fromArray(new double[] {3, 1, 3}).requiresGrad_();
            tied.max().backward();
            assertArrayEquals(new double[] {0.5, 0, 0.5}, tied.grad().toDoubleArray(), 0);
        }
    }

    @Test
    void normOfZerosHasZeroGradient() {
        for (double p : new double[] {1, 2, 3, Double.POSITIVE_INFINITY}) {
            try (var s = Ember.scope()) {
                Tensor x = Tensor.zeros(dev.ember.tensor.DType.FLOAT64, 3).requiresGrad_();
                x.norm(p).backward();
                assertArrayEquals(new double[] {0, 0, 0}, x.grad().toDoubleArray(), 0, "p = " + p);
            }
        }
    }
}
