package dev.ember.autograd;

import static dev.ember.autograd.Inputs.NORMAL;
import static dev.ember.autograd.Inputs.POSITIVE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.ember.autograd.Inputs.Dist;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Higher-order gradients: the gradient that {@code Autograd.grad(..., createGraph=true)} returns
 * is itself a differentiable function of the inputs, so it passes gradcheck too (PyTorch's
 * gradgradcheck).
 */
class SecondOrderGradCheckTest {

    /**
     * The vector-Jacobian product v^T dF/dx for every input x (flattened and concatenated), as a
     * recorded function of the inputs. Grad mode is forced on: gradcheck evaluates it under
     * noGrad for its finite differences, and the inner backward needs a graph to run on.
     */
    static Tensor vjp(Function<Tensor[], Tensor> f, Tensor[] x, Tensor v) {
        try (var on = Ember.enableGrad()) {
            Tensor y = f.apply(x);
            List<Tensor> grads = Autograd.grad(List.of(y), List.of(x), List.of(v), true, true, true);
            List<Tensor> flat = new ArrayList<>();
            for (int i = 0; i < x.length; i++) {
                Tensor g = grads.get(i);
                flat.add(g == null ? Tensor.zerosLike(x[i]).reshape(-1) : g.reshape(-1));
            }
            return Tensor.cat(flat, 0);
        }
    }

    private record Case(String name, Function<Tensor[], Tensor> f, Dist dist, long[]... shapes) {}

    private static long[] s(long... shape) {
        return shape;
    }

    @TestFactory
    Stream<DynamicTest> gradientsOfGradients() {
        return Stream.of(
                new Case("tanh", t -> t[0].tanh(), NORMAL, s(2, 3)),
                new Case("exp", t -> t[0].exp(), NORMAL, s(2, 3)),
                new Case("mul", t -> t[0].mul(t[1]), NORMAL, s(2, 3), s(3)),
                new Case("mul by itself", t -> t[0].mul(t[0]), NORMAL, s(4)),
                new Case("matmul", t -> t[0].matmul(t[1]), NORMAL, s(2, 3), s(3, 2)),
                new Case("matmul batched broadcast", t -> t[0].matmul(t[1]), NORMAL, s(2, 2, 3), s(3, 2)),
                new Case("softmax", t -> t[0].softmax(1), NORMAL, s(2, 3)),
                new Case("logSoftmax", t -> t[0].logSoftmax(-1), NORMAL, s(2, 3)),
                new Case("sum squared", t -> t[0].sum(1).pow(2L), NORMAL, s(2, 3)),
                new Case("sum of cube", t -> t[0].pow(3L).sum(), NORMAL, s(2, 3)),
                new Case("mean of product", t -> t[0].mul(t[1]).mean(0), NORMAL, s(3, 2), s(3, 2)),
                new Case("sigmoid", t -> t[0].sigmoid(), NORMAL, s(5)),
                new Case("log", t -> t[0].log(), POSITIVE, s(5)),
                new Case("sqrt", t -> t[0].sqrt(), POSITIVE, s(5)),
                new Case("div", t -> t[0].div(t[1]), POSITIVE, s(2, 2), s(2, 2)),
                new Case("pow tensor", t -> t[0].pow(t[1]), POSITIVE, s(4), s(4)),
                new Case("sin cos", t -> t[0].sin().mul(t[0].cos()), NORMAL, s(4)),
                new Case("gelu", t -> t[0].gelu(), NORMAL, s(4)),
                new Case("silu", t -> t[0].silu(), NORMAL, s(4)),
                new Case("relu times x", t -> t[0].relu().mul(t[0]), NORMAL, s(5)),
                new Case("abs times x", t -> t[0].abs().mul(t[0]), NORMAL, s(5)),
                new Case("clamp times x", t -> t[0].clamp(-0.5, 0.5).mul(t[0]),
                        NORMAL.avoiding(v -> Math.abs(Math.abs(v) - 0.5) < 0.01), s(5)),
                new Case("var", t -> t[0].var(new int[] {1}, 1, false), NORMAL, s(2, 3)),
                new Case("norm", t -> t[0].norm(), NORMAL, s(4)),
                new Case("logsumexp", t -> t[0].logsumexp(1), NORMAL, s(2, 3)),
                new Case("narrow and select", t -> t[0].narrow(1, 1, 2).select(0, 1).exp(), NORMAL, s(2, 3)),
                new Case("expand", t -> t[0].expand(3, 2).mul(t[0].expand(3, 2)), NORMAL, s(1, 2)),
                new Case("where", t -> Tensor.where(t[0].gt(0.0), t[0].mul(t[0]), t[0].exp()), NORMAL, s(5)),
                new Case("cat and stack", t -> Tensor.stack(List.of(Tensor.cat(List.of(t[0], t[0]), 0).exp(),
                        Tensor.cat(List.of(t[0], t[0]), 0).tanh()), 0), NORMAL, s(2)),
                new Case("gather", t -> t[0].gather(1, Tensor.fromArray(new long[] {2, 0, 0, 1}, 2, 2)).pow(2L),
                        NORMAL, s(2, 3)),
                new Case("max(dim)", t -> t[0].max(1).values().pow(2L), NORMAL, s(2, 3)),
                new Case("mm", t -> t[0].mm(t[1]).tanh(), NORMAL, s(2, 3), s(3, 2)),
                new Case("addmm", t -> t[0].addmm(t[1], t[2], 0.5, 2).tanh(), NORMAL, s(2), s(3, 2), s(2, 2)))
                .map(c -> dynamicTest(c.name(), () -> {
                    Inputs in = new Inputs();
                    Inputs.scoped(() -> {
                        Tensor[] x = new Tensor[c.shapes().length];
                        for (int i = 0; i < x.length; i++) x[i] = in.leaf(c.dist(), c.shapes()[i]);
                        Tensor probe;
                        try (var ng = Ember.noGrad()) {
                            probe = c.f().apply(x);
                        }
                        Tensor v = in.constant(NORMAL, probe.shape());
                        in.check("grad of grad of " + c.name(), t -> vjp(c.f(), t, v), x);
                    });
                }));
    }

    @Test
    void backwardWithCreateGraphGivesADifferentiableGrad() {
        Inputs.scoped(() -> {
            Tensor x = Tensor.fromArray(new double[] {1, -2, 3}).requiresGrad_();
            x.pow(3L).sum().backward(null, true, true);
            Tensor g = x.grad();
            assertNotNull(g.gradFn(), "with createGraph the grad is part of a graph");
            assertArrayEquals(new double[] {3, 12, 27}, g.toDoubleArray(), 1e-12);
            g.sum().backward(); // accumulates d(sum 3x^2)/dx = 6x into x.grad
            assertArrayEquals(new double[] {3 + 6, 12 - 12, 27 + 18}, x.grad().toDoubleArray(), 1e-12);
        });
    }

    @Test
    void createGraphGivesEachLeafItsOwnGrad() {
        Inputs.scoped(() -> {
            Tensor a = Tensor.fromArray(new double[] {1, 2}).requiresGrad_();
            Tensor b = Tensor.fromArray(new double[] {3, 4}).requiresGrad_();
            a.add(b).sum().backward(null, true, true);
            assertNotSame(a.grad(), b.grad(), "two leaves must not share one grad tensor");
            a.setGrad(null); // closes a's grad: b's must stay usable
            assertArrayEquals(new double[] {1, 1}, b.grad().toDoubleArray(), 0);
            assertTrue(!b.grad().isClosed());
        });
    }

    /** Fused-kernel backward passes (convolution) are first-order only: create_graph through them fails clearly. */
    @Test
    void doubleBackwardThroughAFusedKernelFailsClearly() {
        Inputs in = new Inputs();
        Inputs.scoped(() -> {
            Tensor x = in.leaf(NORMAL, 1, 1, 3, 3);
            Tensor w = in.leaf(NORMAL, 1, 1, 2, 2);
            int[] one = {1, 1}, zero = {0, 0};
            // first order is fine
            in.check("conv2d", t -> dev.ember.tensor.NeuralOps.conv2d(t[0], t[1], null, one, zero, one, 1), x, w);
            Tensor y = dev.ember.tensor.NeuralOps.conv2d(x, w, null, one, zero, one, 1).pow(2L).sum();
            var e = org.junit.jupiter.api.Assertions.assertThrows(UnsupportedOperationException.class,
                    () -> Autograd.grad(List.of(y), List.of(x), null, true, true, false));
            assertTrue(e.getMessage().contains("double backward through ConvolutionBackward0 is not supported"), e.getMessage());
            // under anomaly mode the error names where the node was made
            try (var a = Ember.detectAnomaly()) {
                Tensor y2 = dev.ember.tensor.NeuralOps.conv2d(x, w, null, one, zero, one, 1).sum();
                var e2 = org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class, () -> y2.backward(null, true, true));
                assertTrue(e2.getMessage().contains("doubleBackwardThroughAFusedKernelFailsClearly"), e2.getMessage());
            }
        });
    }
}
