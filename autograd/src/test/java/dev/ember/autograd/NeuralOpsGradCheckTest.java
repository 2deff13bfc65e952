package dev.ember.autograd;

import dev.ember.tensor.DType;
import dev.ember.tensor.Generator;
import dev.ember.tensor.NeuralOps;
import dev.ember.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Finite-difference gradchecks of the kernel-backed NN primitives, in float64. */
class NeuralOpsGradCheckTest {
    private final long seed = System.nanoTime();
    private final Generator gen = new Generator(seed);

    private Tensor[] inputs(long[]... shapes) {
        return GradCheck.randomInputs(gen, shapes);
    }

    @Test
    void conv2dWithBiasStridePaddingDilationGroups() {
        Tensor[] in = inputs(new long[] {2, 4, 6, 5}, new long[] {6, 2, 3, 2}, new long[] {6});
        GradCheck.check(t -> NeuralOps.conv2d(t[0], t[1], t[2], new int[] {2, 1}, new int[] {1, 1}, new int[] {1, 2}, 2), in);
        Tensor[] plain = inputs(new long[] {1, 3, 5, 5}, new long[] {2, 3, 3, 3});
        GradCheck.check(t -> NeuralOps.conv2d(t[0], t[1], null, new int[] {1}, new int[] {1}, new int[] {1}, 1), plain);
    }

    @Test
    void pooling() {
        // distinct values so every window has one maximum (the max is not differentiable at ties)
        Tensor x = dev.ember.tensor.Scope.escape(Tensor.randperm(gen, 2 * 3 * 6 * 7).to(DType.FLOAT64).div(10.0)
                .reshape(2, 3, 6, 7)).requiresGrad_();
        GradCheck.check(t -> NeuralOps.maxPool2d(t[0], new int[] {2}, new int[] {2}, new int[] {0}, new int[] {1}, false), x);
        GradCheck.check(t -> NeuralOps.maxPool2d(t[0], new int[] {3, 2}, new int[] {2, 1}, new int[] {1, 1}, new int[] {1}, true), x);
        GradCheck.check(t -> NeuralOps.avgPool2d(t[0], new int[] {3}, new int[] {2}, new int[] {1}, true, false), x);
        GradCheck.check(t -> NeuralOps.adaptiveAvgPool2d(t[0], new int[] {4, 3}), x);
    }

    @Test
    void batchNormTrainingAndEval() {
        Tensor[] in = inputs(new long[] {4, 3, 2, 2}, new long[] {3}, new long[] {3});
        GradCheck.check(t -> NeuralOps.batchNorm(t[0], null, null, t[1], t[2], true, 0.1, 1e-5), in);
        Tensor mean = Tensor.zeros(DType.FLOAT64, 3), var = Tensor.ones(DType.FLOAT64, 3);
        GradCheck.check(t -> NeuralOps.batchNorm(t[0], mean, var, t[1], t[2], false, 0.1, 1e-5), in);
        Tensor[] flat = inputs(new long[] {5, 4});
        GradCheck.check(t -> NeuralOps.batchNorm(t[0], null, null, null, null, true, 0.1, 1e-5), flat);
    }

    @Test
    void dropoutWithAFixedMask() {
        Tensor[] in = inputs(new long[] {4, 5});
        GradCheck.check(t -> NeuralOps.dropout(t[0], 0.3, true, new Generator(seed)), in);
    }
}
