package dev.ember.nn;

import static dev.ember.nn.NnTesting.leaf;
import static dev.ember.nn.NnTesting.wave;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ember.autograd.Autograd;
import dev.ember.autograd.GradCheck;
import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Scope;
import dev.ember.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Cross-entropy and NLL with class-index targets on the CPU, which run as one fused op
 * (ClassIndexLosses with CpuLosses' kernels) for float32 and float64 inputs: values and input
 * gradients against a float64 reference written out below on fresh random inputs, every option
 * and reduction; finite-difference gradchecks; double backward, which goes through the op's
 * gradient in tensor ops.
 */
class FusedClassLossCpuTest {
    private Scope scope;

    @BeforeEach
    void open() { scope = Ember.scope(); }

    @AfterEach
    void close() { scope.close(); }

    private record Setup(int rows, int classes, long ignoreIndex, boolean weighted, double smoothing, String reduction) {}

    @Test
    void valuesAndGradientsMatchAFloat64Reference() {
        long seed = System.nanoTime();
        SplittableRandom r = new SplittableRandom(seed);
        // [70, 1000] is more than one parallel task's rows
        int[][] shapes = {{7, 5}, {64, 10}, {3, 1500}, {1, 1}, {0, 4}, {70, 1000}};
        for (DType type : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            for (int[] shape : shapes) {
                for (String reduction : new String[] {"none", "sum", "mean"}) {
                    for (boolean logits : new boolean[] {true, false}) {
                        Setup s = new Setup(shape[0], shape[1], r.nextBoolean() ? -100 : r.nextInt(shape[1]), r.nextBoolean(),
                                logits && r.nextBoolean() ? 0.15 : 0, reduction);
                        try (var inner = Ember.scope()) {
                            check(type, s, logits, r, (logits ? "cross-entropy " : "nll ") + type + " " + s + " (seed " + seed + "L)");
                        }
                    }
                }
            }
        }
    }

    private static void check(DType type, Setup s, boolean logits, SplittableRandom r, String ctx) {
        double[] x = gaussian(r, s.rows * s.classes, 3);
        long[] t = new long[s.rows];
        for (int i = 0; i < s.rows; i++) t[i] = r.nextInt(5) == 0 ? s.ignoreIndex : r.nextInt(s.classes);
        double[] w = null;
        if (s.weighted) {
            w = new double[s.classes];
            for (int c = 0; c < s.classes; c++) w[c] = 0.25 + Math.abs(r.nextGaussian());
        }
        Tensor input = Tensor.fromArray(x).reshape(s.rows, s.classes).to(type).requiresGrad_();
        Tensor weight = w == null ? null : Tensor.fromArray(w).to(type);
        Tensor target = Tensor.fromArray(t);
        Tensor loss = logits ? Functional.crossEntropy(input, target, weight, s.ignoreIndex, s.reduction, s.smoothing)
                : Functional.nllLoss(input, target, weight, s.ignoreIndex, s.reduction);
        assertEquals(type, loss.dtype(), ctx);
        assertEquals(logits ? "CrossEntropyLossBackward0" : "NllLossBackward0", loss.gradFn().name(), ctx + ": the fused op");

        // the reference reads the inputs as the op does: rounded to the dtype
        double[] xs = input.detach().toDoubleArray(), ws = weight == null ? null : weight.toDoubleArray();
        Reference ref = new Reference(s, logits, xs, t, ws);
        assertClose(ctx + ": loss", type, s.reduction.equals("none") ? ref.rowLoss : new double[] {ref.reduced()},
                loss.toDoubleArray());

        Tensor upstream = s.reduction.equals("none") ? Tensor.fromArray(gaussian(r, s.rows, 1)).to(type)
                : Tensor.scalar(type, r.nextGaussian());
        loss.backward(upstream);
        assertClose(ctx + ": gradient", type, ref.gradient(upstream.toDoubleArray()), input.grad().toDoubleArray());
    }

    /** The loss and its input gradient of one setup, in float64, row by row from the definitions. */
    private static final class Reference {
        final Setup s;
        final boolean logits;
        final double[] logp, w, rowLoss, rowWeight;
        final long[] t;

        Reference(Setup s, boolean logits, double[] x, long[] t, double[] classWeight) {
            this.s = s;
            this.logits = logits;
            this.t = t;
            int n = s.rows, k = s.classes;
            w = new double[k];
            for (int c = 0; c < k; c++) w[c] = classWeight == null ? 1 : classWeight[c];
            logp = x.clone();
            rowLoss = new double[n];
            rowWeight = new double[n];
            for (int i = 0; i < n; i++) {
                if (logits) {
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int c = 0; c < k; c++) max = Math.max(max, x[i * k + c]);
                    for (int c = 0; c < k; c++) sum += Math.exp(x[i * k + c] - max);
                    for (int c = 0; c < k; c++) logp[i * k + c] = x[i * k + c] - max - Math.log(sum);
                }
                if (t[i] == s.ignoreIndex) continue;
                int ti = (int) t[i];
                double uniform = 0;
                for (int c = 0; c < k; c++) uniform -= w[c] * logp[i * k + c];
                rowLoss[i] = (1 - s.smoothing) * -w[ti] * logp[i * k + ti] + s.smoothing / k * uniform;
                rowWeight[i] = w[ti];
            }
        }

        double reduced() {
            double sum = 0, weights = 0;
            for (int i = 0; i < s.rows; i++) {
                sum += rowLoss[i];
                weights += rowWeight[i];
            }
            return s.reduction.equals("mean") ? sum / weights : sum;
        }

        /** d(upstream . loss)/dx; an ignored row's gradient is 0, as PyTorch's, even when a mean divides by 0. */
        double[] gradient(double[] upstream) {
            int n = s.rows, k = s.classes;
            double weights = 0, weightSum = 0;
            for (int i = 0; i < n; i++) weights += rowWeight[i];
            for (int c = 0; c < k; c++) weightSum += w[c];
            double[] dx = new double[n * k];
            for (int i = 0; i < n; i++) {
                if (t[i] == s.ignoreIndex) continue;
                int ti = (int) t[i];
                double g = switch (s.reduction) {
                    case "none" -> upstream[i];
                    case "mean" -> upstream[0] / weights;
                    default -> upstream[0];
                };
                for (int c = 0; c < k; c++) {
                    double target = (c == ti ? 1 - s.smoothing : 0) * w[ti] + s.smoothing / k * w[c];
                    // d(-sum_c q_c log p_c)/dx_j = p_j sum_c q_c - q_j for cross-entropy; -q_j for NLL (without smoothing)
                    dx[i * k + c] = g * (logits ? Math.exp(logp[i * k + c]) * ((1 - s.smoothing) * w[ti] + s.smoothing / k * weightSum)
                            - target : -target);
                }
            }
            return dx;
        }
    }

    @Test
    void gradchecksWithEveryOption() {
        Tensor x = leaf(wave(0.71, 0.3, 2.0, 4, 5));
        Tensor targets = Tensor.fromArray(new long[] {1, 4, -100, 0});
        Tensor weights = Tensor.fromArray(new double[] {0.5, 1.0, 2.0, 1.5, 0.25}); // constant: the op differentiates the input
        for (String reduction : new String[] {"mean", "sum", "none"}) {
            GradCheck.check(in -> Functional.crossEntropy(in[0], targets, weights, -100, reduction, 0.2), x);
            GradCheck.check(in -> Functional.crossEntropy(in[0], Tensor.fromArray(new long[] {1, 4, 2, 0}), null, 4, reduction, 0), x);
            GradCheck.check(in -> Functional.nllLoss(in[0], targets, weights, -100, reduction), x);
        }
        Tensor x3 = leaf(wave(0.47, 0.9, 2.0, 2, 3, 2, 2));
        Tensor t3 = Tensor.fromArray(new long[] {0, 2, 1, -100, 2, 2, 0, 1}, 2, 2, 2);
        GradCheck.check(in -> Functional.crossEntropy(in[0], t3, null, -100, "mean", 0.15), x3);
        assertEquals("CrossEntropyLossBackward0", Functional.crossEntropy(x3, t3).gradFn().name());
    }

    /**
     * With createGraph the op's gradient is built from tensor ops, so it is itself differentiable
     * (PyTorch's gradgradcheck), and it equals the kernels' gradient.
     */
    @Test
    void doubleBackwardGoesThroughTheComposedGradient() {
        Tensor x = leaf(wave(0.71, 0.3, 2.0, 4, 5));
        Tensor targets = Tensor.fromArray(new long[] {1, 4, -100, 0});
        Tensor weights = Tensor.fromArray(new double[] {0.5, 1.0, 2.0, 1.5, 0.25});
        Tensor rowUpstream = Tensor.fromArray(new double[] {0.3, -1.2, 0.7, 2.0});
        for (String reduction : new String[] {"mean", "sum", "none"}) {
            Tensor v = reduction.equals("none") ? rowUpstream : Tensor.scalar(DType.FLOAT64, -0.8);
            for (double smoothing : new double[] {0, 0.2}) {
                for (boolean logits : new boolean[] {true, false}) {
                    String ctx = (logits ? "cross-entropy " : "nll ") + reduction + " smoothing " + smoothing;
                    java.util.function.Function<Tensor[], Tensor> loss = in -> logits
                            ? Functional.crossEntropy(in[0], targets, weights, -100, reduction, smoothing)
                            : Functional.nllLoss(in[0], targets, weights, -100, reduction);
                    Tensor fused = Autograd.grad(List.of(loss.apply(new Tensor[] {x})), List.of(x), List.of(v), false, false, false)
                            .get(0);
                    Tensor composed = gradient(loss, x, v);
                    assertArrayEquals(fused.toDoubleArray(), composed.toDoubleArray(), 1e-12, ctx);
                    // (NLL's gradient is constant in x: nothing to differentiate again)
                    if (logits) GradCheck.check(in -> gradient(loss, in[0], v), x);
                }
            }
        }
    }

    /** d(v . loss(x))/dx with createGraph, as a function of x that autograd can differentiate again. */
    private static Tensor gradient(java.util.function.Function<Tensor[], Tensor> loss, Tensor x, Tensor v) {
        try (var on = Ember.enableGrad()) {
            return Autograd.grad(List.of(loss.apply(new Tensor[] {x})), List.of(x), List.of(v), true, true, false).get(0);
        }
    }

    @Test
    void everyTargetIgnoredGivesANaNMeanAndAZeroGradientAsPyTorch() {
        Tensor x = leaf(wave(0.71, 0.3, 2.0, 4, 5).to(DType.FLOAT32));
        Tensor loss = Functional.crossEntropy(x, Tensor.fromArray(new long[] {-100, -100, -100, -100}));
        assertTrue(Double.isNaN(loss.item()));
        loss.backward();
        assertArrayEquals(new float[20], x.grad().toFloatArray());
    }

    @Test
    void nonFiniteLogitsGiveNaNWhereTheirRowsDo() {
        double inf = Double.POSITIVE_INFINITY;
        Tensor x = Tensor.fromArray(new double[] {1, Double.NaN, 0, inf, 2, 3, -inf, -inf, -inf, 1, -inf, 2}).reshape(4, 3);
        Tensor loss = Functional.crossEntropy(x, Tensor.fromArray(new long[] {0, 1, 2, 2}), null, -100, "none", 0);
        double[] l = loss.toDoubleArray();
        // a NaN logit, a +inf one, and a row of -inf poison their rows (PyTorch: nan, nan, nan); -inf beside finite is fine
        assertTrue(Double.isNaN(l[0]) && Double.isNaN(l[1]) && Double.isNaN(l[2]), java.util.Arrays.toString(l));
        assertEquals(Math.log(1 + Math.exp(-1)), l[3], 1e-15);
    }

    private static double[] gaussian(SplittableRandom r, int n, double scale) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = scale * r.nextGaussian();
        return v;
    }

    /** Within the dtype's rounding of the reference (relative, at least 1); NaN only where NaN. */
    private static void assertClose(String ctx, DType type, double[] expected, double[] got) {
        assertEquals(expected.length, got.length, ctx + ": size");
        double tol = type == DType.FLOAT64 ? 1e-10 : 2e-6;
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i], g = got[i];
            if (Double.isNaN(e) != Double.isNaN(g) || Math.abs(e - g) > tol * Math.max(1, Math.abs(e))) {
                fail(ctx + ": element " + i + " expected " + e + " got " + g);
            }
        }
    }
}
