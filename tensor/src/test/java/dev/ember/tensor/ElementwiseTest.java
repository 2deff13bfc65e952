package dev.ember.tensor;

import static dev.ember.tensor.TestTensors.ALL;
import static dev.ember.tensor.TestTensors.assertBaseAfterWrite;
import static dev.ember.tensor.TestTensors.assertTensor;
import static dev.ember.tensor.TestTensors.broadcastShape;
import static dev.ember.tensor.TestTensors.broadcastValues;
import static dev.ember.tensor.TestTensors.broadcastableTo;
import static dev.ember.tensor.TestTensors.isFloat;
import static dev.ember.tensor.TestTensors.randomShape;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ember.tensor.TestTensors.Domain;
import dev.ember.tensor.TestTensors.Layout;
import dev.ember.tensor.TestTensors.Rng;
import dev.ember.tensor.TestTensors.TT;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** where, copy_, fill_, zero_, clone and contiguous on random dtypes, shapes and layouts. */
@ExtendWith(TestTensors.Scoped.class)
class ElementwiseTest {

    /** A value of some dtype as PyTorch casts it into {@code t}: float rounds, float to int truncates, ints wrap, bool is non-zero. */
    static double cast(DType t, double v) {
        if (isFloat(t)) return TestTensors.roundTo(t, v);
        if (t == DType.BOOL) return v != 0 ? 1 : 0; // NaN is non-zero
        return TestTensors.wrap(t, (long) v);
    }

    static double[] cast(DType t, double[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) out[i] = cast(t, v[i]);
        return out;
    }

    @Test
    void whereBroadcastsConditionAndBothBranches() {
        Rng r = Rng.fresh();
        for (DType da : ALL) {
            for (DType db : ALL) {
                for (int trial = 0; trial < 3; trial++) {
                    long[] shape = randomShape(r, 4, 5);
                    TT cond = TestTensors.random(r, r.chance(0.8) ? DType.BOOL : DType.UINT8, broadcastableTo(r, shape),
                            Domain.of(0, 1, 0, 2));
                    TT a = TestTensors.random(r, da, r.chance(0.5) ? shape : broadcastableTo(r, shape), Domain.plain(-50, 50));
                    TT b = TestTensors.random(r, db, r.chance(0.5) ? shape : broadcastableTo(r, shape), Domain.plain(-50, 50));
                    long[] out = broadcastShape(broadcastShape(cond.shape(), a.shape()), b.shape());
                    double[] c = broadcastValues(cond.values(), cond.shape(), out);
                    double[] av = broadcastValues(a.values(), a.shape(), out), bv = broadcastValues(b.values(), b.shape(), out);
                    DType type = PromotionTest.resultType(da, a.shape().length == 0, db, b.shape().length == 0);
                    double[] want = new double[c.length];
                    for (int i = 0; i < want.length; i++) want[i] = cast(type, c[i] != 0 ? av[i] : bv[i]);
                    String ctx = "where(" + cond + ", " + a + ", " + b + "), " + r;
                    assertTensor(ctx, type, out, want, Tensor.where(cond.t(), a.t(), b.t()));
                    assertTensor(ctx + " (method form)", type, out, want, a.t().where(cond.t(), b.t()));
                }
            }
        }
    }

    @Test
    void whereNeedsABoolCondition() {
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.where(Tensor.ones(2), Tensor.ones(2), Tensor.zeros(2)));
        assertEquals("where expected condition to be a boolean tensor, but got a tensor with dtype Float", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.where(Tensor.ones(DType.BOOL, 3), Tensor.ones(2), Tensor.zeros(2)));
        assertTrue(e.getMessage().contains("must match the size of tensor b"), e.getMessage());
    }

    @Test
    void copyConvertsAndBroadcastsIntoAnyWritableLayout() {
        Rng r = Rng.fresh();
        for (DType dst : ALL) {
            for (DType src : ALL) {
                for (int trial = 0; trial < 3; trial++) {
                    TT d = TestTensors.randomWritable(r, dst, randomShape(r, 4, 5), Domain.DEFAULT);
                    TT s = TestTensors.random(r, src, broadcastableTo(r, d.shape()), Domain.plain(-300, 300));
                    String ctx = d + ".copy_(" + s + "), " + r;
                    double[] want = cast(dst, broadcastValues(s.values(), s.shape(), d.shape()));
                    int version = d.t().version();
                    assertSame(d.t(), d.t().copy_(s.t()), ctx);
                    assertTensor(ctx, dst, d.shape(), want, d.t());
                    assertBaseAfterWrite(ctx, d, want);
                    assertTensor(ctx + ": source unchanged", src, s.shape(), s.values(), s.t());
                    assertTrue(d.t().version() > version, ctx + ": version bumped");
                }
            }
        }
    }

    @Test
    void copyIntoAnExpandedTensorIsRefused() {
        Tensor e3 = Tensor.zeros(3, 1).expand(3, 4);
        var e = assertThrows(IllegalArgumentException.class, () -> e3.copy_(Tensor.ones(3, 4)));
        assertTrue(e.getMessage().contains("more than one element of the written-to tensor refers to a single memory location"),
                e.getMessage());
        assertArrayEquals(new double[12], e3.toDoubleArray());
    }

    @Test
    void copyFromAnOverlappingViewReadsTheOriginal() {
        Tensor w = Tensor.fromArray(new float[] {0, 1, 2, 3}, 2, 2);
        w.copy_(w.t());
        assertArrayEquals(new double[] {0, 2, 1, 3}, w.toDoubleArray());
        Tensor v = Tensor.arange(5).to(DType.FLOAT64);
        v.narrow(0, 1, 4).copy_(v.narrow(0, 0, 4));
        assertArrayEquals(new double[] {0, 0, 1, 2, 3}, v.toDoubleArray());
    }

    @Test
    void fillAndZeroWriteOnlyTheView() {
        Rng r = Rng.fresh();
        for (DType t : ALL) {
            for (int trial = 0; trial < 4; trial++) {
                TT x = TestTensors.randomWritable(r, t, randomShape(r, 4, 5), Domain.DEFAULT);
                double value = TestTensors.randomValue(r, DType.FLOAT64, Domain.plain(-300, 300));
                String ctx = x + ".fill_(" + value + "), " + r;
                double[] want = new double[x.values().length];
                java.util.Arrays.fill(want, cast(t, value));
                assertSame(x.t(), x.t().fill_(value), ctx);
                assertTensor(ctx, t, x.shape(), want, x.t());
                assertBaseAfterWrite(ctx, x, want);

                TT z = TestTensors.randomWritable(r, t, randomShape(r, 4, 5), Domain.DEFAULT);
                assertSame(z.t(), z.t().zero_());
                double[] zeros = new double[z.values().length];
                assertTensor(z + ".zero_(), " + r, t, z.shape(), zeros, z.t());
                assertBaseAfterWrite(z + ".zero_(), " + r, z, zeros);
            }
        }
        // filling an expanded tensor is allowed (as PyTorch): every element is the one value
        Tensor e = Tensor.zeros(3, 1).expand(3, 4).fill_(2);
        assertArrayEquals(new double[] {2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}, e.toDoubleArray());
        // int64 fill is exact for values a double holds exactly
        assertEquals(1L << 52, Tensor.zeros(DType.INT64, 2).fill_(1L << 52).toLongArray()[1]);
    }

    @Test
    void cloneAndContiguous() {
        Rng r = Rng.fresh();
        for (DType t : ALL) {
            for (int trial = 0; trial < 5; trial++) {
                TT x = TestTensors.random(r, t, randomShape(r, 4, 6), Domain.DEFAULT);
                String ctx = "clone of " + x + ", " + r;
                Tensor c = x.t().clone();
                assertTensor(ctx, t, x.shape(), x.values(), c);
                assertTrue(c.isContiguous(), ctx);
                assertFalse(c.sharesStorageWith(x.t()), ctx);
                assertEquals(0, c.storageOffset(), ctx);
                Tensor k = x.t().contiguous();
                assertTensor("contiguous of " + x + ", " + r, t, x.shape(), x.values(), k);
                assertTrue(k.isContiguous(), ctx);
                assertEquals(x.t().isContiguous(), k.sharesStorageWith(x.t()), ctx + ": contiguous copies only when needed");
                // the clone is independent of its source
                if (c.numel() > 0) {
                    c.fill_(1);
                    assertTensor(ctx + ": source unchanged by writes to the clone", t, x.shape(), x.values(), x.t());
                }
            }
        }
        Tensor big = TestTensors.random(r, DType.FLOAT32, new long[] {210, 190}, Layout.PERMUTED, Domain.DEFAULT).t();
        assertArrayEquals(big.toDoubleArray(), big.clone().toDoubleArray());
    }
}
