package dev.ember.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ember.tensor.ConvKernelsTest.Check;
import dev.ember.tensor.TestTensors.Domain;
import dev.ember.tensor.TestTensors.Layout;
import dev.ember.tensor.TestTensors.Rng;
import dev.ember.tensor.TestTensors.TT;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * max, average and adaptive average pooling and their gradients against plain float64 loops
 * written from PyTorch's definitions (window bounds, ceil mode, padding counted or not, NaN
 * propagation, flat argmax indices), on random configurations and layouts, in float32 and
 * float64; the gradients also against central differences; and PyTorch's messages.
 */
@ExtendWith(TestTensors.Scoped.class)
class PoolKernelsTest {
    private static final DType[] TYPES = {DType.FLOAT32, DType.FLOAT64};

    /** One random fixed-window pooling: input shape and parameters. */
    record Pool(long[] input, int[] k, int[] s, int[] p, int[] d, boolean ceil, boolean includePad) {
        int h() { return (int) input[input.length - 2]; }

        int w() { return (int) input[input.length - 1]; }

        long planes() { return input.length == 4 ? input[0] * input[1] : input[0]; }

        /** PyTorch's pooling_output_shape, written out again. */
        static long outSize(long in, int k, int s, int p, int d, boolean ceil) {
            long span = in + 2L * p - (long) d * (k - 1) - 1;
            long out = (ceil ? Math.floorDiv(span + s - 1, s) : Math.floorDiv(span, s)) + 1;
            if (ceil && (out - 1) * s >= in + p) out--;
            return out;
        }

        long outH() { return outSize(h(), k[0], s[0], p[0], d[0], ceil); }

        long outW() { return outSize(w(), k[1], s[1], p[1], d[1], ceil); }

        long[] output() {
            long[] o = input.clone();
            o[o.length - 2] = outH();
            o[o.length - 1] = outW();
            return o;
        }

        static Pool random(Rng r, boolean dilated) {
            while (true) {
                int[] k = {r.nextInt(1, 4), r.nextInt(1, 4)};
                int[] s = {r.nextInt(1, 3), r.nextInt(1, 3)};
                int[] p = {r.nextInt(0, k[0] / 2), r.nextInt(0, k[1] / 2)};
                int[] d = dilated ? new int[] {r.nextInt(1, 2), r.nextInt(1, 2)} : new int[] {1, 1};
                long c = r.nextInt(1, 5), h = r.nextInt(1, 9), w = r.nextInt(1, 9);
                long[] in = r.chance(0.2) ? new long[] {c, h, w} : new long[] {r.chance(0.05) ? 0 : r.nextInt(1, 3), c, h, w};
                Pool pool = new Pool(in, k, s, p, d, r.nextBoolean(), r.nextBoolean());
                if (pool.outH() >= 1 && pool.outW() >= 1) return pool;
            }
        }

        @Override
        public String toString() {
            return "pool(input " + Arrays.toString(input) + ", kernel " + Arrays.toString(k) + ", stride " + Arrays.toString(s)
                    + ", padding " + Arrays.toString(p) + ", dilation " + Arrays.toString(d) + ", ceil " + ceil
                    + ", countIncludePad " + includePad + ")";
        }
    }

    /** Reference max pooling: values and flat indices, scanning each window row by row, replacing on greater or NaN. */
    private static double[][] maxReference(Pool q, double[] x) {
        int h = q.h(), w = q.w(), oh = (int) q.outH(), ow = (int) q.outW();
        double[] y = new double[(int) (q.planes() * oh * ow)], idx = new double[y.length];
        for (int pl = 0; pl < q.planes(); pl++) {
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    int h0 = i * q.s[0] - q.p[0], w0 = j * q.s[1] - q.p[1];
                    int h1 = Math.min(h0 + (q.k[0] - 1) * q.d[0] + 1, h), w1 = Math.min(w0 + (q.k[1] - 1) * q.d[1] + 1, w);
                    while (h0 < 0) h0 += q.d[0];
                    while (w0 < 0) w0 += q.d[1];
                    double max = Double.NEGATIVE_INFINITY;
                    int best = h0 * w + w0;
                    for (int a = h0; a < h1; a += q.d[0]) {
                        for (int b = w0; b < w1; b += q.d[1]) {
                            double v = x[pl * h * w + a * w + b];
                            if (v > max || Double.isNaN(v)) {
                                max = v;
                                best = a * w + b;
                            }
                        }
                    }
                    y[(pl * oh + i) * ow + j] = max;
                    idx[(pl * oh + i) * ow + j] = best;
                }
            }
        }
        return new double[][] {y, idx};
    }

    /** Reference average pooling, with each output's divisor. */
    private static double[][] avgReference(Pool q, double[] x) {
        int h = q.h(), w = q.w(), oh = (int) q.outH(), ow = (int) q.outW();
        double[] y = new double[(int) (q.planes() * oh * ow)], div = new double[y.length];
        for (int pl = 0; pl < q.planes(); pl++) {
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    int h0 = i * q.s[0] - q.p[0], w0 = j * q.s[1] - q.p[1];
                    int h1 = Math.min(h0 + q.k[0], h + q.p[0]), w1 = Math.min(w0 + q.k[1], w + q.p[1]);
                    int padded = (h1 - h0) * (w1 - w0);
                    h0 = Math.max(h0, 0);
                    w0 = Math.max(w0, 0);
                    h1 = Math.min(h1, h);
                    w1 = Math.min(w1, w);
                    double sum = 0;
                    for (int a = h0; a < h1; a++) for (int b = w0; b < w1; b++) sum += x[pl * h * w + a * w + b];
                    int at = (pl * oh + i) * ow + j;
                    div[at] = q.includePad ? padded : (h1 - h0) * (w1 - w0);
                    y[at] = h0 >= h1 || w0 >= w1 ? 0 : sum / div[at];
                }
            }
        }
        return new double[][] {y, div};
    }

    /** Reference adaptive average pooling to oh × ow. */
    private static double[] adaptiveReference(long[] shape, int oh, int ow, double[] x) {
        int r = shape.length, h = (int) shape[r - 2], w = (int) shape[r - 1];
        long planes = r == 4 ? shape[0] * shape[1] : shape[0];
        double[] y = new double[(int) (planes * oh * ow)];
        for (int pl = 0; pl < planes; pl++) {
            for (int i = 0; i < oh; i++) {
                int h0 = (int) Math.floor((double) i * h / oh), h1 = (int) Math.ceil((double) (i + 1) * h / oh);
                for (int j = 0; j < ow; j++) {
                    int w0 = (int) Math.floor((double) j * w / ow), w1 = (int) Math.ceil((double) (j + 1) * w / ow);
                    double sum = 0;
                    for (int a = h0; a < h1; a++) for (int b = w0; b < w1; b++) sum += x[pl * h * w + a * w + b];
                    y[(pl * oh + i) * ow + j] = sum / ((h1 - h0) * (w1 - w0));
                }
            }
        }
        return y;
    }

    /** Exact comparison (NaN matches NaN), for max pooling's values and indices. */
    private static void exact(String ctx, double[] expected, double[] got) {
        assertEquals(expected.length, got.length, ctx + ": numel");
        for (int i = 0; i < got.length; i++) {
            if (!(Double.isNaN(expected[i]) && Double.isNaN(got[i])) && Double.compare(expected[i], got[i]) != 0) {
                fail(ctx + ": element " + i + " expected " + expected[i] + " but got " + got[i]);
            }
        }
    }

    /** Values with ties, zeros of both signs, NaN and ±inf now and then, as real activations have. */
    private static final Domain TRICKY = Domain.of(-1, -0.5, 0, -0.0, 0.5, 1, 2, Double.NaN, Double.NEGATIVE_INFINITY,
            Double.POSITIVE_INFINITY, 0.25, -2, 3, 0.75, -0.25, 1.5);

    @Test
    void maxPoolMatchesScan() {
        for (int trial = 0; trial < 300; trial++) {
            Rng r = Rng.fresh();
            Pool q = trial % 4 == 0 ? pairs(r) : Pool.random(r, true);
            DType t = r.pick(TYPES);
            Domain domain = r.chance(0.3) ? TRICKY : Domain.plain(-1, 1);
            TT x = TestTensors.random(r, t, q.input, r.pick(Layout.values()), domain);
            String ctx = q + " " + x + ", " + r;
            int[] stride = r.chance(0.2) && Arrays.equals(q.s, q.k) ? null : q.s;
            PoolKernels.PoolResult got = PoolKernels.maxPool2d(x.t(), q.k, stride, q.p, q.d, q.ceil);
            double[][] ref = maxReference(q, x.values());
            assertArrayEquals(q.output(), got.output().shape(), ctx + ": shape");
            assertEquals(DType.INT64, got.indices().dtype(), ctx + ": indices dtype");
            exact(ctx + ": values", ref[0], got.output().toDoubleArray());
            exact(ctx + ": indices", ref[1], Arrays.stream(got.indices().toLongArray()).asDoubleStream().toArray());
        }
    }

    /** The 2×2, stride-2 fast path: even and odd sizes (odd ones drop the last row or column, or in ceil mode take the general path). */
    private static Pool pairs(Rng r) {
        long[] in = {r.nextInt(1, 3), r.nextInt(1, 4), r.nextInt(2, 20), r.nextInt(2, 37)};
        return new Pool(in, new int[] {2, 2}, new int[] {2, 2}, new int[] {0, 0}, new int[] {1, 1}, r.chance(0.2), false);
    }

    /**
     * The float32 2×2, stride-2 fast path on enough planes that its vectors, not its scalar loop
     * for the segment's last planes, do most of the work: rows of 1 to 20 outputs (two rows to a
     * vector, one, or more than one vector to a row), odd sizes, ties, NaN and ±inf; values and
     * indices exactly as the float64 reference and as the general path (which float64 takes).
     */
    @Test
    void maxPool2x2MatchesScanOnManyPlanes() {
        Domain ties = Domain.of(-1, 0, 1, 2, Double.NEGATIVE_INFINITY);
        for (int trial = 0; trial < 120; trial++) {
            Rng r = Rng.fresh();
            long[] in = {r.nextInt(1, 4), r.nextInt(1, 24), r.nextInt(2, 21), r.nextInt(2, 41)};
            if (r.chance(0.2)) in[2] = in[3] = r.pick(new Long[] {28L, 14L, 7L});
            Pool q = new Pool(in, new int[] {2, 2}, new int[] {2, 2}, new int[] {0, 0}, new int[] {1, 1}, false, false);
            Domain domain = r.pick(new Domain[] {TRICKY, ties, Domain.plain(-1, 1)});
            TT x = TestTensors.random(r, DType.FLOAT32, in, r.pick(Layout.values()), domain);
            String ctx = q + " " + x + ", " + r;
            PoolKernels.PoolResult got = PoolKernels.maxPool2d(x.t(), q.k, null, q.p, q.d, false);
            double[][] ref = maxReference(q, x.values());
            exact(ctx + ": values", ref[0], got.output().toDoubleArray());
            exact(ctx + ": indices", ref[1], Arrays.stream(got.indices().toLongArray()).asDoubleStream().toArray());
            PoolKernels.PoolResult general = PoolKernels.maxPool2d(Tensor.fromArray(x.values(), in), q.k, null, q.p, q.d, false);
            exact(ctx + ": values as float64", general.output().toDoubleArray(), got.output().toDoubleArray());
            assertArrayEquals(general.indices().toLongArray(), got.indices().toLongArray(), ctx + ": indices as float64");
        }
    }

    /**
     * Every window of values from {1, 2, NaN, −inf} in every order (256 windows: ties, NaN in any
     * tap, all −inf), in planes of several widths and in enough of them for the vector path: the
     * fast path's pairwise fold must pick the tap the row-by-row scan picks.
     */
    @Test
    void maxPool2x2FoldsEveryTapPatternAsTheScan() {
        double[] v = {1, 2, Double.NaN, Double.NEGATIVE_INFINITY};
        for (int outW : new int[] {1, 3, 7, 8, 9, 16, 17, 20}) {
            int outH = (256 + outW - 1) / outW, h = 2 * outH + 1, w = 2 * outW + (outW % 2); // odd sizes drop a row (a column)
            long[] in = {2, 5, h, w};
            double[] x = new double[(int) (10L * h * w)];
            for (int p = 0; p < 10; p++) {
                for (int o = 0; o < outH * outW; o++) {
                    int pattern = (o + 37 * p) % 256, top = p * h * w + (o / outW) * 2 * w + (o % outW) * 2;
                    x[top] = v[pattern & 3];
                    x[top + 1] = v[pattern >> 2 & 3];
                    x[top + w] = v[pattern >> 4 & 3];
                    x[top + w + 1] = v[pattern >> 6];
                }
            }
            Pool q = new Pool(in, new int[] {2, 2}, new int[] {2, 2}, new int[] {0, 0}, new int[] {1, 1}, false, false);
            float[] f = new float[x.length];
            for (int i = 0; i < x.length; i++) f[i] = (float) x[i];
            PoolKernels.PoolResult got = PoolKernels.maxPool2d(Tensor.fromArray(f, in), q.k, null, q.p, q.d, false);
            double[][] ref = maxReference(q, x);
            exact(q + ": values", ref[0], got.output().toDoubleArray());
            exact(q + ": indices", ref[1], Arrays.stream(got.indices().toLongArray()).asDoubleStream().toArray());
        }
    }

    @Test
    void maxPoolBackwardScattersToIndices() {
        for (int trial = 0; trial < 150; trial++) {
            Rng r = Rng.fresh();
            Pool q = trial % 4 == 0 ? pairs(r) : Pool.random(r, true);
            DType t = r.pick(TYPES);
            TT x = Check.random(r, t, q.input);
            TT g = Check.random(r, t, q.output());
            String ctx = q + " " + t + ", " + r;
            PoolKernels.PoolResult y = PoolKernels.maxPool2d(x.t(), q.k, q.s, q.p, q.d, q.ceil);
            long[] idx = y.indices().toLongArray();
            double[] expected = new double[x.values().length], scale = new double[expected.length];
            int inPlane = q.h() * q.w(), outPlane = (int) (q.outH() * q.outW());
            for (int i = 0; i < idx.length; i++) {
                if (idx[i] >= inPlane) continue; // a window with no input (all taps in the padding) passes no gradient
                int at = (i / outPlane) * inPlane + (int) idx[i];
                expected[at] += g.values()[i];
                scale[at] += Math.abs(g.values()[i]);
            }
            Check.close(ctx, t, expected, scale, PoolKernels.maxPool2dBackward(g.t(), y.indices(), q.input));
        }
    }

    @Test
    void avgPoolMatchesLoops() {
        for (int trial = 0; trial < 300; trial++) {
            Rng r = Rng.fresh();
            Pool q = Pool.random(r, false);
            DType t = r.pick(TYPES);
            TT x = Check.random(r, t, q.input);
            String ctx = q + " " + x + ", " + r;
            int[] stride = r.chance(0.2) && Arrays.equals(q.s, q.k) ? null : q.s;
            Tensor y = PoolKernels.avgPool2d(x.t(), q.k, stride, q.p, q.ceil, q.includePad);
            assertArrayEquals(q.output(), y.shape(), ctx + ": shape");
            double[][] ref = avgReference(q, x.values());
            double[] scale = new double[ref[0].length];
            Arrays.fill(scale, 1);
            Check.close(ctx, t, ref[0], scale, y);
        }
    }

    @Test
    void adaptiveAvgPoolMatchesLoops() {
        for (int trial = 0; trial < 200; trial++) {
            Rng r = Rng.fresh();
            long c = r.nextInt(1, 4), h = r.nextInt(1, 12), w = r.nextInt(1, 12);
            long[] shape = r.chance(0.2) ? new long[] {c, h, w} : new long[] {r.nextInt(0, 3), c, h, w};
            int oh = r.nextInt(1, 14), ow = r.nextInt(1, 14);
            DType t = r.pick(TYPES);
            TT x = Check.random(r, t, shape);
            String ctx = "adaptive_avg_pool2d(" + x + ", [" + oh + ", " + ow + "]), " + r;
            Tensor y = PoolKernels.adaptiveAvgPool2d(x.t(), new int[] {oh, ow});
            long[] out = shape.clone();
            out[out.length - 2] = oh;
            out[out.length - 1] = ow;
            assertArrayEquals(out, y.shape(), ctx + ": shape");
            double[] scale = new double[(int) TestTensors.numel(out)];
            Arrays.fill(scale, 1);
            Check.close(ctx, t, adaptiveReference(shape, oh, ow, x.values()), scale, y);
        }
    }

    @Test
    void averageGradientsMatchCentralDifferencesAndLoops() {
        for (int trial = 0; trial < 100; trial++) {
            Rng r = Rng.fresh();
            Pool q = Pool.random(r, false);
            if (q.planes() == 0) continue;
            double[] x = Check.values(r, q.input), v = Check.values(r, q.input), g = Check.values(r, q.output());
            String ctx = q + ", " + r;
            Tensor gt = Tensor.fromArray(g, q.output());
            Tensor dx = PoolKernels.avgPool2dBackward(gt, q.input, q.k, q.s, q.p, q.ceil, q.includePad);
            assertArrayEquals(q.input, dx.shape(), ctx + ": shape");
            Check.directional(ctx, s -> PoolKernels.avgPool2d(Check.shifted(x, s, v, q.input), q.k, q.s, q.p, q.ceil, q.includePad)
                    .toDoubleArray(), g, dx.toDoubleArray(), v);
            // and against the adjoint of the reference loops: each output spreads g / divisor over its window
            double[] expected = spread(q, g);
            double[] scale = new double[expected.length];
            Arrays.fill(scale, 1);
            Check.close(ctx, DType.FLOAT64, expected, scale, dx);

            long[] shape = q.input;
            int oh = r.nextInt(1, 12), ow = r.nextInt(1, 12);
            long[] out = shape.clone();
            out[out.length - 2] = oh;
            out[out.length - 1] = ow;
            double[] ga = Check.values(r, out);
            Tensor da = PoolKernels.adaptiveAvgPool2dBackward(Tensor.fromArray(ga, out), shape);
            Check.directional(ctx + " adaptive to " + oh + "x" + ow, s -> PoolKernels.adaptiveAvgPool2d(
                    Check.shifted(x, s, v, shape), new int[] {oh, ow}).toDoubleArray(), ga, da.toDoubleArray(), v);
        }
    }

    /** The adjoint of average pooling by loops: dx over each window += g / divisor. */
    private static double[] spread(Pool q, double[] g) {
        int h = q.h(), w = q.w(), oh = (int) q.outH(), ow = (int) q.outW();
        double[] dx = new double[(int) (q.planes() * h * w)];
        double[][] ref = avgReference(q, new double[dx.length]);
        for (int pl = 0; pl < q.planes(); pl++) {
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    int at = (pl * oh + i) * ow + j;
                    int h0 = Math.max(i * q.s[0] - q.p[0], 0), w0 = Math.max(j * q.s[1] - q.p[1], 0);
                    int h1 = Math.min(i * q.s[0] - q.p[0] + q.k[0], h), w1 = Math.min(j * q.s[1] - q.p[1] + q.k[1], w);
                    for (int a = h0; a < h1; a++) for (int b = w0; b < w1; b++) dx[pl * h * w + a * w + b] += g[at] / ref[1][at];
                }
            }
        }
        return dx;
    }

    @Test
    void maxGradientMatchesCentralDifferences() {
        for (int trial = 0; trial < 100; trial++) {
            Rng r = Rng.fresh();
            Pool q = Pool.random(r, true);
            if (q.planes() == 0) continue;
            double[] x = separated(r, q.input), v = Check.values(r, q.input), g = Check.values(r, q.output());
            String ctx = q + ", " + r;
            PoolKernels.PoolResult y = PoolKernels.maxPool2d(Tensor.fromArray(x, q.input), q.k, q.s, q.p, q.d, q.ceil);
            double[] out = y.output().toDoubleArray();
            for (int i = 0; i < g.length; i++) if (out[i] == Double.NEGATIVE_INFINITY) g[i] = 0; // a window with no input
            double[] dx = PoolKernels.maxPool2dBackward(Tensor.fromArray(g, q.output()), y.indices(), q.input).toDoubleArray();
            Check.directional(ctx, s -> PoolKernels.maxPool2d(Check.shifted(x, s, v, q.input), q.k, q.s, q.p, q.d, q.ceil)
                    .output().toDoubleArray(), g, dx, v);
        }
    }

    /**
     * Distinct values in [-1, 1], at least 2/n apart: a finite difference of max pooling is only
     * the derivative where no two taps of a window come within the step (2e-6) of each other.
     */
    private static double[] separated(Rng r, long... shape) {
        int n = Math.toIntExact(TestTensors.numel(shape));
        int[] rank = r.permutation(n);
        double[] x = new double[n];
        for (int i = 0; i < n; i++) x[i] = -1 + 2 * (rank[i] + 0.5) / n;
        return x;
    }

    @Test
    void zeroBatch() {
        int[] two = {2}, zero = {0}, one = {1};
        PoolKernels.PoolResult m = PoolKernels.maxPool2d(Tensor.zeros(0, 3, 4, 4), two, null, zero, one, false);
        assertArrayEquals(new long[] {0, 3, 2, 2}, m.output().shape());
        assertArrayEquals(new long[] {0, 3, 2, 2}, m.indices().shape());
        assertArrayEquals(new long[] {0, 3, 4, 4}, PoolKernels.maxPool2dBackward(m.output(), m.indices(), new long[] {0, 3, 4, 4}).shape());
        assertArrayEquals(new long[] {0, 3, 2, 2}, PoolKernels.avgPool2d(Tensor.zeros(0, 3, 4, 4), two, null, zero, false, true).shape());
        assertArrayEquals(new long[] {0, 2, 3, 3}, PoolKernels.adaptiveAvgPool2d(Tensor.zeros(0, 2, 5, 5), new int[] {3, 3}).shape());
        assertArrayEquals(new long[] {1, 1, 0, 2}, PoolKernels.adaptiveAvgPool2d(Tensor.zeros(1, 1, 5, 5), new int[] {0, 2}).shape());
    }

    @Test
    void badArgumentsGivePyTorchMessages() {
        int[] two = {2}, zero = {0}, one = {1};
        Class<IllegalArgumentException> iae = IllegalArgumentException.class;
        Check.fails(iae, "non-empty 3D or 4D (batch mode) tensor expected for input",
                () -> PoolKernels.maxPool2d(Tensor.zeros(5, 5), two, null, zero, one, false));
        Check.fails(iae, "Given input size: (3x2x2). Calculated output size: (3x0x0). Output size is too small",
                () -> PoolKernels.maxPool2d(Tensor.zeros(1, 3, 2, 2), new int[] {3}, null, zero, one, false));
        Check.fails(iae, "Given input size: (3x2x2). Calculated output size: (3x0x0). Output size is too small",
                () -> PoolKernels.avgPool2d(Tensor.zeros(3, 2, 2), new int[] {3}, null, zero, false, true));
        Check.fails(iae, "stride should not be zero", () -> PoolKernels.maxPool2d(Tensor.zeros(1, 1, 5, 5), zero, null, zero, one, false));
        Check.fails(iae, "kernel size should be greater than zero, but got kH: -1 kW: -1",
                () -> PoolKernels.maxPool2d(Tensor.zeros(1, 1, 4, 4), new int[] {-1}, null, zero, one, false));
        Check.fails(iae, "stride should be greater than zero, but got dH: -1 dW: -1",
                () -> PoolKernels.avgPool2d(Tensor.zeros(1, 1, 4, 4), two, new int[] {-1}, zero, false, true));
        Check.fails(iae, "dilation should be greater than zero, but got dilationH: 0 dilationW: 0",
                () -> PoolKernels.maxPool2d(Tensor.zeros(1, 1, 5, 5), two, null, zero, zero, false));
        Check.fails(iae, "pad should be at most half of kernel size, but got pad=2 and kernel_size=2",
                () -> PoolKernels.maxPool2d(Tensor.zeros(1, 1, 5, 5), two, null, two, one, false));
        Check.fails(iae, "pad must be non-negative, but got pad: -1",
                () -> PoolKernels.avgPool2d(Tensor.zeros(1, 1, 5, 5), two, null, new int[] {-1}, false, true));
        Check.fails(iae, "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:[2, 0, 4, 4]",
                () -> PoolKernels.maxPool2d(Tensor.zeros(2, 0, 4, 4), two, null, zero, one, false));
        Check.fails(iae, "max_pool2d: kernel_size must either be a single int, or a tuple of two ints",
                () -> PoolKernels.maxPool2d(Tensor.zeros(1, 1, 5, 5), new int[] {2, 2, 2}, null, zero, one, false));
        Check.fails(iae, "avg_pool2d: kernel_size must either be a single int, or a tuple of two ints",
                () -> PoolKernels.avgPool2d(Tensor.zeros(1, 1, 5, 5), new int[] {2, 2, 2}, null, zero, false, true));
        Check.fails(IndexOutOfBoundsException.class, "Dimension out of range (expected to be in range of [-2, 1], but got -3)",
                () -> PoolKernels.avgPool2d(Tensor.zeros(5, 5), two, null, zero, false, true));
        Check.fails(iae, "\"max_pool2d\" not implemented for 'Long'",
                () -> PoolKernels.maxPool2d(Tensor.zeros(DType.INT64, 1, 1, 4, 4), two, null, zero, one, false));
        Check.fails(iae, "adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got [5, 5]",
                () -> PoolKernels.adaptiveAvgPool2d(Tensor.zeros(5, 5), two));
        Check.fails(iae, "adaptive_avg_pool2d: output_size must be 2",
                () -> PoolKernels.adaptiveAvgPool2d(Tensor.zeros(1, 1, 5, 5), new int[] {2, 2, 2}));
        Check.fails(iae, "adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but received {-1, 2}",
                () -> PoolKernels.adaptiveAvgPool2d(Tensor.zeros(1, 1, 5, 5), new int[] {-1, 2}));
        Check.fails(iae, "adaptive_avg_pool2d(): Expected input to have non-zero size for non-batch dimensions, but input has sizes"
                + " [1, 2, 0, 5] with dimension 2 being empty", () -> PoolKernels.adaptiveAvgPool2d(Tensor.zeros(1, 2, 0, 5), two));
        Check.fails(iae, "Expected a tensor of dimension 4 and tensor.size[2] == 2 but got: dimension 4 and tensor.size[2] = 3",
                () -> PoolKernels.avgPool2dBackward(Tensor.zeros(1, 1, 3, 2), new long[] {1, 1, 5, 5}, two, null, zero, false, true));
        PoolKernels.PoolResult m = PoolKernels.maxPool2d(Tensor.zeros(1, 1, 5, 5), two, null, zero, one, false);
        Check.fails(iae, "Expected a tensor of dimension 4 and tensor.size[2] == 2 but got: dimension 4 and tensor.size[2] = 3",
                () -> PoolKernels.maxPool2dBackward(Tensor.zeros(1, 1, 3, 2), m.indices(), new long[] {1, 1, 5, 5}));
        // an index outside its plane passes no gradient, and never writes into another plane
        Tensor bad = Tensor.fromArray(new long[] {0, 1, 24, 99, -1, 3, 25, 0}, 2, 1, 2, 2);
        float[] expected = new float[50];
        expected[0] = expected[1] = expected[24] = expected[25] = expected[28] = 1;
        assertArrayEquals(expected, PoolKernels.maxPool2dBackward(Tensor.ones(2, 1, 2, 2), bad, new long[] {2, 1, 5, 5}).toFloatArray());
    }

    @Test
    void nanPropagatesAndAllMinusInfinityKeepsTheFirstTap() {
        float nan = Float.NaN, inf = Float.NEGATIVE_INFINITY;
        int[] two = {2}, one = {1};
        PoolKernels.PoolResult r = PoolKernels.maxPool2d(Tensor.fromArray(new float[] {1, nan, nan, 2}, 1, 1, 2, 2), two, null,
                new int[] {0}, one, false);
        assertEquals(Double.NaN, r.output().item());
        assertEquals(2, r.indices().itemLong());
        float[] ninf = new float[9];
        Arrays.fill(ninf, inf);
        PoolKernels.PoolResult p = PoolKernels.maxPool2d(Tensor.fromArray(ninf, 1, 1, 3, 3), two, null, one, one, false);
        assertArrayEquals(new long[] {0, 1, 3, 4}, p.indices().toLongArray());
    }
}
