package dev.ember.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.GradMode;
import dev.ember.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** PyTorch's autograd contract: what records, what accumulates, grad modes, backward's arguments and errors. */
class AutogradSemanticsTest {

    private static final String SECOND_BACKWARD = "Trying to backward through the graph a second time (or directly access"
            + " saved tensors after they have already been freed). Saved intermediate values of the graph are freed when you"
            + " call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a"
            + " second time or if you need to access saved tensors after calling backward.";

    @AfterEach
    void gradModeIsBackToDefault() {
        assertTrue(GradMode.isEnabled(), "a test left grad mode off");
        assertFalse(GradMode.isAnomalyEnabled(), "a test left anomaly mode on");
    }

    private static Tensor leaf(double... v) {
        return Tensor.fromArray(v).requiresGrad_();
    }

    @Test
    void onlyLeavesAccumulateGrad() {
        try (var s = Ember.scope()) {
            Tensor x = leaf(1, 2, 3);
            Tensor h = x.mul(2.0);
            Tensor y = h.exp().sum();
            assertTrue(x.isLeaf());
            assertFalse(h.isLeaf());
            assertFalse(y.isLeaf());
            y.backward();
            assertNull(h.grad(), "a non-leaf's grad stays null");
            assertNull(y.grad());
            assertNotNull(x.grad());
            assertArrayEquals(new double[] {2 * Math.exp(2), 2 * Math.exp(4), 2 * Math.exp(6)}, x.grad().toDoubleArray(), 1e-9);
            assertFalse(x.grad().requiresGrad(), "without createGraph the grad is a plain tensor");
            assertNull(x.grad().gradFn());
        }
    }

    @Test
    void gradsAccumulateOverBackwardCallsWithRetainGraph() {
        try (var s = Ember.scope()) {
            Tensor x = leaf(1, 2);
            Tensor y = x.mul(x).sum();
            y.backward(null, true, false);
            assertArrayEquals(new double[] {2, 4}, x.grad().toDoubleArray(), 0);
            Tensor firstGrad = x.grad();
            y.backward(null, true, false);
            assertArrayEquals(new double[] {4, 8}, x.grad().toDoubleArray(), 0);
            assertSame(firstGrad, x.grad(), "the second backward adds into the existing grad in place");
            y.backward(); // a third, releasing the graph this time
            assertArrayEquals(new double[] {6, 12}, x.grad().toDoubleArray(), 0);
            var e = assertThrows(IllegalStateException.class, y::backward);
            assertEquals(SECOND_BACKWARD, e.getMessage());
        }
    }

    @Test
    void gradsAccumulateOverSeparateGraphs() {
        try (var s = Ember.scope()) {
            Tensor x = leaf(1, 2);
            x.mul(3.0).sum().backward();
            x.mul(x).sum().backward();
            assertArrayEquals(new double[] {3 + 2, 3 + 4}, x.grad().toDoubleArray(), 0);
        }
    }

    @Test
    void secondBackwardFailsWithPyTorchsMessageAndRetainGraphAllowsIt() {
        try (var s = Ember.scope()) {
            Tensor x = leaf(1, 2);
            Tensor y = x.exp().mul(x).sum();
            y.backward();
            var e = assertThrows(IllegalStateException.class, y::backward);
            assertEquals(SECOND_BACKWARD, e.getMessage());

            Tensor z = x.exp().mul(x).sum();
            x.setGrad(null);
            z.backward(null, true, false);
            assertDoesNotThrow(() -> z.backward(null, true, false));
            assertDoesNotThrow(() -> z.backward());
            double[] expected = {3 * (Math.exp(1) * 2), 3 * (Math.exp(2) * 3)};
            assertArrayEquals(expected, x.grad().toDoubleArray(), 1e-9);
        }
    }

    @Test
    void requiresGradPropagatesAndConstantsRecordNothing() {
        try (var s = Ember.scope()) {
            Tensor w = leaf(1, 2, 3);
            Tensor c = Tensor.fromArray(new double[] {4, 5, 6});
            assertTrue(w.requiresGrad());
            assertFalse(c.requiresGrad());
            Tensor wc = w.mul(c);
            assertTrue(wc.requiresGrad());
            assertNotNull(wc.gradFn());
            assertEquals("MulBackward0", wc.gradFn().name());
            assertTrue(c.add(w).requiresGrad(), "either operand requiring grad is enough");
            assertTrue(w.t().requiresGrad(), "views of a leaf that requires grad require grad");
            assertTrue(w.sum().requiresGrad());
            assertTrue(Tensor.cat(List.of(c, w), 0).requiresGrad());

            List<Tensor> constants = List.of(c.mul(c), c.exp(), c.sum(), c.view(3, 1), c.t(), c.matmul(c), c.softmax(0),
                    Tensor.cat(List.of(c, c), 0), c.maximum(c), c.clone());
            for (Tensor t : constants) {
                assertFalse(t.requiresGrad());
                assertNull(t.gradFn(), "ops on tensors that don't require grad record nothing");
                assertTrue(t.isLeaf());
            }
            // comparisons and other non-differentiable results never require grad, as PyTorch
            for (Tensor t : List.of(w.gt(0.0), w.eq(c), w.lt(c), w.isnan(), w.argmax(), w.max(0).indices(),
                    w.ge(1.0).logicalAnd(w.le(2.0)), w.sign())) {
                if (t.dtype() == DType.BOOL || t.dtype() == DType.INT64) {
                    assertFalse(t.requiresGrad(), t.dtype() + " result of an op on a tensor requiring grad");
                    assertNull(t.gradFn());
                }
            }
        }
    }

    @Test
    void noGradAndInferenceModeScopesNestAndRestore() {
        try (var s = Ember.scope()) {
            Tensor w = leaf(1, 2);
            assertTrue(GradMode.isEnabled());
            try (var ng = Ember.noGrad()) {
                assertFalse(GradMode.isEnabled());
                Tensor y = w.mul(2.0);
                assertFalse(y.requiresGrad());
                assertNull(y.gradFn());
                try (var eg = Ember.enableGrad()) {
                    assertTrue(GradMode.isEnabled());
                    assertTrue(w.mul(2.0).requiresGrad());
                    try (var im = Ember.inferenceMode()) {
                        assertFalse(GradMode.isEnabled());
                        assertFalse(w.exp().requiresGrad());
                    }
                    assertTrue(GradMode.isEnabled(), "inference mode restores the enclosing enableGrad");
                }
                assertFalse(GradMode.isEnabled(), "enableGrad restores the enclosing noGrad");
                try (var ng2 = Ember.noGrad()) {
                    assertFalse(GradMode.isEnabled());
                }
                assertFalse(GradMode.isEnabled(), "a nested noGrad restores noGrad, not the default");
            }
            assertTrue(GradMode.isEnabled());
            try (var im = Ember.inferenceMode()) {
                assertFalse(w.sum().requiresGrad());
            }
            assertTrue(w.sum().requiresGrad());
        }
    }

    @Test
    void gradModeIsPerThread() throws Exception {
        try (var ng = Ember.noGrad()) {
            boolean[] other = new boolean[1];
            Thread t = new Thread(() -> other[0] = GradMode.isEnabled());
            t.start();
            t.join();
            assertTrue(other[0], "another thread keeps its own (default) grad mode");
        }
    }

    @Test
    void detachCutsTheGraphButSharesStorage() {
        try (var s = Ember.scope()) {
            Tensor x = leaf(1, 2, 3);
            Tensor h = x.mul(2.0);
            Tensor d = h.detach();
            assertFalse(d.requiresGrad());
            assertNull(d.gradFn());
            assertTrue(d.isLeaf());
            assertTrue(d.sharesStorageWith(h));
            Tensor y = h.mul(d).sum(); // d is a constant: dy/dx = 2 * d
            y.backward();
            assertArrayEquals(new double[] {4, 8, 12}, x.grad().toDoubleArray(), 0);
            // a detached leaf can be made to require grad on its own
            Tensor leafAgain = x.detach().requiresGrad_();
            leafAgain.mul(5.0).sum().backward();
            assertArrayEquals(new double[] {5, 5, 5}, leafAgain.grad().toDoubleArray(), 0);
            assertArrayEquals(new double[] {4, 8, 12}, x.grad().toDoubleArray(), 0);
        }
    }

    @Test
    void backwardWithAnExplicitGradient() {
        try (var s = Ember.scope()) {
            Tensor x = leaf(1, 2, 3, 4);
            Tensor y = x.view(2, 2).mul(3.0);
            y.backward(Tensor.fromArray(new double[] {1, 10, 100, 1000}, 2, 2));
            assertArrayEquals(new double[] {3, 30, 300, 3000}, x.grad().toDoubleArray(), 0);

            Tensor z = x.view(2, 2).mul(3.0);
            var e = assertThrows(IllegalArgumentException.class, () -> z.backward(Tensor.fromArray(new double[] {1, 2, 3})));
            assertEquals("Mismatch in shape: grad_output[0] has a shape of [3] and output[0] has a shape of [2, 2].",
                    e.getMessage());
        }
    }

    @Test
    void backwardOnANonScalarNeedsAGradient() {
        try (var s = Ember.scope()) {
            Tensor y = leaf(1, 2).mul(2.0);
            var e = assertThrows(IllegalStateException.class, y::backward);
            assertEquals("grad can be implicitly created only for scalar outputs", e.getMessage());
            // a one-element tensor of any rank is fine
            Tensor x = leaf(3);
            x.view(1, 1).mul(2.0).backward();
            assertEquals(2, x.grad().item(), 0);
        }
    }

    @Test
    void backwardOnATensorThatDoesNotRequireGrad() {
        try (var s = Ember.scope()) {
            Tensor c = Tensor.fromArray(new double[] {1}).sum();
            var e = assertThrows(IllegalStateException.class, c::backward);
            assertEquals("element 0 of tensors does not require grad and does not have a grad_fn", e.getMessage());
        }
    }

    @Test
    void longChainDoesNotOverflowTheStack() {
        try (var s = Ember.scope()) {
            Tensor x = leaf(0.5);
            Tensor y = x;
            for (int i = 0; i < 100_000; i++) y = y.add(1e-6);
            y = y.mul(2.0);
            Tensor out = y.sum();
            assertDoesNotThrow(() -> out.backward());
            assertEquals(2.0, x.grad().item(), 0);
        }
    }

    @Test
    void longChainThroughAutogradGrad() {
        try (var s = Ember.scope()) {
            Tensor x = leaf(0.5);
            Tensor y = x;
            for (int i = 0; i < 100_000; i++) y = y.mul(1.0);
            List<Tensor> g = Autograd.grad(y.mul(3.0).sum(), List.of(x));
            assertEquals(3.0, g.get(0).item(), 0);
        }
    }

    @Test
    void longChainOfViewsAndUnaryOps() {
        try (var s = Ember.scope()) {
            Tensor x = leaf(1, 2);
            Tensor y = x;
            for (int i = 0; i < 50_000; i++) y = i % 2 == 0 ? y.neg() : y.view(2);
            Tensor out = y.sum();
            out.backward();
            assertArrayEquals(new double[] {1, 1}, x.grad().toDoubleArray(), 0);
        }
    }

    @Test
    void wideGraphOneLeafUsedTenThousandTimes() {
        try (var s = Ember.scope()) {
            Tensor x = leaf(1, 2);
            List<Tensor> terms = new ArrayList<>();
            for (int i = 0; i < 10_000; i++) terms.add(x.mul((double) (i % 3)));
            Tensor total = terms.get(0);
            for (int i = 1; i < terms.size(); i++) total = total.add(terms.get(i));
            total.sum().backward();
            double expected = 0;
            for (int i = 0; i < 10_000; i++) expected += i % 3;
            assertArrayEquals(new double[] {expected, expected}, x.grad().toDoubleArray(), 0);
        }
    }

    @Test
    void wideFanOutFanIn() {
        try (var s = Ember.scope()) {
            Tensor x = leaf(0.5, -1);
            List<Tensor> terms = new ArrayList<>();
            for (int i = 0; i < 10_000; i++) terms.add(x.mul(1.0).unsqueeze(0));
            Tensor y = Tensor.cat(terms, 0).sum();
            y.backward();
            assertArrayEquals(new double[] {10_000, 10_000}, x.grad().toDoubleArray(), 0);
        }
    }

    @Test
    void diamondGraphSumsBothPaths() {
        try (var s = Ember.scope()) {
            Tensor x = leaf(2);
            Tensor a = x.mul(3.0);
            Tensor b = a.exp();
            Tensor c = a.mul(a);
            b.add(c).sum().backward();
            // d/dx (e^{3x} + 9x^2) = 3e^{3x} + 18x
            assertEquals(3 * Math.exp(6) + 36, x.grad().item(), 1e-9);
        }
    }

    @Test
    void requiresGradOnIntegerTensorsFails() {
        try (var s = Ember.scope()) {
            for (Tensor t : List.of(Tensor.arange(3), Tensor.fromArray(new int[] {1, 2}), Tensor.fromArray(new boolean[] {true}))) {
                var e = assertThrows(IllegalArgumentException.class, t::requiresGrad_);
                assertTrue(e.getMessage().startsWith("only Tensors of floating point dtype can require gradients"), e.getMessage());
                assertFalse(t.requiresGrad());
            }
            assertDoesNotThrow(() -> Tensor.arange(3).requiresGrad_(false));
            assertTrue(Tensor.zeros(DType.FLOAT32, 2).requiresGrad_().requiresGrad());
        }
    }

    @Test
    void requiresGradFlagsOfNonLeavesCannotBeCleared() {
        try (var s = Ember.scope()) {
            Tensor y = leaf(1).mul(2.0);
            var e = assertThrows(IllegalStateException.class, () -> y.requiresGrad_(false));
            assertTrue(e.getMessage().startsWith("you can only change requires_grad flags of leaf variables."));
            Tensor x = leaf(1);
            x.requiresGrad_(false);
            assertFalse(x.mul(2.0).requiresGrad());
        }
    }

    @Test
    void setGradChecksTheShape() {
        try (var s = Ember.scope()) {
            Tensor x = leaf(1, 2, 3);
            var e = assertThrows(IllegalArgumentException.class, () -> x.setGrad(Tensor.zeros(DType.FLOAT64, 2)));
            assertTrue(e.getMessage().startsWith("assigned grad has data of a different size"), e.getMessage());
            assertNull(x.grad());
            Tensor g = Tensor.fromArray(new double[] {1, 1, 1});
            x.setGrad(g);
            x.mul(2.0).sum().backward();
            assertArrayEquals(new double[] {3, 3, 3}, x.grad().toDoubleArray(), 0);
            x.setGrad(null);
            assertNull(x.grad());
            assertTrue(g.isClosed(), "setGrad(null) frees the old grad");
        }
    }

    @Test
    void setGradTakesTheGradOutOfItsScope() {
        Tensor x = Tensor.fromArray(new double[] {1, 2}).requiresGrad_();
        try {
            try (var s = Ember.scope()) {
                x.setGrad(Tensor.fromArray(new double[] {5, 6}));
            }
            assertArrayEquals(new double[] {5, 6}, x.grad().toDoubleArray(), 0);
            try (var s = Ember.scope()) {
                x.mul(x).sum().backward(); // made in a scope, the grad must outlive it
            }
            assertArrayEquals(new double[] {7, 10}, x.grad().toDoubleArray(), 0);
        } finally {
            x.close();
        }
    }

    @Test
    void gradOfAFloat32LeafIsFloat32() {
        try (var s = Ember.scope()) {
            Tensor x = Tensor.fromArray(new float[] {1, 2}).requiresGrad_();
            Tensor y = x.to(DType.FLOAT64).mul(Tensor.fromArray(new double[] {0.5, 0.25})).sum();
            y.backward();
            assertEquals(DType.FLOAT32, x.grad().dtype());
            assertArrayEquals(new float[] {0.5f, 0.25f}, x.grad().toFloatArray(), 0);
        }
    }

    @Test
    void autogradGradReturnsGradientsWithoutAccumulating() {
        try (var s = Ember.scope()) {
            Tensor a = leaf(1, 2);
            Tensor b = leaf(3, 4);
            Tensor y = a.mul(b).sum();
            List<Tensor> g = Autograd.grad(y, List.of(a, b));
            assertArrayEquals(new double[] {3, 4}, g.get(0).toDoubleArray(), 0);
            assertArrayEquals(new double[] {1, 2}, g.get(1).toDoubleArray(), 0);
            assertNull(a.grad(), "autograd.grad does not touch .grad");
            assertNull(b.grad());
        }
    }

    @Test
    void autogradGradOfAnIntermediate() {
        try (var s = Ember.scope()) {
            Tensor x = leaf(1, 2);
            Tensor h = x.mul(3.0);
            Tensor y = h.mul(h).sum();
            List<Tensor> g = Autograd.grad(List.of(y), List.of(h), null, false, false, false);
            assertArrayEquals(new double[] {6, 12}, g.get(0).toDoubleArray(), 0);
            assertNull(x.grad());
        }
    }

    @Test
    void autogradGradAllowUnused() {
        try (var s = Ember.scope()) {
            Tensor a = leaf(1, 2);
            Tensor unused = leaf(3, 4);
            Tensor y = a.mul(2.0).sum();
            var e = assertThrows(IllegalStateException.class,
                    () -> Autograd.grad(List.of(y), List.of(a, unused), null, true, false, false));
            assertEquals("One of the differentiated Tensors appears to not have been used in the graph. Set allow_unused=True"
                    + " if this is the desired behavior.", e.getMessage());
            List<Tensor> g = Autograd.grad(List.of(y), List.of(a, unused), null, false, false, true);
            assertArrayEquals(new double[] {2, 2}, g.get(0).toDoubleArray(), 0);
            assertNull(g.get(1));
        }
    }

    @Test
    void autogradGradOfSeveralOutputs() {
        try (var s = Ember.scope()) {
            Tensor x = leaf(1, 2);
            Tensor y1 = x.mul(x).sum();
            Tensor y2 = x.mul(3.0);
            List<Tensor> g = Autograd.grad(List.of(y1, y2), List.of(x),
                    Arrays.asList(null, Tensor.fromArray(new double[] {1, 10})), false, false, false);
            assertArrayEquals(new double[] {2 + 3, 4 + 30}, g.get(0).toDoubleArray(), 0);
        }
    }

    @Test
    void autogradGradOfAnInputThatDoesNotRequireGrad() {
        try (var s = Ember.scope()) {
            Tensor c = Tensor.fromArray(new double[] {1});
            Tensor y = leaf(1).mul(c).sum();
            var e = assertThrows(IllegalArgumentException.class, () -> Autograd.grad(y, List.of(c)));
            assertEquals("One of the differentiated Tensors does not require grad", e.getMessage());
        }
    }

    @Test
    void autogradGradResultsBelongToTheCallersScope() {
        Tensor x = Tensor.fromArray(new double[] {1, 2, 3}).requiresGrad_();
        try {
            Tensor kept;
            try (var s = Ember.scope()) {
                List<Tensor> g = Autograd.grad(x.mul(x).sum(), List.of(x));
                kept = g.get(0);
                assertArrayEquals(new double[] {2, 4, 6}, kept.toDoubleArray(), 0);
            }
            assertTrue(kept.isClosed(), "a gradient returned inside a scope is closed with that scope");
        } finally {
            x.close();
        }
    }

    @Test
    void autogradGradRunsOnlyWhatItsInputsNeed() {
        try (var s = Ember.scope()) {
            // the rest of the graph is left as it was: not released, so backward through it still works
            Tensor x = leaf(1, 2);
            Tensor h = x.mul(3.0);
            Tensor y = h.mul(h).sum();
            List<Tensor> g = Autograd.grad(List.of(y), List.of(h), null, false, false, false);
            assertArrayEquals(new double[] {6, 12}, g.get(0).toDoubleArray(), 0);
            h.sum().backward();
            assertArrayEquals(new double[] {3, 3}, x.grad().toDoubleArray(), 0);

            // a branch that does not lead to the inputs is not run (its saved tensor is gone: running it would fail)
            Tensor a = leaf(1, 2);
            Tensor c = leaf(3, 4);
            Tensor e = c.exp();
            Tensor z = a.mul(2.0).sum().add(e.sum());
            e.close();
            List<Tensor> ga = Autograd.grad(z, List.of(a));
            assertArrayEquals(new double[] {2, 2}, ga.get(0).toDoubleArray(), 0);
            assertNull(c.grad());
        }
    }

    @Test
    void aBranchThatSendsNoGradientDoesNotStallTheRest() {
        try (var s = Ember.scope()) {
            // cat's backward sends no gradient to a legacy empty (1-D, size 0) input: the narrow that made it
            // then gets none, yet w (reached through it and through w.sum()) must still get its gradient
            Tensor w = leaf(1, 2, 3);
            Tensor x = Tensor.fromArray(new double[] {1, 2, 3, 4, 5, 6}, 2, 3).requiresGrad_();
            Tensor empty = w.narrow(0, 0, 0);
            Tensor y = Tensor.cat(List.of(x, empty), 0).mul(2.0).sum().add(w.mul(w).sum());
            y.backward();
            assertArrayEquals(new double[] {2, 4, 6}, w.grad().toDoubleArray(), 0);
            assertArrayEquals(new double[] {2, 2, 2, 2, 2, 2}, x.grad().toDoubleArray(), 0);
        }
    }

    @Test
    void backwardFromALeaf() {
        try (var s = Ember.scope()) {
            Tensor x = leaf(1, 2);
            Tensor seed = Tensor.fromArray(new double[] {3, 4});
            x.backward(seed);
            assertArrayEquals(new double[] {3, 4}, x.grad().toDoubleArray(), 0);
            seed.close();
            assertFalse(x.grad().isClosed(), "the leaf's grad is a copy of the caller's gradient, not the same tensor");
        }
    }
}
