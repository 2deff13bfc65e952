package dev.ember.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Generator;
import dev.ember.tensor.Scope;
import dev.ember.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Default initialisation as PyTorch's (ranges, statistics, gains) and its reproducibility by seed. */
class InitTest {
    private Scope scope;

    @BeforeEach
    void open() { scope = Ember.scope(); }

    @AfterEach
    void close() { scope.close(); }

    /** Mean and standard deviation of all elements. */
    private static double[] stats(Tensor t) {
        double[] v = t.toDoubleArray();
        double mean = Arrays.stream(v).average().orElseThrow();
        double var = Arrays.stream(v).map(x -> (x - mean) * (x - mean)).sum() / v.length;
        return new double[] {mean, Math.sqrt(var)};
    }

    /**
     * Every value within [-bound, bound], the extremes close to it, and the mean and standard
     * deviation of U(-bound, bound) within five standard errors for this many samples.
     */
    private static void assertUniform(Tensor t, double bound) {
        double[] v = t.toDoubleArray();
        int n = v.length;
        double max = Arrays.stream(v).max().orElseThrow(), min = Arrays.stream(v).min().orElseThrow();
        assertTrue(max <= bound && min >= -bound, "values in [" + min + ", " + max + "] exceed +-" + bound);
        double filled = bound * (1 - 30.0 / n); // missed with probability about e^-15
        assertTrue(max > filled && min < -filled, "the range is not filled: [" + min + ", " + max + "]");
        double[] s = stats(t);
        double sd = bound / Math.sqrt(3);
        assertEquals(0, s[0], 5 * sd / Math.sqrt(n));
        assertEquals(sd, s[1], 5 * 0.45 * sd / Math.sqrt(n));
    }

    @Test
    void linearAndConvDefaultsAreUniformOverOneOverSqrtFanIn() {
        try (Linear lin = new Linear(1000, 300, true, new Generator(0))) {
            assertUniform(lin.weight(), 1 / Math.sqrt(1000));
            assertUniform(lin.bias(), 1 / Math.sqrt(1000));
        }
        try (Conv2d conv = new Conv2d(16, 512, new int[] {3}, new int[] {1}, new int[] {0}, new int[] {1}, 2, true,
                new Generator(1))) {
            double bound = 1 / Math.sqrt(8 * 9); // fan_in = in / groups * kh * kw
            assertUniform(conv.weight(), bound);
            double[] b = conv.bias().toDoubleArray();
            assertTrue(Arrays.stream(b).allMatch(x -> Math.abs(x) <= bound));
        }
    }

    @Test
    void embeddingIsStandardNormalAndNormsStartAtOneAndZero() {
        try (Embedding emb = new Embedding(1000, 200, new Generator(0))) {
            double[] s = stats(emb.weight());
            assertEquals(0, s[0], 0.01);
            assertEquals(1, s[1], 0.01);
        }
        try (LayerNorm ln = new LayerNorm(5); BatchNorm2d bn = new BatchNorm2d(5)) {
            for (Module m : List.of(ln, bn)) {
                assertArrayEquals(new float[] {1, 1, 1, 1, 1}, m.parameter("weight").toFloatArray());
                assertArrayEquals(new float[] {0, 0, 0, 0, 0}, m.parameter("bias").toFloatArray());
            }
        }
    }

    @Test
    void sameSeedSameModelDifferentSeedDifferentModel() {
        Ember.manualSeed(42);
        Map<String, Tensor> a = ModuleTest.cnn(dev.ember.tensor.Generator.defaultGenerator()).stateDict();
        Ember.manualSeed(42);
        Map<String, Tensor> b = ModuleTest.cnn(Generator.defaultGenerator()).stateDict();
        Map<String, Tensor> c = ModuleTest.cnn(new Generator(43)).stateDict();
        for (String key : a.keySet()) assertArrayEquals(a.get(key).toDoubleArray(), b.get(key).toDoubleArray(), key);
        assertFalse(Arrays.equals(a.get("0.weight").toDoubleArray(), c.get("0.weight").toDoubleArray()));
        assertArrayEquals(new Linear(3, 4, true, new Generator(5)).weight().toDoubleArray(),
                new Linear(3, 4, true, new Generator(5)).weight().toDoubleArray());
        assertArrayEquals(new Embedding(3, 4, new Generator(5)).weight().toDoubleArray(),
                new Embedding(3, 4, new Generator(5)).weight().toDoubleArray());
    }

    @Test
    void kaimingAndXavierUseTorchsFansAndGains() {
        Tensor w = Tensor.empty(256, 64, 3, 3);
        assertArrayEquals(new long[] {576, 2304}, Init.fanInAndFanOut(w));
        assertUniform(Init.kaimingUniform_(w, 0, "fan_in", "relu", new Generator(1)), Math.sqrt(2) * Math.sqrt(3.0 / 576));
        assertUniform(Init.kaimingUniform_(w, 0, "fan_out", "relu", new Generator(1)), Math.sqrt(2) * Math.sqrt(3.0 / 2304));
        assertUniform(Init.xavierUniform_(w, 1, new Generator(2)), Math.sqrt(6.0 / (576 + 2304)));
        double[] s = stats(Init.kaimingNormal_(w, 0, "fan_in", "relu", new Generator(3)));
        assertEquals(Math.sqrt(2.0 / 576), s[1], 0.01 * s[1]);
        s = stats(Init.xavierNormal_(w, 2, new Generator(4)));
        assertEquals(2 * Math.sqrt(2.0 / (576 + 2304)), s[1], 0.01 * s[1]);
        s = stats(Init.normal_(Tensor.empty(DType.FLOAT64, 100_000), 3, 0.5, new Generator(5)));
        assertEquals(3, s[0], 0.01);
        assertEquals(0.5, s[1], 0.01);
        assertArrayEquals(new float[] {2.5f, 2.5f}, Init.constant_(Tensor.empty(2), 2.5).toFloatArray());
    }

    /** Values from torch.nn.init.calculate_gain. */
    @Test
    void gainsMatchPyTorch() {
        assertEquals(1, Init.calculateGain("linear"));
        assertEquals(1, Init.calculateGain("conv2d"));
        assertEquals(1, Init.calculateGain("sigmoid"));
        assertEquals(1.6666666666666667, Init.calculateGain("tanh"));
        assertEquals(1.4142135623730951, Init.calculateGain("relu"));
        assertEquals(1.4141428569978354, Init.calculateGain("leaky_relu"));
        assertEquals(0.5773502691896257, Init.calculateGain("leaky_relu", Math.sqrt(5)), 1e-15);
        assertEquals(0.75, Init.calculateGain("selu"));
        assertEquals("Unsupported nonlinearity foo",
                assertThrows(IllegalArgumentException.class, () -> Init.calculateGain("foo")).getMessage());
        assertEquals("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions",
                assertThrows(IllegalArgumentException.class, () -> Init.kaimingUniform_(Tensor.zeros(3))).getMessage());
        assertEquals("Mode fan_avg not supported, please use one of fan_in, fan_out", assertThrows(IllegalArgumentException.class,
                () -> Init.kaimingUniform_(Tensor.zeros(3, 3), 0, "fan_avg", "relu", new Generator(0))).getMessage());
    }

    @Test
    void initWorksOnParametersThatRequireGrad() {
        try (Linear lin = new Linear(3, 3)) {
            Init.zeros_(lin.weight());
            Init.uniform_(lin.bias(), 2, 3);
            assertArrayEquals(new float[9], lin.weight().toFloatArray());
            assertTrue(lin.weight().requiresGrad() && lin.weight().isLeaf());
            for (float b : lin.bias().toFloatArray()) assertTrue(b >= 2 && b <= 3);
        }
    }
}
