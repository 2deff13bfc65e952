package dev.ember.autograd;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** GradCheck itself: it must catch wrong gradients, or the other gradient checks prove nothing. */
class GradCheckSelfTest {

    @Test
    void catchesAWrongGradient() {
        Inputs in = new Inputs();
        try (var s = Ember.scope()) {
            Tensor x = in.leaf(Inputs.NORMAL, 2, 3);
            // x * detach(x): analytic gradient x, true gradient 2x
            var e = assertThrows(AssertionError.class, () -> GradCheck.check(t -> t[0].mul(t[0].detach()), x));
            assertTrue(e.getMessage().startsWith("Jacobian mismatch"), e.getMessage());
            Tensor strided = in.strided(Inputs.NORMAL, 2, 3);
            assertThrows(AssertionError.class, () -> GradCheck.check(t -> t[0].mul(t[0].detach()), strided));
            Tensor scalarOut = in.leaf(Inputs.NORMAL, 4);
            assertThrows(AssertionError.class, () -> GradCheck.check(t -> t[0].mul(t[0].detach()).sum(), scalarOut));
        }
    }

    @Test
    void catchesAGradientThatDoesNotFlow() {
        Inputs in = new Inputs();
        try (var s = Ember.scope()) {
            Tensor x = in.leaf(Inputs.NORMAL, 3);
            // the output ignores the graph: analytic zero, numerical identity
            assertThrows(AssertionError.class, () -> GradCheck.check(t -> t[0].detach().mul(1.0), x));
        }
    }

    @Test
    void passesCorrectGradientsOfSeveralInputsWithOneConstant() {
        Inputs in = new Inputs();
        try (var s = Ember.scope()) {
            Tensor a = in.leaf(Inputs.NORMAL, 2, 3);
            Tensor b = in.constant(Inputs.NORMAL, 3);
            Tensor c = in.leaf(Inputs.NORMAL);
            assertDoesNotThrow(() -> GradCheck.check(t -> t[0].mul(t[1]).mul(t[2]).tanh(), a, b, c));
        }
    }

    @Test
    void refusesFloat32Inputs() {
        try (var s = Ember.scope()) {
            Tensor x = Tensor.ones(DType.FLOAT32, 2).requiresGrad_();
            assertThrows(IllegalArgumentException.class, () -> GradCheck.check(t -> t[0].exp(), x));
        }
    }

    @Test
    void leavesInputsAsTheyWere() {
        Inputs in = new Inputs();
        try (var s = Ember.scope()) {
            Tensor x = in.strided(Inputs.NORMAL, 3, 2);
            double[] before = x.toDoubleArray();
            GradCheck.check(t -> t[0].exp(), x);
            org.junit.jupiter.api.Assertions.assertArrayEquals(before, x.toDoubleArray(), 0);
            org.junit.jupiter.api.Assertions.assertNull(x.grad(), "gradcheck does not accumulate into .grad");
        }
    }
}
