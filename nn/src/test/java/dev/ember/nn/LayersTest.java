package dev.ember.nn;

import static dev.ember.nn.NnTesting.assertValues;
import static dev.ember.nn.NnTesting.leaf;
import static dev.ember.nn.NnTesting.wave;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ember.autograd.GradCheck;
import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Generator;
import dev.ember.tensor.Scope;
import dev.ember.tensor.Tensor;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Forward values (against float64 references or PyTorch 1.13's output for the same inputs) and gradchecks of each layer. */
class LayersTest {
    private Scope scope;

    @BeforeEach
    void open() { scope = Ember.scope(); }

    @AfterEach
    void close() { scope.close(); }

    // ---------------------------------------------------------------- Linear

    @Test
    void linearMatchesFloat64Reference() {
        try (Linear lin = new Linear(4, 3, true, new Generator(1))) {
            Tensor x = Tensor.randn(new Generator(2), 2, 5, 4);
            Tensor y = lin.apply(x);
            double[] xs = x.toDoubleArray(), w = lin.weight().toDoubleArray(), b = lin.bias().toDoubleArray();
            double[] expected = new double[10 * 3];
            for (int r = 0; r < 10; r++) {
                for (int o = 0; o < 3; o++) {
                    double acc = b[o];
                    for (int k = 0; k < 4; k++) acc += xs[r * 4 + k] * w[o * 4 + k];
                    expected[r * 3 + o] = acc;
                }
            }
            assertValues(expected, new long[] {2, 5, 3}, y, 1e-5);
            // a vector input and no bias
            Tensor v = Functional.linear(x.select(0, 0).select(0, 0), lin.weight(), null);
            double[] noBias = new double[3];
            for (int o = 0; o < 3; o++) noBias[o] = expected[o] - b[o];
            assertValues(noBias, new long[] {3}, v, 1e-5);
        }
    }

    @Test
    void linearGradcheck() {
        try (Linear lin = new Linear(3, 2, true, new Generator(3))) {
            lin.to(DType.FLOAT64);
            Tensor x = leaf(wave(0.7, 0.1, 4, 3));
            GradCheck.check(in -> lin.apply(in[0]), x, lin.weight(), lin.bias());
            Tensor x3 = leaf(wave(0.3, 0.5, 2, 2, 3));
            GradCheck.check(in -> Functional.linear(in[0], in[1], null), x3, lin.weight());
            Tensor x1 = leaf(wave(0.9, 0.2, 3));
            GradCheck.check(in -> Functional.linear(in[0], in[1], in[2]), x1, lin.weight(), lin.bias());
        }
    }

    // ---------------------------------------------------------------- Conv2d

    /** F.conv2d(x, w, b, stride=(2,1), padding=(1,2), dilation=(1,2), groups=2) on the waves below, first and last rows. */
    @Test
    void conv2dMatchesPyTorch() {
        try (Conv2d conv = new Conv2d(4, 6, new int[] {3}, new int[] {2, 1}, new int[] {1, 2}, new int[] {1, 2}, 2, true,
                new Generator(0))) {
            conv.to(DType.FLOAT64);
            conv.loadStateDict(Map.of("weight", wave(0.23, 0.5, 6, 2, 3, 3), "bias", wave(0.9, 0.2, 6)));
            Tensor y = conv.apply(wave(0.37, 0.1, 2, 4, 5, 6));
            assertArrayEquals(new long[] {2, 6, 3, 6}, y.shape());
            assertValues(new double[] {0.7776037602996343, 0.4823576785770117, 0.509529539943364, 0.07711205850036983,
                    0.11588117393430351, -0.18250902007505798, 1.643803297276162, 1.435745459422518, 1.9380037709002988,
                    1.5444925498582482, 1.4446325609468587, 0.9615637394028825}, new long[] {12},
                    y.flatten().slice(0, 0, 12), 1e-12);
            assertValues(new double[] {-0.9675716131919057, -0.7632558963734206, -0.6633301241457827, -0.39182319243467223,
                    -0.44414900203077434, -0.3149579322969549}, new long[] {6}, y.flatten().slice(0, 210, 216), 1e-12);
        }
    }

    @Test
    void conv2dGradcheck() {
        try (Conv2d conv = new Conv2d(2, 4, new int[] {2, 3}, new int[] {2, 1}, new int[] {1}, new int[] {1, 2}, 2, true,
                new Generator(4))) {
            conv.to(DType.FLOAT64);
            Tensor x = leaf(wave(0.37, 0.1, 1, 2, 4, 5));
            GradCheck.check(in -> conv.apply(in[0]), x, conv.weight(), conv.bias());
        }
    }

    // ---------------------------------------------------------------- pooling

    @Test
    void maxPool2dMatchesPyTorch() {
        Tensor x = wave(0.61, 0.3, 1, 2, 5, 5);
        MaxPool2d pool = new MaxPool2d(new int[] {3}, new int[] {2}, new int[] {1}, new int[] {1}, true);
        assertValues(new double[] {0.7895037396899504, 0.998710143975583, 0.8476778401335698, 0.664492646556282,
                0.9727509563950137, 0.9301341399766526, 0.5172455541820025, 0.9814652465803898, 0.9814652465803898,
                0.3526898101475302, 0.9999534608048796, 0.9999534608048796, 0.3526898101475302, 0.9999534608048796,
                0.9999534608048796, 0.500636485932415, 0.9849801092613546, 0.9849801092613546}, new long[] {1, 2, 3, 3},
                pool.apply(x), 1e-15);
    }

    @Test
    void avgPool2dMatchesPyTorch() {
        Tensor x = wave(0.61, 0.3, 1, 2, 5, 5);
        AvgPool2d ceilNoPad = new AvgPool2d(new int[] {3}, new int[] {2}, new int[] {1}, true, false);
        assertValues(new double[] {0.03701590345964775, 0.003884313076344237, -0.03187976436953681, -0.12908235058029355,
                -0.28287272381777406, -0.24495383696975648, -0.04191299138625887, -0.014615854563992595,
                0.022586778363247045, -0.04344382290516707, -0.021207933251767192, 0.015401053732353898,
                -0.011394567551263132, 0.22391533008263456, 0.3074727304358289, 0.043011539181378386, 0.02970276662442704,
                -0.0037362444907302894}, new long[] {1, 2, 3, 3}, ceilNoPad.apply(x), 1e-13);
        AvgPool2d padded = new AvgPool2d(2, 2, 1);
        assertValues(new double[] {0.07388005166533489, 0.44705347091638337, 0.3096406547580056, -0.02258819170572664,
                -0.020673640740376947, 0.02901667884900394, -0.022885315623715295, -0.027334353584779397,
                0.022586778363247045, 0.03932679002669006, -0.327536993461809, -0.43810808017707353, 0.02189900868876621,
                0.035548906765566296, -0.011599127516513819, 0.02031889246479593, 0.03957372005361623,
                -0.0037362444907302894}, new long[] {1, 2, 3, 3}, padded.apply(x), 1e-13);
    }

    @Test
    void adaptiveAvgPool2dMatchesPyTorch() {
        Tensor x = wave(0.41, 0.7, 1, 2, 5, 7);
        assertValues(new double[] {0.21699809009493706, 0.29070990055538315, 0.17965882855977433, 0.0849083682623415,
                0.26206508451827465, 0.2726643484336341, 0.1448916436258601, -0.08636521784408872, -0.2627320099963638,
                0.2549689110161816, 0.07014534261223608, -0.15925963037113525}, new long[] {1, 2, 2, 3},
                new AdaptiveAvgPool2d(new int[] {2, 3}).apply(x), 1e-13);
        assertArrayEquals(new long[] {1, 2, 1, 1}, new AdaptiveAvgPool2d(1).apply(x).shape());
    }

    @Test
    void poolingGradchecks() {
        Tensor x = leaf(wave(0.61, 0.3, 1, 2, 5, 5));
        MaxPool2d max = new MaxPool2d(new int[] {3}, new int[] {2}, new int[] {1}, new int[] {1}, true);
        GradCheck.check(in -> max.apply(in[0]), x);
        AvgPool2d avg = new AvgPool2d(new int[] {3, 2}, new int[] {2}, new int[] {1}, true, false);
        GradCheck.check(in -> avg.apply(in[0]), x);
        GradCheck.check(in -> new AdaptiveAvgPool2d(new int[] {2, 3}).apply(in[0]), x);
    }

    // ---------------------------------------------------------------- LayerNorm

    @Test
    void layerNormMatchesFloat64Reference() {
        try (LayerNorm ln = new LayerNorm(new long[] {2, 3}, 1e-5, true)) {
            ln.to(DType.FLOAT64);
            ln.loadStateDict(Map.of("weight", wave(0.5, 0.3, 2, 3), "bias", wave(0.8, 0.9, 2, 3)));
            Tensor x = wave(0.71, 0.2, 3.0, 4, 2, 3);
            double[] xs = x.toDoubleArray(), w = ln.weight().toDoubleArray(), b = ln.bias().toDoubleArray();
            double[] expected = new double[24];
            for (int r = 0; r < 4; r++) {
                double mean = 0, var = 0;
                for (int i = 0; i < 6; i++) mean += xs[r * 6 + i] / 6;
                for (int i = 0; i < 6; i++) var += (xs[r * 6 + i] - mean) * (xs[r * 6 + i] - mean) / 6;
                for (int i = 0; i < 6; i++) expected[r * 6 + i] = (xs[r * 6 + i] - mean) / Math.sqrt(var + 1e-5) * w[i] + b[i];
            }
            assertValues(expected, new long[] {4, 2, 3}, ln.apply(x), 1e-12);
            GradCheck.check(in -> ln.apply(in[0]), leaf(wave(0.71, 0.2, 3.0, 2, 2, 3)), ln.weight(), ln.bias());
        }
        try (LayerNorm plain = new LayerNorm(new long[] {4}, 1e-5, false)) {
            assertTrue(plain.parameters().isEmpty());
            GradCheck.check(in -> plain.apply(in[0]), leaf(wave(0.3, 0.1, 3, 4)));
        }
    }

    // ---------------------------------------------------------------- Dropout

    @Test
    void dropoutZeroesAShareAndScalesTheRestOnlyWhileTraining() {
        Dropout drop = new Dropout(0.25, new Generator(5));
        Tensor x = Tensor.ones(100_000);
        double[] y = drop.apply(x).toDoubleArray();
        int zeros = 0;
        for (double v : y) {
            if (v == 0) zeros++;
            else assertEquals(1 / 0.75, v, 1e-6);
        }
        assertEquals(0.25, zeros / 100_000.0, 0.01);
        drop.eval();
        assertArrayEquals(x.toDoubleArray(), drop.apply(x).toDoubleArray());
    }

    @Test
    void dropoutIsReproducibleBySeed() {
        Tensor x = Tensor.randn(new Generator(1), 50);
        double[] a = new Dropout(0.5, new Generator(9)).apply(x).toDoubleArray();
        double[] b = new Dropout(0.5, new Generator(9)).apply(x).toDoubleArray();
        assertArrayEquals(a, b);
        Ember.manualSeed(3);
        double[] c = new Dropout(0.5).apply(x).toDoubleArray();
        Ember.manualSeed(3);
        assertArrayEquals(c, new Dropout(0.5).apply(x).toDoubleArray());
    }

    @Test
    void dropoutGradcheck() {
        Generator g = new Generator(0);
        Tensor x = leaf(wave(0.4, 0.3, 4, 5));
        // the same mask on every evaluation, or finite differences would compare different functions
        GradCheck.check(in -> Functional.dropout(in[0], 0.3, true, g.manualSeed(11)), x);
    }

    // ---------------------------------------------------------------- Embedding

    @Test
    void embeddingLooksUpRowsAndAccumulatesRepeatedIndices() {
        try (Embedding emb = new Embedding(5, 3, new Generator(2))) {
            Tensor idx = Tensor.fromArray(new long[] {4, 0, 4, 2, 1, 4}, 2, 3);
            Tensor y = emb.apply(idx);
            assertArrayEquals(new long[] {2, 3, 3}, y.shape());
            double[] w = emb.weight().toDoubleArray(), got = y.toDoubleArray();
            long[] flat = idx.toLongArray();
            for (int i = 0; i < 6; i++) {
                for (int d = 0; d < 3; d++) assertEquals(w[(int) flat[i] * 3 + d], got[i * 3 + d]);
            }
            y.sum().backward();
            assertArrayEquals(new float[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 3, 3, 3}, emb.weight().grad().toFloatArray());
            assertArrayEquals(new long[] {3}, emb.apply(Tensor.fromArray(new long[] {2}).squeeze()).shape());
        }
    }

    @Test
    void embeddingGradcheck() {
        Tensor weight = leaf(wave(0.3, 0.2, 4, 3));
        Tensor idx = Tensor.fromArray(new int[] {3, 1, 3, 0}, 2, 2);
        GradCheck.check(in -> Functional.embedding(idx, in[0]).mul(wave(0.9, 0.1, 2, 2, 3)), weight);
    }

    // ---------------------------------------------------------------- activations, Flatten, Sequential

    @Test
    void activationsMatchFloat64References() {
        Tensor x = wave(0.77, 0.3, 3.0, 3, 4);
        double[] xs = x.toDoubleArray();
        double[] relu = new double[12], silu = new double[12], sig = new double[12], tanh = new double[12];
        double[] gelu = new double[12], geluTanh = new double[12];
        for (int i = 0; i < 12; i++) {
            double v = xs[i];
            relu[i] = Math.max(v, 0);
            sig[i] = 1 / (1 + Math.exp(-v));
            silu[i] = v * sig[i];
            tanh[i] = Math.tanh(v);
            gelu[i] = 0.5 * v * (1 + erf(v / Math.sqrt(2)));
            geluTanh[i] = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
        }
        long[] shape = {3, 4};
        assertValues(relu, shape, new ReLU().apply(x), 1e-15);
        assertValues(silu, shape, new SiLU().apply(x), 1e-14);
        assertValues(sig, shape, new Sigmoid().apply(x), 1e-14);
        assertValues(tanh, shape, new Tanh().apply(x), 1e-14);
        assertValues(gelu, shape, new GELU().apply(x), 1e-7);
        assertValues(geluTanh, shape, new GELU("tanh").apply(x), 1e-14);
        double[] softmax = new double[12], logSoftmax = new double[12];
        for (int r = 0; r < 3; r++) {
            double sum = 0;
            for (int c = 0; c < 4; c++) sum += Math.exp(xs[r * 4 + c]);
            for (int c = 0; c < 4; c++) {
                softmax[r * 4 + c] = Math.exp(xs[r * 4 + c]) / sum;
                logSoftmax[r * 4 + c] = xs[r * 4 + c] - Math.log(sum);
            }
        }
        assertValues(softmax, shape, new Softmax(1).apply(x), 1e-14);
        assertValues(logSoftmax, shape, new LogSoftmax(-1).apply(x), 1e-14);
    }

    /** Abramowitz-Stegun 7.1.26 is too coarse; this series and continued fraction give erf to ~1e-12. */
    private static double erf(double z) {
        double t = Math.abs(z);
        double result;
        if (t < 3) {
            double sum = 0, term = t;
            for (int n = 0; n < 100; n++) {
                sum += term / (2 * n + 1);
                term *= -t * t / (n + 1);
            }
            result = 2 / Math.sqrt(Math.PI) * sum;
        } else {
            double f = 0;
            for (int n = 60; n >= 1; n--) f = n / 2.0 / (t + f);
            result = 1 - Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
        }
        return Math.signum(z) * result;
    }

    @Test
    void activationGradchecks() {
        Tensor x = leaf(wave(0.77, 0.3, 3.0, 3, 4));
        for (Module m : new Module[] {new ReLU(), new SiLU(), new Sigmoid(), new Tanh(), new GELU(), new GELU("tanh"),
                new Softmax(1), new LogSoftmax(0), new Flatten(0, 1)}) {
            GradCheck.check(in -> m.apply(in[0]), x);
        }
    }

    @Test
    void flattenAndSequentialCompose() {
        Tensor x = Tensor.randn(2, 3, 4, 5);
        assertArrayEquals(new long[] {2, 60}, new Flatten().apply(x).shape());
        assertArrayEquals(new long[] {24, 5}, new Flatten(0, 2).apply(x).shape());
        try (Sequential m = new Sequential(new Flatten(), new Linear(60, 7), new ReLU(), new Linear(7, 2))) {
            Tensor y = m.apply(x);
            Tensor manual = ((Linear) m.get(3)).apply(((Linear) m.get(1)).apply(x.flatten(1, -1)).relu());
            assertArrayEquals(manual.toDoubleArray(), y.toDoubleArray());
            assertFalse(y.isLeaf());
        }
    }

    @Test
    void sequentialGradcheckReachesEveryParameter() {
        try (Sequential m = new Sequential(new Linear(3, 4, true, new Generator(1)), new Tanh(), new Linear(4, 2, true,
                new Generator(2)))) {
            m.to(DType.FLOAT64);
            Tensor[] inputs = new Tensor[5];
            inputs[0] = leaf(wave(0.6, 0.2, 2, 3));
            for (int i = 0; i < 4; i++) inputs[i + 1] = m.parameters().get(i);
            GradCheck.check(in -> m.apply(in[0]), inputs);
        }
    }
}
