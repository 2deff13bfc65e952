package dev.ember.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ember.tensor.ConvKernelsTest.Check;
import dev.ember.tensor.TestTensors.Rng;
import dev.ember.tensor.TestTensors.TT;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Batch normalisation in training and evaluation mode and its training-mode gradients, against
 * float64 loops over [N, C], [N, C, L] and [N, C, H, W] inputs in random layouts, with and
 * without affine parameters and running statistics, in float32 and float64; the gradients also
 * against central differences; accuracy with a large mean; and PyTorch's messages.
 */
@ExtendWith(TestTensors.Scoped.class)
class BatchNormKernelsTest {
    private static final DType[] TYPES = {DType.FLOAT32, DType.FLOAT64};
    private static final double EPS = 1e-5;

    /** A random [N, C, ...] shape of rank 2 to 4 with more than one value per channel. */
    static long[] shape(Rng r) {
        while (true) {
            long[] s = new long[r.nextInt(2, 4)];
            s[0] = r.nextInt(1, 5);
            s[1] = r.nextInt(1, 6);
            for (int d = 2; d < s.length; d++) s[d] = r.nextInt(1, 7);
            if (TestTensors.numel(s) / s[1] > 1) return s;
        }
    }

    /**
     * Per-channel statistics of x (row-major values of shape): {mean, biased var}. The mean is
     * taken relative to the channel's first value, so a constant channel (an expanded input) has
     * exactly its value as mean and zero variance, as it must: its x̂ is then exactly 0 rather
     * than rounding noise amplified by 1/sqrt(eps).
     */
    private static double[][] stats(long[] shape, double[] x) {
        int c = (int) shape[1];
        long inner = TestTensors.numel(shape) / shape[0] / c, m = shape[0] * inner;
        double[] mean = new double[c], var = new double[c], first = new double[c];
        for (int i = x.length - 1; i >= 0; i--) first[channel(i, shape)] = x[i];
        for (int i = 0; i < x.length; i++) mean[channel(i, shape)] += (x[i] - first[channel(i, shape)]) / m;
        for (int ch = 0; ch < c; ch++) mean[ch] += first[ch];
        for (int i = 0; i < x.length; i++) var[channel(i, shape)] += (x[i] - mean[channel(i, shape)]) * (x[i] - mean[channel(i, shape)]) / m;
        return new double[][] {mean, var};
    }

    private static int channel(int flat, long[] shape) {
        long inner = TestTensors.numel(shape) / shape[0] / shape[1];
        return (int) (flat / inner % shape[1]);
    }

    private static double[] ones(int c) {
        double[] v = new double[c];
        Arrays.fill(v, 1);
        return v;
    }

    @Test
    void trainingMatchesLoops() {
        for (int trial = 0; trial < 200; trial++) {
            Rng r = Rng.fresh();
            long[] shape = shape(r);
            int c = (int) shape[1];
            DType t = r.pick(TYPES);
            TT x = Check.random(r, t, shape);
            TT w = r.nextBoolean() ? Check.random(r, t, c) : null, b = r.nextBoolean() ? Check.random(r, t, c) : null;
            boolean running = r.nextBoolean();
            double momentum = r.nextDouble(0.05, 0.5);
            double[] rm0 = Check.values(r, c), rv0 = new double[c];
            for (int i = 0; i < c; i++) rv0[i] = r.nextDouble(0.5, 2);
            Tensor rm = running ? Check.tensor(t, rm0, c) : null, rv = running ? Check.tensor(t, rv0, c) : null;
            String ctx = "batch_norm(" + x + (w != null ? ", weight" : "") + (b != null ? ", bias" : "")
                    + (running ? ", running stats" : "") + "), " + r;
            BatchNormKernels.BatchNormResult got = BatchNormKernels.batchNormTraining(x.t(), w == null ? null : w.t(),
                    b == null ? null : b.t(), rm, rv, momentum, EPS);
            double[][] st = stats(shape, x.values());
            double[] wv = w == null ? ones(c) : w.values(), bv = b == null ? new double[c] : b.values();
            double[] y = new double[x.values().length], scale = new double[y.length];
            for (int i = 0; i < y.length; i++) {
                int ch = channel(i, shape);
                double invstd = 1 / Math.sqrt(st[1][ch] + EPS);
                y[i] = (x.values()[i] - st[0][ch]) * invstd * wv[ch] + bv[ch];
                scale[i] = 1 + Math.abs(y[i]);
            }
            assertArrayEquals(shape, got.output().shape(), ctx);
            Check.close(ctx + ": output", t, y, scale, got.output());
            double[] invstd = new double[c], unit = ones(c);
            for (int ch = 0; ch < c; ch++) invstd[ch] = 1 / Math.sqrt(st[1][ch] + EPS);
            Check.close(ctx + ": save_mean", t, st[0], unit, got.saveMean());
            Check.close(ctx + ": save_invstd", t, invstd, invstd, got.saveInvstd());
            if (running) {
                long m = TestTensors.numel(shape) / c;
                double[] em = new double[c], ev = new double[c];
                for (int ch = 0; ch < c; ch++) {
                    em[ch] = (1 - momentum) * rm0[ch] + momentum * st[0][ch];
                    ev[ch] = (1 - momentum) * rv0[ch] + momentum * st[1][ch] * m / (m - 1);
                }
                Check.close(ctx + ": running_mean", t, em, unit, rm);
                Check.close(ctx + ": running_var", t, ev, ev, rv);
            }
        }
    }

    @Test
    void inferenceMatchesLoops() {
        for (int trial = 0; trial < 100; trial++) {
            Rng r = Rng.fresh();
            long[] shape = shape(r);
            int c = (int) shape[1];
            DType t = r.pick(TYPES);
            TT x = Check.random(r, t, shape), rm = Check.random(r, t, c);
            TT w = r.nextBoolean() ? Check.random(r, t, c) : null, b = r.nextBoolean() ? Check.random(r, t, c) : null;
            double[] rv0 = new double[c];
            for (int i = 0; i < c; i++) rv0[i] = r.nextDouble(0.5, 2);
            String ctx = "batch_norm eval(" + x + "), " + r;
            Tensor got = BatchNormKernels.batchNormInference(x.t(), w == null ? null : w.t(), b == null ? null : b.t(), rm.t(),
                    Check.tensor(t, rv0, c), EPS);
            double[] y = new double[x.values().length], scale = new double[y.length];
            for (int i = 0; i < y.length; i++) {
                int ch = channel(i, shape);
                y[i] = (x.values()[i] - rm.values()[ch]) / Math.sqrt(rv0[ch] + EPS) * (w == null ? 1 : w.values()[ch])
                        + (b == null ? 0 : b.values()[ch]);
                scale[i] = 1 + Math.abs(y[i]);
            }
            Check.close(ctx, t, y, scale, got);
        }
    }

    @Test
    void backwardMatchesLoopsAndCentralDifferences() {
        for (int trial = 0; trial < 150; trial++) {
            Rng r = Rng.fresh();
            long[] shape = shape(r);
            int c = (int) shape[1];
            DType t = r.pick(TYPES);
            TT x = Check.random(r, t, shape), g = Check.random(r, t, shape);
            TT w = r.nextBoolean() ? Check.random(r, t, c) : null;
            String ctx = "batch_norm backward(" + x + (w != null ? ", weight" : "") + "), " + r;
            BatchNormKernels.BatchNormResult fwd = BatchNormKernels.batchNormTraining(x.t(), w == null ? null : w.t(), null,
                    null, null, 0.1, EPS);
            BatchNormKernels.BatchNormGrads got = BatchNormKernels.batchNormBackward(g.t(), x.t(), w == null ? null : w.t(),
                    fwd.saveMean(), fwd.saveInvstd());
            // the loops: x̂ = (x − mean)·invstd, dβ = Σ g, dγ = Σ g·x̂, dx = γ·invstd·(g − dβ/M − x̂·dγ/M)
            double[][] st = stats(shape, x.values());
            double[] wv = w == null ? ones(c) : w.values(), gv = g.values();
            double m = TestTensors.numel(shape) / (double) c;
            double[] db = new double[c], dg = new double[c], sb = new double[c], sg = new double[c];
            double[] xhat = new double[gv.length];
            for (int i = 0; i < gv.length; i++) {
                int ch = channel(i, shape);
                xhat[i] = (x.values()[i] - st[0][ch]) / Math.sqrt(st[1][ch] + EPS);
                db[ch] += gv[i];
                dg[ch] += gv[i] * xhat[i];
                sb[ch] += Math.abs(gv[i]);
                sg[ch] += Math.abs(gv[i] * xhat[i]);
            }
            double[] dx = new double[gv.length], sx = new double[gv.length];
            for (int i = 0; i < gv.length; i++) {
                int ch = channel(i, shape);
                double k = wv[ch] / Math.sqrt(st[1][ch] + EPS);
                dx[i] = k * (gv[i] - db[ch] / m - xhat[i] * dg[ch] / m);
                sx[i] = Math.abs(k) * (Math.abs(gv[i]) + sb[ch] / m + Math.abs(xhat[i]) * sg[ch] / m);
            }
            Check.close(ctx + ": grad input", t, dx, sx, got.gradInput());
            Check.close(ctx + ": grad weight", t, dg, sg, got.gradWeight());
            Check.close(ctx + ": grad bias", t, db, sb, got.gradBias());
            if (t == DType.FLOAT64) centralDifferences(ctx, r, shape, x.values(), w == null ? null : w.values(), gv, got);
        }
    }

    /** The three gradients against central differences of the training forward pass along random directions. */
    private static void centralDifferences(String ctx, Rng r, long[] shape, double[] x, double[] w, double[] g,
            BatchNormKernels.BatchNormGrads got) {
        int c = (int) shape[1];
        double[] wv = w == null ? ones(c) : w, vx = Check.values(r, shape), vw = Check.values(r, c), vb = Check.values(r, c);
        Check.directional(ctx + ": input", s -> train(Check.shifted(x, s, vx, shape), Tensor.fromArray(wv), null), g,
                got.gradInput().toDoubleArray(), vx);
        Check.directional(ctx + ": weight", s -> train(Tensor.fromArray(x, shape), Check.shifted(wv, s, vw, c), null), g,
                got.gradWeight().toDoubleArray(), vw);
        Check.directional(ctx + ": bias", s -> train(Tensor.fromArray(x, shape), Tensor.fromArray(wv), Check.shifted(new double[c], s, vb, c)),
                g, got.gradBias().toDoubleArray(), vb);
    }

    private static double[] train(Tensor x, Tensor w, Tensor b) {
        return BatchNormKernels.batchNormTraining(x, w, b, null, null, 0.1, EPS).output().toDoubleArray();
    }

    /** Large batches with a mean far from zero: the statistics must not lose float32's precision. */
    @Test
    void largeMeanKeepsPrecision() {
        Rng r = Rng.fresh();
        long[] shape = {16, 3, 17, 19};
        double[] v = Check.values(r, shape);
        for (int i = 0; i < v.length; i++) v[i] = (float) (1000 + v[i]);
        Tensor x = Check.tensor(DType.FLOAT32, v, shape);
        BatchNormKernels.BatchNormResult got = BatchNormKernels.batchNormTraining(x, null, null, null, null, 0.1, EPS);
        double[][] st = stats(shape, v);
        double[] y = new double[v.length], scale = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            int ch = channel(i, shape);
            y[i] = (v[i] - st[0][ch]) / Math.sqrt(st[1][ch] + EPS);
            scale[i] = 1 + Math.abs(y[i]);
        }
        Check.close("large mean, " + r, DType.FLOAT32, y, scale, got.output());
    }

    @Test
    void emptyInputsLeaveRunningStatisticsAlone() {
        Tensor rm = Tensor.zeros(3), rv = Tensor.ones(3);
        BatchNormKernels.BatchNormResult got = BatchNormKernels.batchNormTraining(Tensor.zeros(0, 3), null, null, rm, rv, 0.1, EPS);
        assertArrayEquals(new long[] {0, 3}, got.output().shape());
        assertArrayEquals(new long[] {0}, got.saveMean().shape());
        assertArrayEquals(new float[] {0, 0, 0}, rm.toFloatArray());
        assertArrayEquals(new float[] {1, 1, 1}, rv.toFloatArray());
        BatchNormKernels.BatchNormGrads g = BatchNormKernels.batchNormBackward(Tensor.zeros(0, 3), Tensor.zeros(0, 3), null,
                got.saveMean(), got.saveInvstd());
        assertArrayEquals(new long[] {0, 3}, g.gradInput().shape());
        assertArrayEquals(new float[3], g.gradWeight().toFloatArray());
        assertArrayEquals(new long[] {4, 0}, BatchNormKernels.batchNormTraining(Tensor.zeros(4, 0), null, null, null, null, 0.1, EPS)
                .output().shape());
        assertEquals(0, BatchNormKernels.batchNormInference(Tensor.zeros(0, 3), null, null, null, null, EPS).numel());
    }

    @Test
    void badArgumentsGivePyTorchMessages() {
        Class<IllegalArgumentException> iae = IllegalArgumentException.class;
        Check.fails(iae, "Expected more than 1 value per channel when training, got input size [1, 3]",
                () -> BatchNormKernels.batchNormTraining(Tensor.zeros(1, 3), null, null, null, null, 0.1, EPS));
        Check.fails(iae, "Expected more than 1 value per channel when training, got input size [1, 3, 1, 1]",
                () -> BatchNormKernels.batchNormTraining(Tensor.zeros(1, 3, 1, 1), null, null, null, null, 0.1, EPS));
        Check.fails(IndexOutOfBoundsException.class, "Dimension out of range (expected to be in range of [-1, 0], but got 1)",
                () -> BatchNormKernels.batchNormTraining(Tensor.zeros(3), null, null, null, null, 0.1, EPS));
        Check.fails(iae, "weight should contain 3 elements not 4",
                () -> BatchNormKernels.batchNormTraining(Tensor.zeros(4, 3), Tensor.ones(4), null, null, null, 0.1, EPS));
        Check.fails(iae, "bias should contain 3 elements not 4",
                () -> BatchNormKernels.batchNormTraining(Tensor.zeros(4, 3), null, Tensor.ones(4), null, null, 0.1, EPS));
        Check.fails(iae, "running_mean should contain 3 elements not 4",
                () -> BatchNormKernels.batchNormTraining(Tensor.zeros(4, 3), null, null, Tensor.ones(4), Tensor.ones(3), 0.1, EPS));
        Check.fails(iae, "running_var should contain 3 elements not 4",
                () -> BatchNormKernels.batchNormTraining(Tensor.zeros(4, 3), null, null, Tensor.ones(3), Tensor.ones(4), 0.1, EPS));
        Check.fails(iae, "running_mean must be defined in evaluation mode",
                () -> BatchNormKernels.batchNormInference(Tensor.zeros(4, 3), null, null, null, null, EPS));
        Check.fails(iae, "\"batch_norm\" not implemented for 'Long'",
                () -> BatchNormKernels.batchNormTraining(Tensor.zeros(DType.INT64, 4, 3), null, null, null, null, 0.1, EPS));
        Check.fails(iae, "mixed dtype (CPU): all inputs must share same datatype. Got Float input and Double weight",
                () -> BatchNormKernels.batchNormTraining(Tensor.zeros(4, 3), Tensor.ones(DType.FLOAT64, 3), null, null, null, 0.1, EPS));
    }
}
