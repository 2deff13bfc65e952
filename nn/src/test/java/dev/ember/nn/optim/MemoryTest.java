package dev.ember.nn.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Tensor;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * A step must not leak: after the first step (which makes the state buffers) the off-heap bytes
 * in use stay exactly the same over 100 more, for every optimizer, with a scheduler and gradient
 * clipping in the loop, and closing the optimizer gives back exactly what its state took.
 */
@SuppressWarnings("try") // scopes are held for their effect
class MemoryTest {
    private static final int STEPS = 100;

    @TestFactory
    Stream<DynamicTest> liveBytesAreConstantAfterTheFirstStep() {
        return Stream.<Function<List<Tensor>, Optimizer>>of(
                        p -> new SGD(p, 0.01),
                        p -> new SGD(p, SGD.options(0.01).momentum(0.9).nesterov(true).weightDecay(1e-4)),
                        p -> new SGD(p, SGD.options(0.01).momentum(0.9).maximize(true)),
                        p -> new Adam(p, Adam.options().weightDecay(1e-2)),
                        p -> new Adam(p, Adam.options().amsgrad(true).maximize(true)),
                        p -> new AdamW(p, AdamW.options().amsgrad(true)))
                .map(make -> DynamicTest.dynamicTest(describe(make), () -> checkConstant(make)));
    }

    private static String describe(Function<List<Tensor>, Optimizer> make) {
        try (var scope = Ember.scope(); Optimizer opt = make.apply(List.of(Tensor.zeros(1).requiresGrad_()))) {
            return opt.getClass().getSimpleName() + " " + opt.paramGroups().get(0);
        }
    }

    private static void checkConstant(Function<List<Tensor>, Optimizer> make) {
        settleCleaner();
        try (var scope = Ember.scope()) {
            List<Tensor> params = Reference.initialParams(DType.FLOAT32);
            Reference.setGrads(params, 0);
            long beforeState = Ember.liveBytes();
            Optimizer opt = make.apply(params);
            LRScheduler schedule = new CosineAnnealingLR(opt, 10, 1e-4);
            opt.step();
            long afterFirst = Ember.liveBytes();
            for (int k = 1; k <= STEPS; k++) {
                // a new gradient each step, as backward would give, replacing (and freeing) the old one
                Reference.setGrads(params, k % Reference.numSteps());
                GradClip.clipGradNorm(params, 1.0);
                opt.step();
                schedule.step();
                assertEquals(afterFirst, Ember.liveBytes(), "live bytes after step " + (k + 1));
            }
            opt.zeroGrad();
            Reference.setGrads(params, 0);
            opt.close();
            assertEquals(beforeState, Ember.liveBytes(), "closing the optimizer frees its state");
        }
    }

    /** Lets the Cleaner free what earlier tests dropped, so it does not change the count mid-test. */
    private static void settleCleaner() {
        for (int i = 0; i < 3; i++) {
            System.gc();
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
