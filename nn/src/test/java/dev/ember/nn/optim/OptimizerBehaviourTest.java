package dev.ember.nn.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** zeroGrad, construction and validation (with PyTorch's messages), grad mode, and closing. */
@SuppressWarnings("try") // scopes are held for their effect
class OptimizerBehaviourTest {
    @Test
    void zeroGradSetsGradsToNoneByDefault() {
        try (var scope = Ember.scope()) {
            Tensor a = Tensor.ones(3).requiresGrad_(), b = Tensor.ones(2).requiresGrad_();
            a.setGrad(Tensor.full(2.0, 3));
            try (var opt = new SGD(List.of(a, b), 0.1)) {
                opt.zeroGrad();
                assertNull(a.grad());
                assertNull(b.grad());
                // a parameter without a grad is skipped by step
                opt.step();
                assertArrayEquals(new float[] {1, 1, 1}, a.toFloatArray());
            }
        }
    }

    @Test
    void zeroGradFalseZeroesTheSameTensorInPlace() {
        try (var scope = Ember.scope()) {
            Tensor a = Tensor.ones(3).requiresGrad_();
            a.setGrad(Tensor.full(2.0, 3));
            Tensor grad = a.grad();
            try (var opt = new SGD(List.of(a), 0.1)) {
                opt.zeroGrad(false);
                assertSame(grad, a.grad());
                assertArrayEquals(new float[] {0, 0, 0}, a.grad().toFloatArray());
                opt.step(); // a zero gradient moves nothing
                assertArrayEquals(new float[] {1, 1, 1}, a.toFloatArray());
            }
        }
    }

    @Test
    void stepWorksWithGradModeOnAndLeavesItOn() {
        try (var scope = Ember.scope()) {
            Tensor w = Tensor.fromArray(new double[] {1, 2}).requiresGrad_();
            w.mul(w).sum().backward(); // grad 2w
            try (var opt = new SGD(List.of(w), SGD.options(0.5).momentum(0.9))) {
                opt.step();
                assertArrayEquals(new double[] {0, 0}, w.toDoubleArray());
                assertTrue(dev.ember.tensor.GradMode.isEnabled());
                assertTrue(w.requiresGrad());
                assertTrue(w.isLeaf());
            }
        }
    }

    @Test
    void stepWithClosureEvaluatesItFirst() {
        try (var scope = Ember.scope()) {
            Tensor w = Tensor.fromArray(new double[] {3}).requiresGrad_();
            try (var opt = new SGD(List.of(w), 0.25)) {
                Tensor loss = opt.step(() -> {
                    opt.zeroGrad();
                    Tensor l = w.mul(w).sum();
                    l.backward();
                    return l;
                });
                assertEquals(9.0, loss.item());
                assertEquals(1.5, w.item()); // 3 - 0.25 * 6
            }
        }
    }

    @Test
    void validationMessagesArePyTorchs() {
        try (var scope = Ember.scope()) {
            List<Tensor> p = List.of(Tensor.ones(2).requiresGrad_());
            assertMessage("Invalid learning rate: -1.0", () -> new SGD(p, -1.0));
            assertMessage("Invalid momentum value: -0.5", () -> new SGD(p, SGD.options(0.1).momentum(-0.5)));
            assertMessage("Invalid weight_decay value: -0.01", () -> new SGD(p, SGD.options(0.1).weightDecay(-0.01)));
            assertMessage("Nesterov momentum requires a momentum and zero dampening", () -> new SGD(p, SGD.options(0.1).nesterov(true)));
            assertMessage("Nesterov momentum requires a momentum and zero dampening",
                    () -> new SGD(p, SGD.options(0.1).momentum(0.9).dampening(0.1).nesterov(true)));
            assertMessage("Invalid learning rate: -0.001", () -> new Adam(p, Adam.options().lr(-1e-3)));
            assertMessage("Invalid epsilon value: -1e-08", () -> new Adam(p, Adam.options().eps(-1e-8)));
            assertMessage("Invalid beta parameter at index 0: 1.0", () -> new Adam(p, Adam.options().betas(1.0, 0.999)));
            assertMessage("Invalid beta parameter at index 1: -0.1", () -> new AdamW(p, AdamW.options().betas(0.9, -0.1)));
            assertMessage("Invalid weight_decay value: -1e-05", () -> new AdamW(p, AdamW.options().weightDecay(-1e-5)));
            assertMessage("optimizer got an empty parameter list", () -> new SGD(List.<Tensor>of(), 0.1));
            assertMessage("optimizer got an empty parameter list", () -> new Adam(List.<ParamGroup>of(), Adam.options()));
            assertMessage("can't optimize a non-leaf Tensor", () -> new SGD(List.of(p.get(0).mul(2.0)), 0.1));
            assertMessage("some parameters appear in more than one parameter group",
                    () -> new SGD(List.of(ParamGroup.of(p), ParamGroup.of(p)), SGD.options(0.1)));
            assertMessage("optimizer contains a parameter group with duplicate parameters",
                    () -> new SGD(List.of(p.get(0), p.get(0)), 0.1));
            // a group's own options are checked as the defaults are
            assertMessage("Invalid learning rate: -2.0",
                    () -> new SGD(List.of(ParamGroup.of(p).set("lr", -2.0)), SGD.options(0.1)));
        }
    }

    @Test
    void unknownOrMistypedGroupOptionsAreRefused() {
        try (var scope = Ember.scope()) {
            List<Tensor> p = List.of(Tensor.ones(2).requiresGrad_());
            assertMessage("SGD has no option 'momentun' (its options: lr, momentum, dampening, weight_decay, nesterov, maximize)",
                    () -> new SGD(List.of(ParamGroup.of(p).set("momentun", 0.9)), SGD.options(0.1)));
            assertMessage("option 'nesterov' of SGD must be a boolean, got 1.0",
                    () -> new SGD(List.of(ParamGroup.of(p).set("nesterov", 1.0)), SGD.options(0.1)));
        }
    }

    @Test
    void groupsTakeDefaultsForWhatTheyLeaveOut() {
        try (var scope = Ember.scope()) {
            Tensor a = Tensor.ones(2).requiresGrad_(), b = Tensor.ones(2).requiresGrad_();
            ParamGroup fast = ParamGroup.of(List.of(a)).set("lr", 1.0);
            try (var opt = new Adam(List.of(fast, ParamGroup.of(List.of(b))), Adam.options().lr(0.01).amsgrad(true))) {
                assertSame(fast, opt.paramGroups().get(0));
                assertEquals(1.0, fast.lr());
                assertEquals(0.01, opt.paramGroups().get(1).lr());
                assertTrue(fast.getBoolean("amsgrad"));
                assertArrayEquals(new double[] {0.9, 0.999}, fast.getDoubles("betas"));
                assertEquals(1e-8, fast.getDouble("eps"));
            }
        }
    }

    @Test
    void stateIsMadeOnTheFirstStepAndFreedByClose() {
        try (var scope = Ember.scope()) {
            Tensor a = Tensor.ones(DType.FLOAT64, 4).requiresGrad_();
            var opt = new Adam(List.of(a), Adam.options().amsgrad(true));
            assertNull(opt.state(a));
            a.setGrad(Tensor.ones(DType.FLOAT64, 4));
            opt.step();
            opt.step();
            ParamState s = opt.state(a);
            assertNotNull(s);
            assertEquals(2, s.step());
            assertEquals(List.of("exp_avg", "exp_avg_sq", "max_exp_avg_sq"), List.copyOf(s.buffers().keySet()));
            Tensor expAvg = s.buffer("exp_avg");
            assertEquals(DType.FLOAT64, expAvg.dtype());
            opt.close();
            assertTrue(expAvg.isClosed());
            assertTrue(!a.isClosed() && !a.grad().isClosed(), "the optimizer never closes parameters or grads");
            assertThrows(IllegalStateException.class, opt::step);
            opt.close(); // closing twice is harmless
        }
    }

    @Test
    void pythonFloatRepr() {
        assertEquals("-1.0", PyFloat.repr(-1.0));
        assertEquals("1e-05", PyFloat.repr(1e-5));
        assertEquals("0.0001", PyFloat.repr(1e-4));
        assertEquals("1e+16", PyFloat.repr(1e16));
        assertEquals("1000000000000000.0", PyFloat.repr(1e15));
        assertEquals("1.5e-07", PyFloat.repr(1.5e-7));
        assertEquals("123456.789", PyFloat.repr(123456.789));
        assertEquals("1e+100", PyFloat.repr(1e100));
        assertEquals("0.30000000000000004", PyFloat.repr(0.1 + 0.2));
        assertEquals("nan", PyFloat.repr(Double.NaN));
        assertEquals("-inf", PyFloat.repr(Double.NEGATIVE_INFINITY));
        assertEquals("-0.0", PyFloat.repr(-0.0));
    }

    private static void assertMessage(String message, Executable construct) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, construct).getMessage());
    }
}
