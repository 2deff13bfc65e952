package dev.ember.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Generator;
import dev.ember.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The engine's basic contract on small graphs whose gradients are known by hand. */
class EngineSmokeTest {

    @Test
    void linearGraphGradients() {
        try (var s = Ember.scope()) {
            Tensor x = Tensor.fromArray(new double[] {1, 2, 3, 4});
            Tensor w = Tensor.fromArray(new double[] {0.5, -1, 2, 3}).requiresGrad_();
            Tensor b = Tensor.fromArray(new double[] {1, 1, 1, 1}).requiresGrad_();
            Tensor y = x.mul(w).add(b).sum();
            assertEquals(0.5 - 2 + 6 + 12 + 4, y.item(), 1e-12);
            y.backward();
            assertArrayEquals(new double[] {1, 2, 3, 4}, w.grad().toDoubleArray(), 1e-12);
            assertArrayEquals(new double[] {1, 1, 1, 1}, b.grad().toDoubleArray(), 1e-12);
            assertEquals("SumBackward1", y.gradFn().name());
        }
    }

    @Test
    void secondBackwardWithoutRetainGraphFails() {
        try (var s = Ember.scope()) {
            Tensor w = Tensor.fromArray(new double[] {1, 2}).requiresGrad_();
            Tensor y = w.exp().sum();
            y.backward();
            var e = assertThrows(IllegalStateException.class, y::backward);
            assertTrue(e.getMessage().startsWith("Trying to backward through the graph a second time"), e.getMessage());
        }
    }

    @Test
    void longChainNeedsNoDeepStack() {
        try (var s = Ember.scope()) {
            Tensor w = Tensor.fromArray(new double[] {1}).requiresGrad_();
            Tensor y = w;
            for (int i = 0; i < 100_000; i++) y = y.mul(1.0);
            y.sum().backward();
            assertEquals(1.0, w.grad().item(), 0);
        }
    }

    @Test
    void gradcheckComposite() {
        Tensor[] in = GradCheck.randomInputs(new Generator(7), new long[] {3, 4}, new long[] {4, 2});
        GradCheck.check(t -> t[0].matmul(t[1]).tanh().softmax(1).mul(t[0].sum()), in);
        for (Tensor t : in) t.close();
    }
}
