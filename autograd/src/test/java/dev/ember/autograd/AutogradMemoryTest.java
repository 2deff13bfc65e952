package dev.ember.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Generator;
import dev.ember.tensor.MemoryStats;
import dev.ember.tensor.Scope;
import dev.ember.tensor.Tensor;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Forward and backward inside a scope, in a loop: after the first iteration (which makes the
 * leaves' grads) the off-heap bytes and live storages stay exactly constant, so nothing a
 * backward pass makes outlives its step.
 */
class AutogradMemoryTest {

    /** Runs {@code step} 200 times, each in a scope, and checks memory is flat from the second iteration on. */
    private static void assertConstantMemory(String what, Runnable step) {
        long[] bytes = new long[200];
        long[] storages = new long[200];
        for (int i = 0; i < bytes.length; i++) {
            try (var s = Ember.scope()) {
                step.run();
            }
            bytes[i] = Ember.liveBytes();
            storages[i] = MemoryStats.liveStorages();
        }
        for (int i = 1; i < bytes.length; i++) {
            assertEquals(bytes[0], bytes[i], what + ": live bytes changed at iteration " + i);
            assertEquals(storages[0], storages[i], what + ": live storages changed at iteration " + i);
        }
    }

    private static Tensor param(Generator g, DType type, long... shape) {
        try (var s = Ember.scope()) {
            return s.keep(Tensor.randn(g, shape).to(type)).requiresGrad_();
        }
    }

    @Test
    void tinyGraphInAScopeInALoop() {
        Tensor x = Scope.escape(Tensor.fromArray(new float[] {1, 2, 3, 4}));
        Tensor w = Scope.escape(Tensor.fromArray(new float[] {0.5f, -1, 2, 3})).requiresGrad_();
        Tensor b = Scope.escape(Tensor.fromArray(new float[] {1, 1, 1, 1})).requiresGrad_();
        try {
            assertConstantMemory("(x*w + b).sum()", () -> {
                w.setGrad(null);
                b.setGrad(null);
                Tensor y = x.mul(w).add(b).sum();
                y.backward();
                assertEquals(0.5 - 2 + 6 + 12 + 4, y.item(), 1e-6);
            });
            assertArrayEquals(new float[] {1, 2, 3, 4}, w.grad().toFloatArray(), 0);
            assertArrayEquals(new float[] {1, 1, 1, 1}, b.grad().toFloatArray(), 0);
            // without zeroing, grads accumulate in place: still no growth
            assertConstantMemory("(x*w + b).sum() accumulating", () -> x.mul(w).add(b).sum().backward());
        } finally {
            x.close();
            w.close();
            b.close();
        }
    }

    @Test
    void smallNetworkStepInAScopeInALoop() {
        Generator g = new Generator(3);
        Tensor w1 = param(g, DType.FLOAT32, 8, 6);
        Tensor b1 = param(g, DType.FLOAT32, 6);
        Tensor w2 = param(g, DType.FLOAT32, 6, 3);
        Tensor input = Scope.escape(Tensor.randn(g, 5, 8));
        Tensor target = Scope.escape(Tensor.fromArray(new long[] {0, 2, 1, 1, 0}));
        List<Tensor> params = List.of(w1, b1, w2);
        Consumer<Tensor> zero = p -> p.setGrad(null);
        try {
            assertConstantMemory("mlp step", () -> {
                params.forEach(zero);
                Tensor h = input.matmul(w1).add(b1).relu();
                Tensor logits = h.matmul(w2);
                Tensor nll = logits.logSoftmax(1).gather(1, target.unsqueeze(1)).neg().mean();
                Tensor reg = w1.pow(2L).sum().mul(1e-3).add(w2.norm());
                Tensor loss = nll.add(reg).add(logits.softmax(1).max().mul(0.0));
                loss.backward();
                try (var ng = Ember.noGrad()) {
                    for (Tensor p : params) p.sub_(p.grad(), 0.01);
                }
            });
        } finally {
            params.forEach(Tensor::close);
            input.close();
            target.close();
        }
    }

    @Test
    void backwardWithRetainGraphTwiceInAScopeInALoop() {
        Tensor w = param(new Generator(5), DType.FLOAT64, 3, 3);
        try {
            assertConstantMemory("retainGraph", () -> {
                w.setGrad(null);
                Tensor y = w.tanh().matmul(w).sum();
                y.backward(null, true, false);
                y.backward();
            });
        } finally {
            w.close();
        }
    }

    @Test
    void autogradGradInAScopeInALoop() {
        Tensor w = param(new Generator(6), DType.FLOAT64, 4);
        try {
            assertConstantMemory("Autograd.grad", () -> {
                List<Tensor> g = Autograd.grad(w.exp().mul(w).sum(), List.of(w));
                assertEquals(4, g.get(0).numel());
            });
        } finally {
            w.close();
        }
    }

    @Test
    void createGraphInAScopeInALoop() {
        Tensor w = param(new Generator(7), DType.FLOAT64, 4);
        try {
            assertConstantMemory("double backward", () -> {
                w.setGrad(null);
                List<Tensor> g = Autograd.grad(List.of(w.pow(3L).sum()), List.of(w), null, true, true, false);
                g.get(0).sum().backward();
            });
        } finally {
            w.close();
        }
    }
}
