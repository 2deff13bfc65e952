package dev.ember.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ember.tensor.TestTensors.Domain;
import dev.ember.tensor.TestTensors.Layout;
import dev.ember.tensor.TestTensors.Rng;
import dev.ember.tensor.TestTensors.TT;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;

/**
 * conv2d and its gradients against direct float64 loops on random configurations (batch,
 * channels, groups, sizes, kernel, stride, padding, dilation, bias) and layouts, in float32 and
 * float64, through the im2col, pointwise, direct and few-tap (stride 1, float32) paths, the
 * weight and bias gradients also as one fused pass; the gradients
 * also against central differences of the forward pass in float64; and PyTorch's messages.
 */
@ExtendWith(TestTensors.Scoped.class)
class ConvKernelsTest {
    private static final DType[] TYPES = {DType.FLOAT32, DType.FLOAT64};

    /** Shared checks for the conv, pooling and batch-norm kernel tests. */
    static final class Check {
        private Check() {}

        /** Relative tolerance against the sum of |terms| behind each value: float32 1e-4, float64 1e-10. */
        static double tolerance(DType t) {
            return t == DType.FLOAT32 ? 1e-4 : 1e-10;
        }

        /** Each value within tolerance(t)·scale[i] (plus a hair for all-zero terms) of expected; NaN only matches NaN. */
        static void close(String ctx, DType t, double[] expected, double[] scale, Tensor got) {
            assertEquals(t, got.dtype(), ctx + ": dtype");
            double[] g = got.toDoubleArray();
            assertEquals(expected.length, g.length, ctx + ": numel");
            for (int i = 0; i < g.length; i++) {
                boolean ok = Double.isNaN(expected[i]) ? Double.isNaN(g[i])
                        : Math.abs(g[i] - expected[i]) <= tolerance(t) * scale[i] + 1e-30;
                if (!ok) {
                    fail(ctx + ": element " + i + " expected " + expected[i] + " (terms " + scale[i] + ") but got " + g[i]);
                }
            }
        }

        static double dot(double[] a, double[] b) {
            double s = 0;
            for (int i = 0; i < a.length; i++) s += a[i] * b[i];
            return s;
        }

        /** A random tensor of the given shape in a random layout, values in [-1, 1]. */
        static TT random(Rng r, DType t, long... shape) {
            return TestTensors.random(r, t, shape, r.pick(Layout.values()), Domain.plain(-1, 1));
        }

        /** Random values of a shape, for directions and gradients. */
        static double[] values(Rng r, long... shape) {
            double[] v = new double[Math.toIntExact(TestTensors.numel(shape))];
            for (int i = 0; i < v.length; i++) v[i] = r.nextDouble(-1, 1);
            return v;
        }

        /**
         * The directional-derivative check in float64: for f at x and a direction v,
         * ⟨g, f(x + εv) − f(x − εv)⟩ / 2ε must equal ⟨grad, v⟩ where grad is the backward pass's
         * gradient for output gradient g. Outputs with g = 0 are left out, so a −inf output (a
         * max-pool window with no input) may be excluded by zeroing its g.
         */
        static void directional(String ctx, java.util.function.DoubleFunction<double[]> along, double[] g, double[] grad,
                double[] v) {
            double eps = 1e-6;
            double[] plus = along.apply(eps), minus = along.apply(-eps);
            double numeric = 0, scale = 0, noise = 0;
            for (int i = 0; i < g.length; i++) {
                if (g[i] == 0) continue;
                numeric += g[i] * (plus[i] - minus[i]) / (2 * eps);
                scale += Math.abs(g[i] * (plus[i] + minus[i]) / 2);
                // rounding in f(x ± εv), amplified up to a thousandfold (batch norm's 1/sqrt(eps)), then divided by 2ε
                noise += Math.abs(g[i]) * 1e-13 * (1 + Math.abs(plus[i])) / (2 * eps);
            }
            double analytic = dot(grad, v);
            double tol = 1e-6 * (scale + Math.abs(analytic) + absDot(grad, v)) + noise;
            if (Math.abs(numeric - analytic) > tol) {
                fail(ctx + ": directional derivative " + numeric + " by central differences but " + analytic + " by backward");
            }
        }

        static double absDot(double[] a, double[] b) {
            double s = 0;
            for (int i = 0; i < a.length; i++) s += Math.abs(a[i] * b[i]);
            return s;
        }

        static Tensor tensor(DType t, double[] v, long... shape) {
            return TestTensors.fromValues(t, shape, v);
        }

        /** x + s·v as a float64 tensor of the shape. */
        static Tensor shifted(double[] x, double s, double[] v, long... shape) {
            double[] y = new double[x.length];
            for (int i = 0; i < y.length; i++) y[i] = x[i] + s * v[i];
            return Tensor.fromArray(y, shape);
        }

        static void fails(Class<? extends Throwable> type, String message, Executable e) {
            assertEquals(message, assertThrows(type, e).getMessage());
        }
    }

    /** One random convolution: sizes and parameters. */
    record Conv(int n, int cin, int h, int w, int cout, int kh, int kw, int[] stride, int[] pad, int[] dil,
            int groups, boolean bias, boolean batched) {
        int outH() { return (h + 2 * pad[0] - dil[0] * (kh - 1) - 1) / stride[0] + 1; }

        int outW() { return (w + 2 * pad[1] - dil[1] * (kw - 1) - 1) / stride[1] + 1; }

        long[] input() { return batched ? new long[] {n, cin, h, w} : new long[] {cin, h, w}; }

        long[] weight() { return new long[] {cout, cin / groups, kh, kw}; }

        long[] output() { return batched ? new long[] {n, cout, outH(), outW()} : new long[] {cout, outH(), outW()}; }

        static Conv random(Rng r, int maxSize, int maxChannels) {
            while (true) {
                int groups = r.chance(0.3) ? r.nextInt(2, 3) : 1;
                int cin = groups * r.nextInt(1, Math.max(1, maxChannels / groups)), cout = groups * r.nextInt(1, Math.max(1, maxChannels / groups));
                int[] s = {r.nextInt(1, 3), r.nextInt(1, 3)}, p = {r.nextInt(0, 2), r.nextInt(0, 2)}, d = {r.nextInt(1, 2), r.nextInt(1, 2)};
                if (r.chance(0.4)) s = new int[] {1, 1};
                Conv c = new Conv(r.nextInt(1, 3), cin, r.nextInt(1, maxSize), r.nextInt(1, maxSize), cout,
                        r.nextInt(1, 4), r.nextInt(1, 4), s, p, d, groups, r.nextBoolean(), !r.chance(0.15));
                if (c.h + 2 * p[0] >= d[0] * (c.kh - 1) + 1 && c.w + 2 * p[1] >= d[1] * (c.kw - 1) + 1) return c;
            }
        }

        @Override
        public String toString() {
            return "conv2d(input " + Arrays.toString(input()) + ", weight " + Arrays.toString(weight()) + ", stride "
                    + Arrays.toString(stride) + ", padding " + Arrays.toString(pad) + ", dilation " + Arrays.toString(dil)
                    + ", groups " + groups + (bias ? ", bias" : "") + ")";
        }
    }

    /** The reference forward pass, with the sum of |terms| of each output for the tolerance. */
    private record Result(double[] y, double[] scale) {}

    private static Result reference(Conv c, double[] x, double[] w, double[] b) {
        int n = c.batched ? c.n : 1, oh = c.outH(), ow = c.outW(), cig = c.cin / c.groups, cog = c.cout / c.groups;
        double[] y = new double[n * c.cout * oh * ow], scale = new double[y.length];
        for (int img = 0; img < n; img++) {
            for (int o = 0; o < c.cout; o++) {
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        double s = b == null ? 0 : b[o], a = Math.abs(s);
                        for (int ci = 0; ci < cig; ci++) {
                            int ch = o / cog * cig + ci;
                            for (int ki = 0; ki < c.kh; ki++) {
                                for (int kj = 0; kj < c.kw; kj++) {
                                    int ih = i * c.stride[0] - c.pad[0] + ki * c.dil[0], iw = j * c.stride[1] - c.pad[1] + kj * c.dil[1];
                                    if (ih < 0 || ih >= c.h || iw < 0 || iw >= c.w) continue;
                                    double t = x[((img * c.cin + ch) * c.h + ih) * c.w + iw] * w[((o * cig + ci) * c.kh + ki) * c.kw + kj];
                                    s += t;
                                    a += Math.abs(t);
                                }
                            }
                        }
                        int at = ((img * c.cout + o) * oh + i) * ow + j;
                        y[at] = s;
                        scale[at] = a;
                    }
                }
            }
        }
        return new Result(y, scale);
    }

    /** The reference gradients (dx, dw, db) by scattering each output's gradient back over its terms, with |terms| sums. */
    private static double[][] referenceBackward(Conv c, double[] x, double[] w, double[] g) {
        int n = c.batched ? c.n : 1, oh = c.outH(), ow = c.outW(), cig = c.cin / c.groups, cog = c.cout / c.groups;
        double[] dx = new double[x.length], dw = new double[w.length], db = new double[c.cout];
        double[] ax = new double[x.length], aw = new double[w.length], ab = new double[c.cout];
        for (int img = 0; img < n; img++) {
            for (int o = 0; o < c.cout; o++) {
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        double gv = g[((img * c.cout + o) * oh + i) * ow + j];
                        db[o] += gv;
                        ab[o] += Math.abs(gv);
                        for (int ci = 0; ci < cig; ci++) {
                            int ch = o / cog * cig + ci;
                            for (int ki = 0; ki < c.kh; ki++) {
                                for (int kj = 0; kj < c.kw; kj++) {
                                    int ih = i * c.stride[0] - c.pad[0] + ki * c.dil[0], iw = j * c.stride[1] - c.pad[1] + kj * c.dil[1];
                                    if (ih < 0 || ih >= c.h || iw < 0 || iw >= c.w) continue;
                                    int xi = ((img * c.cin + ch) * c.h + ih) * c.w + iw, wi = ((o * cig + ci) * c.kh + ki) * c.kw + kj;
                                    dx[xi] += gv * w[wi];
                                    ax[xi] += Math.abs(gv * w[wi]);
                                    dw[wi] += gv * x[xi];
                                    aw[wi] += Math.abs(gv * x[xi]);
                                }
                            }
                        }
                    }
                }
            }
        }
        return new double[][] {dx, dw, db, ax, aw, ab};
    }

    @Test
    void forwardMatchesDirectLoops() {
        for (int trial = 0; trial < 300; trial++) forward(Rng.fresh(), trial % 10 == 0 ? 24 : 9, trial % 10 == 0 ? 20 : 5);
    }

    private static void forward(Rng r, int maxSize, int maxChannels) {
        Conv c = Conv.random(r, maxSize, maxChannels);
        DType t = r.pick(TYPES);
        TT x = Check.random(r, t, c.input()), w = Check.random(r, t, c.weight());
        TT b = c.bias ? Check.random(r, t, c.cout) : null;
        String ctx = c + " " + t + " x " + x + " w " + w + ", " + r;
        Tensor y = ConvKernels.conv2d(x.t(), w.t(), b == null ? null : b.t(), c.stride, c.pad, c.dil, c.groups);
        assertArrayEquals(c.output(), y.shape(), ctx + ": shape");
        Result ref = reference(c, x.values(), w.values(), b == null ? null : b.values());
        Check.close(ctx, t, ref.y, ref.scale, y);
    }

    @Test
    void backwardMatchesScatterLoops() {
        for (int trial = 0; trial < 200; trial++) backward(Rng.fresh(), trial % 10 == 0 ? 24 : 9, trial % 10 == 0 ? 20 : 5);
    }

    private static void backward(Rng r, int maxSize, int maxChannels) {
        Conv c = Conv.random(r, maxSize, maxChannels);
        DType t = r.pick(TYPES);
        TT x = Check.random(r, t, c.input()), w = Check.random(r, t, c.weight()), g = Check.random(r, t, c.output());
        String ctx = c + " " + t + " grad " + g + ", " + r;
        double[][] ref = referenceBackward(c, x.values(), w.values(), g.values());
        Tensor dx = ConvKernels.conv2dBackwardInput(g.t(), w.t(), c.input(), c.stride, c.pad, c.dil, c.groups);
        Tensor dw = ConvKernels.conv2dBackwardWeight(g.t(), x.t(), c.weight(), c.stride, c.pad, c.dil, c.groups);
        Tensor db = ConvKernels.conv2dBackwardBias(g.t());
        assertArrayEquals(c.input(), dx.shape(), ctx + ": input gradient shape");
        assertArrayEquals(c.weight(), dw.shape(), ctx + ": weight gradient shape");
        assertArrayEquals(new long[] {c.cout}, db.shape(), ctx + ": bias gradient shape");
        Check.close(ctx + ": input gradient", t, ref[0], ref[3], dx);
        Check.close(ctx + ": weight gradient", t, ref[1], ref[4], dw);
        Check.close(ctx + ": bias gradient", t, ref[2], ref[5], db);
        // the fused form, where the float32 weight kernels sum the bias gradient as they read dy
        Tensor[] wb = ConvKernels.conv2dBackwardWeightAndBias(g.t(), x.t(), c.weight(), c.stride, c.pad, c.dil, c.groups, true);
        Check.close(ctx + ": weight gradient (with bias)", t, ref[1], ref[4], wb[0]);
        Check.close(ctx + ": bias gradient (with weight)", t, ref[2], ref[5], wb[1]);
    }

    @Test
    void gradientsMatchCentralDifferences() {
        for (int trial = 0; trial < 60; trial++) {
            Rng r = Rng.fresh();
            Conv c = Conv.random(r, 9, 5);
            double[] x = Check.values(r, c.input()), w = Check.values(r, c.weight()), b = Check.values(r, c.cout);
            double[] g = Check.values(r, c.output()), vx = Check.values(r, c.input()), vw = Check.values(r, c.weight());
            double[] vb = Check.values(r, c.cout);
            String ctx = c + ", " + r;
            Tensor gt = Tensor.fromArray(g, c.output()), xt = Tensor.fromArray(x, c.input()), wt = Tensor.fromArray(w, c.weight());
            double[] dx = ConvKernels.conv2dBackwardInput(gt, wt, c.input(), c.stride, c.pad, c.dil, c.groups).toDoubleArray();
            double[] dw = ConvKernels.conv2dBackwardWeight(gt, xt, c.weight(), c.stride, c.pad, c.dil, c.groups).toDoubleArray();
            double[] db = ConvKernels.conv2dBackwardBias(gt).toDoubleArray();
            Check.directional(ctx + ": input", s -> conv(c, Check.shifted(x, s, vx, c.input()), wt, b), g, dx, vx);
            Check.directional(ctx + ": weight", s -> conv(c, xt, Check.shifted(w, s, vw, c.weight()), b), g, dw, vw);
            Check.directional(ctx + ": bias", s -> {
                double[] shifted = new double[b.length];
                for (int i = 0; i < b.length; i++) shifted[i] = b[i] + s * vb[i];
                return conv(c, xt, wt, shifted);
            }, g, db, vb);
        }
    }

    private static double[] conv(Conv c, Tensor x, Tensor w, double[] b) {
        return ConvKernels.conv2d(x, w, Tensor.fromArray(b), c.stride, c.pad, c.dil, c.groups).toDoubleArray();
    }

    /** The training example's shapes: the direct path, several tiles and threads. */
    @Test
    void exampleShapesMatchFloat64() {
        Rng r = Rng.fresh();
        for (int[] s : new int[][] {{4, 1, 28, 32}, {3, 32, 14, 64}, {2, 3, 17, 10}}) {
            Conv c = new Conv(s[0], s[1], s[2], s[2], s[3], 3, 3, new int[] {1, 1}, new int[] {1, 1}, new int[] {1, 1}, 1, true, true);
            TT x = Check.random(r, DType.FLOAT32, c.input()), w = Check.random(r, DType.FLOAT32, c.weight());
            TT b = Check.random(r, DType.FLOAT32, c.cout), g = Check.random(r, DType.FLOAT32, c.output());
            String ctx = c + ", " + r;
            Result ref = reference(c, x.values(), w.values(), b.values());
            Check.close(ctx, DType.FLOAT32, ref.y, ref.scale, ConvKernels.conv2d(x.t(), w.t(), b.t(), c.stride, c.pad, c.dil, 1));
            double[][] back = referenceBackward(c, x.values(), w.values(), g.values());
            Check.close(ctx + ": input gradient", DType.FLOAT32, back[0], back[3],
                    ConvKernels.conv2dBackwardInput(g.t(), w.t(), c.input(), c.stride, c.pad, c.dil, 1));
            Check.close(ctx + ": weight gradient", DType.FLOAT32, back[1], back[4],
                    ConvKernels.conv2dBackwardWeight(g.t(), x.t(), c.weight(), c.stride, c.pad, c.dil, 1));
            Tensor[] wb = ConvKernels.conv2dBackwardWeightAndBias(g.t(), x.t(), c.weight(), c.stride, c.pad, c.dil, 1, true);
            Check.close(ctx + ": weight gradient (with bias)", DType.FLOAT32, back[1], back[4], wb[0]);
            Check.close(ctx + ": bias gradient (with weight)", DType.FLOAT32, back[2], back[5], wb[1]);
        }
    }

    @Test
    void zeroSizes() {
        int[] one = {1};
        Tensor y = ConvKernels.conv2d(Tensor.zeros(0, 4, 5, 5), Tensor.ones(3, 4, 3, 3), null, one, one, one, 1);
        assertArrayEquals(new long[] {0, 3, 5, 5}, y.shape());
        // no input channels: the output is the bias alone
        Tensor b = Tensor.fromArray(new float[] {1, 2});
        Tensor z = ConvKernels.conv2d(Tensor.zeros(2, 0, 4, 4), Tensor.zeros(2, 0, 3, 3), b, one, new int[] {0}, one, 1);
        assertArrayEquals(new long[] {2, 2, 2, 2}, z.shape());
        assertArrayEquals(new float[] {1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2}, z.toFloatArray());
        Tensor dw = ConvKernels.conv2dBackwardWeight(Tensor.zeros(0, 3, 5, 5), Tensor.zeros(0, 4, 5, 5), new long[] {3, 4, 3, 3},
                one, one, one, 1);
        assertArrayEquals(new float[3 * 4 * 9], dw.toFloatArray());
        Tensor dx = ConvKernels.conv2dBackwardInput(Tensor.zeros(0, 3, 5, 5), Tensor.ones(3, 4, 3, 3), new long[] {0, 4, 5, 5},
                one, one, one, 1);
        assertArrayEquals(new long[] {0, 4, 5, 5}, dx.shape());
        assertArrayEquals(new float[3], ConvKernels.conv2dBackwardBias(Tensor.zeros(0, 3, 5, 5)).toFloatArray());
    }

    @Test
    void badArgumentsGivePyTorchMessages() {
        int[] one = {1}, zero = {0};
        Class<IllegalArgumentException> iae = IllegalArgumentException.class;
        Check.fails(iae, "Given groups=1, weight of size [32, 1, 3, 3], expected input[64, 3, 28, 28] to have 1 channels, but got 3"
                + " channels instead", () -> ConvKernels.conv2d(Tensor.zeros(64, 3, 28, 28), Tensor.zeros(32, 1, 3, 3), null, one, zero, one, 1));
        Check.fails(iae, "Given groups=1, weight of size [32, 1, 3, 3], expected input[1, 3, 28, 28] to have 1 channels, but got 3"
                + " channels instead", () -> ConvKernels.conv2d(Tensor.zeros(3, 28, 28), Tensor.zeros(32, 1, 3, 3), null, one, zero, one, 1));
        Check.fails(iae, "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [28, 28]",
                () -> ConvKernels.conv2d(Tensor.zeros(28, 28), Tensor.zeros(32, 1, 3, 3), null, one, zero, one, 1));
        Check.fails(iae, "Calculated padded input size per channel: (2 x 2). Kernel size: (3 x 3). Kernel size can't be greater"
                + " than actual input size", () -> ConvKernels.conv2d(Tensor.zeros(1, 1, 2, 2), Tensor.zeros(1, 1, 3, 3), null, one, zero, one, 1));
        Check.fails(iae, "Given groups=3, expected weight to be divisible by 3 at dimension 0, but got weight of size [[4, 2, 3, 3]]"
                + " instead", () -> ConvKernels.conv2d(Tensor.zeros(2, 4, 5, 5), Tensor.zeros(4, 2, 3, 3), null, one, zero, one, 3));
        Check.fails(iae, "Given groups=1, expected weight to be at least 1 at dimension 0, but got weight of size [0, 4, 3, 3] instead",
                () -> ConvKernels.conv2d(Tensor.zeros(2, 4, 5, 5), Tensor.zeros(0, 4, 3, 3), null, one, zero, one, 1));
        Check.fails(iae, "non-positive groups is not supported",
                () -> ConvKernels.conv2d(Tensor.zeros(2, 4, 5, 5), Tensor.zeros(4, 4, 3, 3), null, one, zero, one, 0));
        Check.fails(iae, "Given weight of size [4, 4, 3, 3], expected bias to be 1-dimensional with 4 elements, but got bias of size"
                + " [3] instead", () -> ConvKernels.conv2d(Tensor.zeros(2, 4, 5, 5), Tensor.zeros(4, 4, 3, 3), Tensor.zeros(3), one, zero, one, 1));
        Check.fails(iae, "non-positive stride is not supported",
                () -> ConvKernels.conv2d(Tensor.zeros(2, 4, 5, 5), Tensor.zeros(4, 4, 3, 3), null, zero, zero, one, 1));
        Check.fails(iae, "negative padding is not supported",
                () -> ConvKernels.conv2d(Tensor.zeros(2, 4, 5, 5), Tensor.zeros(4, 4, 3, 3), null, one, new int[] {-1}, one, 1));
        Check.fails(iae, "non-positive dilation is not supported",
                () -> ConvKernels.conv2d(Tensor.zeros(2, 4, 5, 5), Tensor.zeros(4, 4, 3, 3), null, one, zero, zero, 1));
        Check.fails(iae, "expected stride to be a single integer value or a list of 2 values to match the convolution dimensions,"
                + " but got stride=[1, 1, 1]", () -> ConvKernels.conv2d(Tensor.zeros(2, 4, 5, 5), Tensor.zeros(4, 4, 3, 3), null,
                new int[] {1, 1, 1}, zero, one, 1));
        Check.fails(iae, "expected stride to be a single integer value or a list of 1 values to match the convolution dimensions,"
                + " but got stride=[1, 1]", () -> ConvKernels.conv2d(Tensor.zeros(2, 4, 5, 5), Tensor.zeros(4, 4, 3), null, one, zero, one, 1));
        Check.fails(iae, "kernel size should be greater than zero, but got kernel_height: 0 kernel_width: 3",
                () -> ConvKernels.conv2d(Tensor.zeros(2, 4, 5, 5), Tensor.zeros(4, 4, 0, 3), null, one, zero, one, 1));
        Check.fails(iae, "expected scalar type Double but found Float",
                () -> ConvKernels.conv2d(Tensor.zeros(DType.FLOAT64, 2, 4, 5, 5), Tensor.zeros(4, 4, 3, 3), null, one, zero, one, 1));
        Check.fails(iae, "Input type (torch.FloatTensor) and weight type (torch.DoubleTensor) should be the same or input should be"
                + " a MKLDNN tensor and weight is a dense tensor",
                () -> ConvKernels.conv2d(Tensor.zeros(2, 4, 5, 5), Tensor.zeros(DType.FLOAT64, 4, 4, 3, 3), null, one, zero, one, 1));
        Check.fails(iae, "Input type (float) and bias type (double) should be the same", () -> ConvKernels.conv2d(
                Tensor.zeros(2, 4, 5, 5), Tensor.zeros(4, 4, 3, 3), Tensor.zeros(DType.FLOAT64, 4), one, zero, one, 1));
        Check.fails(iae, "\"slow_conv2d_cpu\" not implemented for 'Half'", () -> ConvKernels.conv2d(
                Tensor.zeros(DType.FLOAT16, 2, 4, 5, 5), Tensor.zeros(DType.FLOAT16, 4, 4, 3, 3), null, one, zero, one, 1));
        Check.fails(iae, "Expected grad_output of size [2, 4, 3, 3] for conv2d, but got grad_output of size [2, 4, 4, 3]",
                () -> ConvKernels.conv2dBackwardInput(Tensor.zeros(2, 4, 4, 3), Tensor.zeros(4, 4, 3, 3), new long[] {2, 4, 5, 5},
                        one, zero, one, 1));
        Tensor closed = Tensor.zeros(1, 1, 3, 3);
        closed.close();
        assertThrows(IllegalStateException.class, () -> ConvKernels.conv2d(closed, Tensor.zeros(1, 1, 1, 1), null, one, zero, one, 1));
    }
}
