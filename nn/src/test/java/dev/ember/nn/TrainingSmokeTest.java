package dev.ember.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ember.tensor.Ember;
import dev.ember.tensor.Generator;
import dev.ember.tensor.Scope;
import dev.ember.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Every layer kind forward and backward in one small model: it fits a fixed batch, in constant memory. */
class TrainingSmokeTest {
    @Test
    void smallCnnFitsABatchInConstantMemory() {
        Generator g = new Generator(0);
        Tensor x = Scope.escape(Tensor.randn(g, 16, 1, 8, 8));
        Tensor y = Scope.escape(Tensor.randint(g, 0, 3, 16));
        try (x; y; Sequential model = new Sequential(
                new Conv2d(1, 4, new int[] {3}, new int[] {1}, new int[] {1}, new int[] {1}, 1, true, g), new BatchNorm2d(4),
                new ReLU(), new MaxPool2d(2), new Flatten(), new Dropout(0.1, g), new Linear(64, 16, true, g), new GELU(),
                new LayerNorm(16), new Linear(16, 3, true, g))) {
            CrossEntropyLoss lossFn = new CrossEntropyLoss(null, -100, "mean", 0.05);
            double first = 0, last = 0;
            long liveAfterSecondStep = 0;
            for (int step = 0; step < 40; step++) {
                try (var s = Ember.scope()) {
                    Tensor loss = lossFn.apply(model.apply(x), y);
                    model.zeroGrad();
                    loss.backward();
                    try (var off = Ember.noGrad()) {
                        for (Tensor p : model.parameters()) p.sub_(p.grad().mul(0.1));
                    }
                    if (step == 0) first = loss.item();
                    last = loss.item();
                }
                if (step == 1) liveAfterSecondStep = Ember.liveBytes();
            }
            assertTrue(last < 0.5 * first, "loss went from " + first + " to " + last);
            // no growth; it may shrink, as the Cleaner reclaims what earlier tests in this JVM left unclosed
            long live = Ember.liveBytes();
            assertTrue(live <= liveAfterSecondStep, "memory grew from " + liveAfterSecondStep + " to " + live + " bytes");
        }
    }
}
