package dev.ember.tensor;

import static dev.ember.tensor.TestTensors.ALL;
import static dev.ember.tensor.TestTensors.assertTensor;
import static dev.ember.tensor.TestTensors.isFloat;
import static dev.ember.tensor.TestTensors.randomShape;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ember.tensor.TestTensors.Domain;
import dev.ember.tensor.TestTensors.Rng;
import dev.ember.tensor.TestTensors.TT;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** to(dtype) with PyTorch's cast rules, round trips, and the accessors back to Java arrays and scalars. */
@ExtendWith(TestTensors.Scoped.class)
class ConversionTest {

    @Test
    void toEveryDtypeFromEveryDtype() {
        Rng r = Rng.fresh();
        for (DType from : ALL) {
            for (DType to : ALL) {
                for (int trial = 0; trial < 3; trial++) {
                    TT x = TestTensors.random(r, from, randomShape(r, 4, 6), Domain.plain(-300, 300));
                    String ctx = x + ".to(" + to + "), " + r;
                    Tensor y = x.t().to(to);
                    assertTensor(ctx, to, x.shape(), ElementwiseTest.cast(to, x.values()), y);
                    assertEquals(from == to, y.sharesStorageWith(x.t()), ctx + ": same dtype is a new handle on the same storage");
                    if (from != to) assertTrue(y.isContiguous(), ctx);
                }
            }
        }
    }

    @Test
    void roundTripsThroughWiderTypesAreExact() {
        Rng r = Rng.fresh();
        DType[][] pairs = {{DType.FLOAT32, DType.FLOAT64}, {DType.FLOAT16, DType.FLOAT32}, {DType.BFLOAT16, DType.FLOAT32},
                {DType.FLOAT16, DType.FLOAT64}, {DType.INT32, DType.INT64}, {DType.UINT8, DType.INT32}, {DType.UINT8, DType.FLOAT16},
                {DType.BOOL, DType.UINT8}, {DType.BOOL, DType.FLOAT32}, {DType.INT32, DType.FLOAT64}};
        for (DType[] p : pairs) {
            TT x = TestTensors.random(r, p[0], randomShape(r, 3, 7), Domain.range(-1e4, 1e4));
            Tensor back = x.t().to(p[1]).to(p[0]);
            String ctx = x + " -> " + p[1] + " -> back, " + r;
            if (isFloat(p[0])) {
                double[] got = back.toDoubleArray();
                for (int i = 0; i < got.length; i++) {
                    assertTrue(Double.compare(x.values()[i], got[i]) == 0 || x.values()[i] == got[i], ctx + " at " + i);
                }
            } else {
                assertArrayEquals(x.t().toLongArray(), back.toLongArray(), ctx);
            }
        }
    }

    @Test
    void pyTorchCastRules() {
        // float to integer truncates toward zero; uint8 wraps (torch.tensor([-1.5, 2.7, 300.7]).to(torch.uint8))
        assertArrayEquals(new int[] {-1, 2, -2, 300}, Tensor.fromArray(new float[] {-1.5f, 2.7f, -2.7f, 300.7f}).to(DType.INT32).toIntArray());
        assertArrayEquals(new long[] {255, 2, 44}, Tensor.fromArray(new float[] {-1.5f, 2.7f, 300.7f}).to(DType.UINT8).toLongArray());
        assertArrayEquals(new long[] {128, 127}, Tensor.fromArray(new int[] {-128, 127}).to(DType.UINT8).toLongArray());
        // to bool is "non-zero": -0.0 is false, NaN is true
        assertArrayEquals(new boolean[] {false, false, true, true},
                Tensor.fromArray(new float[] {0f, -0f, Float.NaN, 0.1f}).to(DType.BOOL).toBooleanArray());
        // float16 overflows to inf: 65520 is the half-way point to the next (infinite) step and rounds to even
        assertArrayEquals(new double[] {Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY, 65504, Double.NEGATIVE_INFINITY, 0},
                Tensor.fromArray(new float[] {70000, 65520, 65519, -1e10f, 1e-8f}).to(DType.FLOAT16).toDoubleArray());
        // bfloat16 rounds to nearest even on the float32 bits: 1 + 2^-8 is a tie (down to 1), 1 + 3 * 2^-8 a tie up to 1 + 2^-6
        double[] bf = Tensor.fromArray(new float[] {1.00390625f, 1.01171875f, Math.nextUp(1.00390625f), Float.NaN, 3.4e38f, -3.4e38f, 1e-40f})
                .to(DType.BFLOAT16).toDoubleArray();
        assertEquals(1.0, bf[0]);
        assertEquals(1.015625, bf[1]);
        assertEquals(1.0078125, bf[2], "just above the tie rounds up");
        assertTrue(Double.isNaN(bf[3]), "NaN stays NaN");
        assertEquals(Double.POSITIVE_INFINITY, bf[4], "torch.tensor([3.4e38]).to(torch.bfloat16) is inf");
        assertEquals(Double.NEGATIVE_INFINITY, bf[5]);
        assertEquals(Float.intBitsToFloat((Float.floatToRawIntBits(1e-40f) + 0x8000) & 0xFFFF0000), bf[6], "subnormals round too");
        // every quiet and signalling NaN pattern stays NaN in bfloat16
        for (int bits : new int[] {0x7FC00000, 0x7F800001, 0xFF800001, 0x7F80FFFF, 0x7FFFFFFF}) {
            double v = Tensor.fromArray(new float[] {Float.intBitsToFloat(bits)}).to(DType.BFLOAT16).toDoubleArray()[0];
            assertTrue(Double.isNaN(v), "NaN bits " + Integer.toHexString(bits));
        }
        // int64 to float64 and back is exact up to 2^53; int64 arithmetic beyond that stays in the integer path
        long big = (1L << 53) - 1;
        assertEquals(big, Tensor.fromArray(new long[] {big}).to(DType.FLOAT64).to(DType.INT64).itemLong());
        // bool to numbers is 0/1
        assertArrayEquals(new double[] {1, 0}, Tensor.fromArray(new boolean[] {true, false}).to(DType.FLOAT16).toDoubleArray());
    }

    @Test
    void accessorsConvertFromEveryDtypeAndLayout() {
        Rng r = Rng.fresh();
        for (DType t : ALL) {
            for (int trial = 0; trial < 4; trial++) {
                TT x = TestTensors.random(r, t, randomShape(r, 4, 6), Domain.plain(-300, 300));
                String ctx = x + ", " + r;
                double[] v = x.values();
                double[] d = x.t().toDoubleArray();
                float[] f = x.t().toFloatArray();
                long[] l = x.t().toLongArray();
                int[] i = x.t().toIntArray();
                boolean[] b = x.t().toBooleanArray();
                assertEquals(v.length, d.length, ctx);
                for (int k = 0; k < v.length; k++) {
                    assertEquals(v[k], d[k], 0, ctx + " toDoubleArray at " + k);
                    assertEquals((float) v[k], f[k], 0, ctx + " toFloatArray at " + k);
                    assertEquals((long) v[k], l[k], ctx + " toLongArray at " + k);
                    assertEquals((int) (long) v[k], i[k], ctx + " toIntArray at " + k);
                    assertEquals(v[k] != 0, b[k], ctx + " toBooleanArray at " + k);
                }
            }
        }
        assertEquals(0, Tensor.zeros(0, 3).toDoubleArray().length);
    }

    @Test
    void getAndSetWithNegativeIndices() {
        Rng r = Rng.fresh();
        for (DType t : ALL) {
            for (int trial = 0; trial < 4; trial++) {
                long[] shape = randomShape(r, 4, 5);
                if (TestTensors.numel(shape) == 0) continue;
                TT x = TestTensors.randomWritable(r, t, shape, Domain.plain(-100, 100));
                double[] now = x.values().clone();
                for (int k = 0; k < 5; k++) {
                    long flat = r.nextLong(0, x.values().length - 1);
                    long[] idx = TestTensors.unravel(flat, shape);
                    long[] neg = idx.clone();
                    for (int d = 0; d < neg.length; d++) if (r.nextBoolean()) neg[d] -= shape[d];
                    String ctx = x + " at " + java.util.Arrays.toString(neg) + ", " + r;
                    assertEquals(now[(int) flat], x.t().get(neg), 0, ctx);
                    double value = TestTensors.exact(t, TestTensors.randomValue(r, t, Domain.plain(-100, 100)));
                    x.t().set(value, neg);
                    now[(int) flat] = value;
                    assertEquals(value, x.t().get(idx), 0, ctx + " after set");
                    assertEquals(value, x.base().toDoubleArray()[(int) x.geom().position(flat)], 0, ctx + ": set wrote the right storage slot");
                }
            }
        }
        Tensor m = Tensor.zeros(2, 3);
        var e = assertThrows(IndexOutOfBoundsException.class, () -> m.get(2, 0));
        assertEquals("index 2 is out of bounds for dimension 0 with size 2", e.getMessage());
        e = assertThrows(IndexOutOfBoundsException.class, () -> m.set(1, 0, -4));
        assertEquals("index -4 is out of bounds for dimension 1 with size 3", e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> m.get(1));
        assertTrue(e2.getMessage().contains("[2, 3]"), e2.getMessage());
        assertEquals(5.0, Tensor.scalar(5).get(), "a 0-d tensor takes no indices");
    }

    @Test
    void itemAndItemLong() {
        assertEquals(2.5, Tensor.scalar(2.5).item());
        assertEquals(7.0, Tensor.full(7, 1, 1, 1).item(), "any one-element tensor");
        assertEquals(-3, Tensor.full(DType.INT32, -3).itemLong());
        long big = (1L << 60) + 1;
        assertEquals(big, Tensor.fromArray(new long[] {big}).itemLong(), "itemLong is exact for int64");
        assertEquals(1.0, Tensor.fromArray(new boolean[] {true}).item());
        assertEquals(200, Tensor.fromArray(new byte[] {(byte) 200}).itemLong(), "uint8 reads unsigned");
        var e = assertThrows(IllegalStateException.class, () -> Tensor.zeros(2).item());
        assertEquals("a Tensor with 2 elements cannot be converted to Scalar", e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> Tensor.zeros(0).itemLong());
        assertEquals("a Tensor with 0 elements cannot be converted to Scalar", e.getMessage());
    }
}
