package dev.ember.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ember.tensor.Ember;
import dev.ember.tensor.GradMode;
import dev.ember.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Tensor hooks, version counters of saved tensors, closed saved tensors and anomaly mode. */
class HooksVersionsAnomalyTest {

    @AfterEach
    void modesAreBackToDefault() {
        assertTrue(GradMode.isEnabled());
        assertFalse(GradMode.isAnomalyEnabled());
    }

    private static Tensor leaf(double... v) {
        return Tensor.fromArray(v).requiresGrad_();
    }

    // ------------------------------------------------------------------ hooks

    @Test
    void hookOnALeafSeesItsGradAndCanReplaceIt() throws Exception {
        try (var s = Ember.scope()) {
            Tensor x = leaf(1, 2, 3);
            List<double[]> seen = new ArrayList<>();
            AutoCloseable handle = x.registerHook(g -> {
                seen.add(g.toDoubleArray());
                return g.mul(10.0);
            });
            x.mul(Tensor.fromArray(new double[] {1, 2, 3})).sum().backward();
            assertEquals(1, seen.size());
            assertArrayEquals(new double[] {1, 2, 3}, seen.get(0), 0);
            assertArrayEquals(new double[] {10, 20, 30}, x.grad().toDoubleArray(), 0, "the hook's result is accumulated");

            handle.close();
            x.setGrad(null);
            x.mul(2.0).sum().backward();
            assertEquals(1, seen.size(), "a closed handle's hook is not called");
            assertArrayEquals(new double[] {2, 2, 2}, x.grad().toDoubleArray(), 0);
        }
    }

    @Test
    void hookOnALeafSeesTheSumOfAllItsUses() {
        try (var s = Ember.scope()) {
            Tensor x = leaf(1, 2);
            List<double[]> seen = new ArrayList<>();
            x.registerHook(g -> {
                seen.add(g.toDoubleArray());
                return null; // null keeps the gradient as it is
            });
            x.mul(2.0).add(x.mul(3.0)).sum().backward();
            assertEquals(1, seen.size(), "called once, with the summed gradient");
            assertArrayEquals(new double[] {5, 5}, seen.get(0), 0);
            assertArrayEquals(new double[] {5, 5}, x.grad().toDoubleArray(), 0);
        }
    }

    @Test
    void hookOnAnIntermediate() throws Exception {
        try (var s = Ember.scope()) {
            Tensor x = leaf(1, 2);
            Tensor h = x.mul(3.0);
            List<double[]> seen = new ArrayList<>();
            AutoCloseable handle = h.registerHook(g -> {
                seen.add(g.toDoubleArray());
                return g.mul(Tensor.fromArray(new double[] {0, 1}));
            });
            Tensor y = h.mul(h).sum();
            y.backward(null, true, false);
            assertArrayEquals(new double[] {6, 12}, seen.get(0), 0, "the hook gets dy/dh = 2h");
            assertArrayEquals(new double[] {0, 36}, x.grad().toDoubleArray(), 0, "the replaced grad flows on");
            assertNull(h.grad(), "a hook does not make an intermediate keep its grad");

            handle.close();
            x.setGrad(null);
            y.backward();
            assertEquals(1, seen.size());
            assertArrayEquals(new double[] {18, 36}, x.grad().toDoubleArray(), 0);
        }
    }

    @Test
    void severalHooksRunInRegistrationOrder() {
        try (var s = Ember.scope()) {
            Tensor x = leaf(1);
            List<String> order = new ArrayList<>();
            x.registerHook(g -> {
                order.add("first");
                return g.add(1.0);
            });
            x.registerHook(g -> {
                order.add("second " + g.item());
                return g.mul(2.0);
            });
            x.mul(5.0).sum().backward();
            assertEquals(List.of("first", "second 6.0"), order);
            assertEquals(12, x.grad().item(), 0);
        }
    }

    @Test
    void hookOnATensorThatDoesNotRequireGradFails() {
        try (var s = Ember.scope()) {
            Tensor c = Tensor.fromArray(new double[] {1});
            var e = assertThrows(IllegalStateException.class, () -> c.registerHook(g -> g));
            assertEquals("cannot register a hook on a tensor that doesn't require gradient", e.getMessage());
        }
    }

    @Test
    void hookSeesGradInAutogradGrad() {
        try (var s = Ember.scope()) {
            Tensor x = leaf(1, 2);
            x.registerHook(g -> g.mul(2.0));
            List<Tensor> g = Autograd.grad(x.mul(x).sum(), List.of(x));
            assertArrayEquals(new double[] {4, 8}, g.get(0).toDoubleArray(), 0);
        }
    }

    // ------------------------------------------------------------------ version counters

    @Test
    void modifyingASavedOutputInPlaceFailsBackwardNamingTheVersions() {
        try (var s = Ember.scope()) {
            Tensor x = leaf(1, 2, 3);
            Tensor y = x.exp(); // exp saves its output
            Tensor loss = y.sum();
            try (var ng = Ember.noGrad()) {
                y.mul_(2.0);
            }
            var e = assertThrows(IllegalStateException.class, loss::backward);
            assertTrue(e.getMessage().startsWith("one of the variables needed for gradient computation has been modified by an"
                    + " inplace operation: ["), e.getMessage());
            assertTrue(e.getMessage().contains("which is output 0 of ExpBackward0,"), e.getMessage());
            assertTrue(e.getMessage().contains("is at version 1; expected version 0 instead."), e.getMessage());
        }
    }

    @Test
    void modifyingASavedInputThatAnotherOpMadeNamesThatOp() {
        try (var s = Ember.scope()) {
            Tensor x = leaf(1, 2);
            Tensor w = leaf(1, 1);
            Tensor h = x.exp();
            Tensor loss = h.mul(w).sum(); // mul saves h, which is output 0 of ExpBackward0
            try (var ng = Ember.noGrad()) {
                h.mul_(2.0);
            }
            var e = assertThrows(IllegalStateException.class, loss::backward);
            assertTrue(e.getMessage().contains("], which is output 0 of ExpBackward0, is at version 1; expected version 0"
                    + " instead."), e.getMessage());
        }
    }

    @Test
    void modifyingASavedInputInPlaceFailsBackward() {
        try (var s = Ember.scope()) {
            Tensor w = leaf(1, 2, 3);
            Tensor x = Tensor.fromArray(new double[] {4, 5, 6});
            Tensor loss = w.mul(x).sum(); // mul saves both inputs
            x.add_(1.0);
            x.add_(1.0);
            var e = assertThrows(IllegalStateException.class, loss::backward);
            assertTrue(e.getMessage().contains("is at version 2; expected version 0 instead."), e.getMessage());
        }
    }

    @Test
    void modifyingAViewOfASavedTensorBumpsTheSharedVersion() {
        try (var s = Ember.scope()) {
            Tensor w = leaf(1, 2, 3, 4);
            Tensor x = Tensor.fromArray(new double[] {4, 5, 6, 7});
            Tensor loss = w.mul(x).sum();
            int before = x.version();
            x.view(2, 2).select(0, 1).fill_(0);
            assertEquals(before + 1, x.version(), "a view shares its base's version counter");
            var e = assertThrows(IllegalStateException.class, loss::backward);
            assertTrue(e.getMessage().contains("is at version 1; expected version 0 instead."), e.getMessage());
        }
    }

    @Test
    void inPlaceChangesToUnsavedTensorsAreFine() {
        try (var s = Ember.scope()) {
            Tensor w = leaf(1, 2);
            Tensor x = Tensor.fromArray(new double[] {4, 5});
            Tensor loss = w.add(x).sum(); // add saves nothing
            x.mul_(100.0);
            loss.backward();
            assertArrayEquals(new double[] {1, 1}, w.grad().toDoubleArray(), 0);
        }
    }

    @Test
    void inPlaceOnALeafThatRequiresGradFails() {
        try (var s = Ember.scope()) {
            Tensor x = leaf(1, 2);
            for (Runnable op : List.<Runnable>of(() -> x.add_(1.0), () -> x.mul_(2.0), () -> x.exp_(), () -> x.zero_(),
                    () -> x.copy_(Tensor.fromArray(new double[] {0, 0})), () -> x.set(3, 0), () -> x.clamp_(0, 1))) {
                var e = assertThrows(IllegalStateException.class, op::run);
                assertEquals("a leaf Variable that requires grad is being used in an in-place operation.", e.getMessage());
            }
            assertEquals(0, x.version(), "a refused in-place op changes nothing");
            assertArrayEquals(new double[] {1, 2}, x.toDoubleArray(), 0);
            try (var ng = Ember.noGrad()) {
                x.add_(1.0); // allowed without grad mode, as PyTorch's optimizer steps
            }
            assertArrayEquals(new double[] {2, 3}, x.toDoubleArray(), 0);
        }
    }

    @Test
    void inPlaceOnAGraphIntermediateIsRefused() {
        try (var s = Ember.scope()) {
            Tensor h = leaf(1, 2).mul(2.0);
            assertThrows(UnsupportedOperationException.class, () -> h.add_(1.0));
            Tensor c = Tensor.fromArray(new double[] {1, 1});
            assertThrows(UnsupportedOperationException.class, () -> c.add_(h), "writing a graph tensor into a constant");
        }
    }

    @Test
    void savedTensorClosedBeforeBackwardGivesAClearMessage() {
        try (var s = Ember.scope()) {
            Tensor x = leaf(1, 2);
            Tensor y = x.exp();
            Tensor loss = y.sum();
            y.close();
            var e = assertThrows(IllegalStateException.class, loss::backward);
            assertTrue(e.getMessage().contains("saved by ExpBackward0 for backward was closed before backward() ran"),
                    e.getMessage());
        }
    }

    @Test
    void backwardAfterTheForwardScopeClosedGivesAClearMessage() {
        Tensor w = Tensor.fromArray(new double[] {1, 2}).requiresGrad_();
        try {
            Tensor loss;
            try (var s = Ember.scope()) {
                Tensor h = w.mul(w).tanh(); // tanh saves h's result, made in this scope
                loss = s.keep(h.sum());
            }
            Tensor l = loss;
            var e = assertThrows(IllegalStateException.class, l::backward);
            assertTrue(e.getMessage().contains("was closed before backward() ran"), e.getMessage());
            loss.close();
        } finally {
            w.close();
        }
    }

    // ------------------------------------------------------------------ anomaly mode

    @Test
    void anomalyModeReportsNanWithTheCreationTrace() {
        try (var s = Ember.scope()) {
            Tensor x = leaf(0, 1, 4);
            AnomalyHolder h = new AnomalyHolder();
            try (var a = Ember.detectAnomaly()) {
                assertTrue(GradMode.isAnomalyEnabled());
                Tensor loss = x.sqrt().mul(0.0).sum(); // d sqrt at 0 is inf; times 0 is NaN
                h.error = assertThrows(RuntimeException.class, loss::backward);
            }
            String m = h.error.getMessage();
            assertTrue(m.startsWith("Function 'SqrtBackward0' returned nan values in its 0th output."), m);
            assertTrue(m.contains("anomalyModeReportsNanWithTheCreationTrace"), "the trace names the test method: " + m);
        }
    }

    @Test
    void withoutAnomalyModeNanGradientsPassSilently() {
        try (var s = Ember.scope()) {
            Tensor x = leaf(0, 1);
            x.sqrt().mul(0.0).sum().backward();
            assertTrue(Double.isNaN(x.grad().toDoubleArray()[0]));
        }
    }

    @Test
    void anomalyModeReportsNanFromLogOfANegative() {
        try (var s = Ember.scope()) {
            Tensor x = leaf(-1, 2);
            try (var a = Ember.detectAnomaly()) {
                Tensor loss = x.log().sum(); // log(-1) is NaN; its backward 1/x is fine, but the next op's is not
                Tensor l2 = loss.mul(x.log().exp().sum());
                var e = assertThrows(RuntimeException.class, l2::backward);
                assertTrue(e.getMessage().contains("returned nan values"), e.getMessage());
                assertTrue(e.getMessage().contains("anomalyModeReportsNanFromLogOfANegative"), e.getMessage());
            }
        }
    }

    @Test
    void anomalyModeNamesWhereAFailingNodeWasCreated() {
        try (var s = Ember.scope()) {
            Tensor x = leaf(1, 2);
            Tensor y;
            Tensor loss;
            try (var a = Ember.detectAnomaly()) {
                y = createExpInAHelper(x);
                loss = y.sum();
                try (var ng = Ember.noGrad()) {
                    y.mul_(2.0);
                }
                var e = assertThrows(RuntimeException.class, loss::backward);
                String m = e.getMessage();
                assertTrue(m.contains("ExpBackward0"), m);
                assertTrue(m.contains("is at version 1; expected version 0 instead."), m);
                assertTrue(m.contains("createExpInAHelper"), "names the method that created the node: " + m);
                assertTrue(m.contains("anomalyModeNamesWhereAFailingNodeWasCreated"), m);
                assertNotNull(y.gradFn().createdAt());
            }
        }
    }

    private static Tensor createExpInAHelper(Tensor x) {
        return x.mul(1.0).exp();
    }

    @Test
    void nodesRecordNoTraceOutsideAnomalyMode() {
        try (var s = Ember.scope()) {
            Tensor y = leaf(1).exp();
            assertNull(y.gradFn().createdAt());
            try (var a = Ember.detectAnomaly()) {
                assertNotNull(leaf(1).exp().gradFn().createdAt());
            }
        }
    }

    private static final class AnomalyHolder {
        RuntimeException error;
    }
}
