package dev.ember.nn.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ember.tensor.Ember;
import dev.ember.tensor.Generator;
import dev.ember.tensor.Tensor;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * SGD's fused CPU step (contiguous float32 parameter and gradient, CpuSgd) gives the same bits
 * as its per-parameter path, {@link SGD#update}, for every option: the twin is stepped through
 * update directly, as Optimizer.step does when a parameter does not fit the fused step.
 */
@SuppressWarnings("try") // scopes are held for their effect
class SgdFusedCpuTest {
    // 70,001 floats: more than one thread's share, and not a whole number of vectors
    private static final long ROWS = 301, COLS = 233;

    @TestFactory
    Stream<DynamicTest> fusedStepMatchesThePerParameterPathBitForBit() {
        return Stream.of(
                SGD.options(0.05),
                SGD.options(0.05).momentum(0.9),
                SGD.options(0.1).momentum(0.8).dampening(0.3),
                SGD.options(0.02).momentum(0.9).nesterov(true).weightDecay(1e-2),
                SGD.options(0.03).weightDecay(0.5).maximize(true),
                SGD.options(0.07).momentum(0.5).weightDecay(1).maximize(true),
                SGD.options(0).momentum(0.9))
                .map(o -> DynamicTest.dynamicTest(o.toMap().toString(), () -> compare(o)));
    }

    private static void compare(SGD.Options options) {
        try (var scope = Ember.scope(); var noGrad = Ember.noGrad()) {
            Generator gen = new Generator(42);
            List<Tensor> fused = List.of(Tensor.randn(gen, ROWS, COLS), Tensor.randn(gen, 7));
            List<Tensor> twins = fused.stream().map(Tensor::clone).toList();
            List<ParamState> twinStates = List.of(new ParamState(), new ParamState());
            try (SGD sgd = new SGD(fused, options); SGD reference = new SGD(twins, options)) {
                ParamGroup group = reference.paramGroups().get(0);
                for (int step = 1; step <= 4; step++) {
                    for (int k = 0; k < fused.size(); k++) {
                        Tensor g = Tensor.randn(gen, fused.get(k).shape());
                        fused.get(k).setGrad(g);
                        try (var temporaries = Ember.scope()) {
                            reference.update(group, twins.get(k), g, twinStates.get(k));
                        }
                    }
                    sgd.step();
                    for (int k = 0; k < fused.size(); k++) {
                        assertArrayEquals(twins.get(k).toFloatArray(), fused.get(k).toFloatArray(),
                                "parameter " + k + " after step " + step);
                        Tensor buf = twinStates.get(k).buffer(SGD.MOMENTUM_BUFFER);
                        assertEquals(buf == null, sgd.state(fused.get(k)).buffer(SGD.MOMENTUM_BUFFER) == null);
                        if (buf != null) {
                            assertArrayEquals(buf.toFloatArray(), sgd.state(fused.get(k)).buffer(SGD.MOMENTUM_BUFFER).toFloatArray(),
                                    "momentum buffer " + k + " after step " + step);
                        }
                    }
                }
            }
        }
    }
}
