package dev.ember.tensor;

import static dev.ember.tensor.TestTensors.ALL;
import static dev.ember.tensor.TestTensors.FLOATS;
import static dev.ember.tensor.TestTensors.isFloat;
import static dev.ember.tensor.TestTensors.randomShape;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ember.tensor.TestTensors.Domain;
import dev.ember.tensor.TestTensors.Layout;
import dev.ember.tensor.TestTensors.Rng;
import dev.ember.tensor.TestTensors.TT;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * softmax, logSoftmax and cumsum along a dim against float64 loops over each line, on random
 * inputs, shapes, layouts and dims, through the fused float32 row kernel (contiguous last dim)
 * and the general path.
 */
@ExtendWith(TestTensors.Scoped.class)
class ReductionSoftmaxTest {
    private static final int TRIALS = 150;

    /** A transform of one line (the elements along the dim, in order). */
    interface LineRef {
        double[] apply(double[] line);
    }

    @Test
    void softmaxMatchesReference() {
        check(false);
    }

    @Test
    void logSoftmaxMatchesReference() {
        check(true);
    }

    private void check(boolean log) {
        for (int trial = 0; trial < TRIALS; trial++) {
            Rng r = Rng.fresh();
            DType type = r.pick(FLOATS);
            long[] shape = r.chance(0.3) ? randomShape(r, 2, 70) : randomShape(r, 4, 5);
            TT x = TestTensors.random(r, type, shape, r.chance(0.3) ? Domain.range(-8, 8) : Domain.plain(-8, 8));
            int dim = randomDim(r, shape.length);
            String ctx = (log ? "logSoftmax" : "softmax") + " of " + x + " dim=" + dim + ", " + r;
            Tensor got = log ? x.t().logSoftmax(dim) : x.t().softmax(dim);
            double[] expected = alongLines(x.values(), shape, dim, log ? ReductionSoftmaxTest::logSoftmax : ReductionSoftmaxTest::softmax);
            assertEquals(type, got.dtype(), ctx);
            assertArrayEquals(shape, got.shape(), ctx);
            double[] scale = new double[expected.length];
            Arrays.fill(scale, log ? 1 : 0);
            ReductionsTest.assertClose(ctx, type, expected, scale, got.toDoubleArray());
        }
    }

    /** Rows wide enough for whole vectors, masked tails and several blocks, split across threads; also the strided path. */
    @Test
    void largeFloat32Rows() {
        for (long[] shape : new long[][] {{4096, 40}, {64, 3000}, {3, 17}, {2, 5, 1031}}) {
            Rng r = Rng.fresh();
            for (Layout layout : new Layout[] {Layout.CONTIGUOUS, Layout.PERMUTED, Layout.SLICED}) {
                TT x = TestTensors.random(r, DType.FLOAT32, shape, layout, Domain.plain(-20, 20));
                for (boolean log : new boolean[] {false, true}) {
                    for (int dim : new int[] {-1, 0}) {
                        String ctx = (log ? "logSoftmax" : "softmax") + " of " + x + " dim=" + dim + ", " + r;
                        Tensor got = log ? x.t().logSoftmax(dim) : x.t().softmax(dim);
                        double[] expected = alongLines(x.values(), shape, dim,
                                log ? ReductionSoftmaxTest::logSoftmax : ReductionSoftmaxTest::softmax);
                        double[] scale = new double[expected.length];
                        Arrays.fill(scale, log ? 1 : 0);
                        ReductionsTest.assertClose(ctx, DType.FLOAT32, expected, scale, got.toDoubleArray());
                    }
                }
            }
        }
    }

    @Test
    void softmaxEdgeCases() {
        float inf = Float.POSITIVE_INFINITY;
        Tensor allMinusInf = Tensor.fromArray(new float[] {-inf, -inf, -inf});
        assertArrayEquals(new double[] {Double.NaN, Double.NaN, Double.NaN}, allMinusInf.softmax(0).toDoubleArray());
        assertArrayEquals(new double[] {Double.NaN, Double.NaN}, Tensor.fromArray(new float[] {inf, 1}).softmax(0).toDoubleArray());
        Tensor oneMinusInf = Tensor.fromArray(new float[] {0, -inf});
        assertArrayEquals(new double[] {1, 0}, oneMinusInf.softmax(0).toDoubleArray());
        assertArrayEquals(new double[] {0, Double.NEGATIVE_INFINITY}, oneMinusInf.logSoftmax(0).toDoubleArray());
        assertEquals(1, Tensor.scalar(3).softmax(0).item());
        assertEquals(0, Tensor.scalar(3).logSoftmax(-1).item());
        assertArrayEquals(new long[] {3, 0}, Tensor.zeros(3, 0).softmax(1).shape());
        // large logits: stable, no overflow
        Tensor big = Tensor.fromArray(new float[] {1000, 1000});
        assertArrayEquals(new double[] {0.5, 0.5}, big.softmax(0).toDoubleArray());
    }

    @Test
    void cumsumMatchesReference() {
        for (int trial = 0; trial < TRIALS; trial++) {
            Rng r = Rng.fresh();
            DType type = r.pick(ALL);
            long[] shape = r.chance(0.3) ? randomShape(r, 2, 70) : randomShape(r, 4, 5);
            TT x = TestTensors.random(r, type, shape, isFloat(type) && r.chance(0.3) ? Domain.range(-3, 3) : Domain.plain(-3, 3));
            int dim = randomDim(r, shape.length);
            String ctx = "cumsum of " + x + " dim=" + dim + ", " + r;
            Tensor got = x.t().cumsum(dim);
            DType outType = isFloat(type) ? type : DType.INT64;
            assertEquals(outType, got.dtype(), ctx);
            assertArrayEquals(shape, got.shape(), ctx);
            double[] expected = alongLines(x.values(), shape, dim, line -> {
                double[] out = new double[line.length];
                double s = 0;
                for (int i = 0; i < line.length; i++) out[i] = s += line[i];
                return out;
            });
            if (isFloat(type)) {
                double[] scale = alongLines(x.values(), shape, dim, line -> {
                    double[] out = new double[line.length];
                    double s = 0;
                    for (int i = 0; i < line.length; i++) out[i] = s += Math.abs(line[i]);
                    return out;
                });
                ReductionsTest.assertClose(ctx, type, expected, scale, got.toDoubleArray());
            } else {
                assertArrayEquals(ReductionsTest.longs(expected), got.toLongArray(), ctx);
            }
        }
    }

    @Test
    void cumsumKnownValues() {
        assertArrayEquals(new long[] {1, 1, 2}, Tensor.fromArray(new boolean[] {true, false, true}).cumsum(0).toLongArray());
        assertArrayEquals(new long[] {200, 300}, Tensor.fromArray(new byte[] {(byte) 200, 100}).cumsum(0).toLongArray());
        Tensor m = Tensor.fromArray(new float[] {1, 2, 3, 4}, 2, 2);
        assertArrayEquals(new double[] {1, 2, 4, 6}, m.cumsum(0).toDoubleArray());
        assertArrayEquals(new double[] {1, 3, 3, 7}, m.cumsum(-1).toDoubleArray());
        assertEquals(5, Tensor.scalar(5).cumsum(0).item());
    }

    static int randomDim(Rng r, int rank) {
        return rank == 0 ? r.pick(new Integer[] {0, -1}) : r.nextInt(-rank, rank - 1);
    }

    static double[] softmax(double[] line) {
        double m = ReductionsTest.max(line), s = 0;
        for (double x : line) s += Math.exp(x - m);
        double[] out = new double[line.length];
        for (int i = 0; i < line.length; i++) out[i] = Math.exp(line[i] - m) / s;
        return out;
    }

    static double[] logSoftmax(double[] line) {
        double m = ReductionsTest.max(line), s = 0;
        for (double x : line) s += Math.exp(x - m);
        double[] out = new double[line.length];
        for (int i = 0; i < line.length; i++) out[i] = (line[i] - m) - Math.log(s);
        return out;
    }

    /** Applies {@code f} to every line along {@code dim} of row-major {@code values}, in place of the line. */
    static double[] alongLines(double[] values, long[] shape, int dim, LineRef f) {
        double[] out = new double[values.length];
        if (shape.length == 0) return f.apply(values.clone());
        int d = Math.floorMod(dim, shape.length);
        long len = shape[d], inner = 1;
        for (int i = d + 1; i < shape.length; i++) inner *= shape[i];
        if (len == 0 || values.length == 0) return out;
        long outer = values.length / (len * inner);
        for (long o = 0; o < outer; o++) {
            for (long in = 0; in < inner; in++) {
                double[] line = new double[(int) len];
                for (int j = 0; j < len; j++) line[j] = values[(int) ((o * len + j) * inner + in)];
                double[] y = f.apply(line);
                for (int j = 0; j < len; j++) out[(int) ((o * len + j) * inner + in)] = y[j];
            }
        }
        return out;
    }
}
