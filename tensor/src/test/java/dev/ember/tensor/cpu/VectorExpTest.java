package dev.ember.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

class VectorExpTest {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private static float[] exp(float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i += F.length()) VectorExp.exp(FloatVector.fromArray(F, x, i)).intoArray(y, i);
        return y;
    }

    /** Inputs over exp's whole float32 range and past both ends, a whole number of vectors. */
    private static float[] sweep(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[F.length() * 8192];
        for (int i = 0; i < x.length; i++) x[i] = i % 2 == 0 ? (float) r.nextDouble(-110, 95) : (float) r.nextDouble(-2, 2);
        return x;
    }

    @Test
    void withinTwoUlpOfTheCorrectlyRoundedValue() {
        long seed = System.nanoTime();
        float[] x = sweep(seed), y = exp(x);
        for (int i = 0; i < x.length; i++) {
            double exact = Math.exp(x[i]);
            float rounded = (float) exact;
            // in the subnormal range an ulp is Float.MIN_VALUE; above the largest float the answer is +inf
            double ulp = Math.ulp(rounded == 0 ? Float.MIN_VALUE : rounded);
            if (Float.isInfinite(rounded)) {
                assertEquals(Float.POSITIVE_INFINITY, y[i], "exp(" + x[i] + "), seed " + seed);
            } else if (Math.abs(y[i] - exact) > 2 * ulp) {
                fail("exp(" + x[i] + ") = " + y[i] + ", correctly rounded " + rounded + ": "
                        + Math.abs(y[i] - exact) / ulp + " ulp off (seed " + seed + ")");
            }
        }
    }

    @Test
    void edges() {
        float[] in = {0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 88.72283f, 88.7229f, -103.9f, -104.5f, 1f};
        float[] x = new float[Math.ceilDiv(in.length, F.length()) * F.length()]; // whole vectors, whatever their width
        System.arraycopy(in, 0, x, 0, in.length);
        float[] y = exp(x);
        assertEquals(1f, y[0]);
        assertEquals(1f, y[1]);
        assertEquals(Float.POSITIVE_INFINITY, y[2]);
        assertEquals(0f, y[3]);
        assertTrue(Float.isNaN(y[4]));
        assertTrue(y[5] > 3.4e38f && y[5] < Float.POSITIVE_INFINITY, "exp(88.72283) = " + y[5]);
        assertEquals(Float.POSITIVE_INFINITY, y[6]);
        assertTrue(y[7] > 0 && y[7] < Float.MIN_NORMAL, "exp(-103.9) = " + y[7] + " is subnormal");
        assertEquals(0f, y[8]);
        assertEquals((float) Math.E, y[9], Math.ulp((float) Math.E));
    }

    /**
     * The point of the class: the vector code equals, bit for bit, the same steps done one float
     * at a time with Java's arithmetic, which every JIT tier must honour. (The Vector API's own
     * lanewise(EXP) fails this: compiled it calls a vector math library, whose last bit differs
     * from Math.exp's for some inputs.)
     */
    @Test
    void sameBitsAsTheStepsInScalarArithmetic() {
        long seed = System.nanoTime();
        float[] x = sweep(seed), y = exp(x);
        for (int i = 0; i < x.length; i++) {
            float expected = scalar(x[i]);
            if (Float.floatToIntBits(expected) != Float.floatToIntBits(y[i])) {
                fail("exp(" + x[i] + ") = " + y[i] + " by vectors, " + expected + " one at a time (seed " + seed + ")");
            }
        }
    }

    private static float scalar(float x) {
        if (Float.isNaN(x)) return x;
        float c = Math.min(Math.max(x, VectorExp.LOW), VectorExp.HIGH);
        float k = c * VectorExp.LOG2E + VectorExp.ROUND - VectorExp.ROUND;
        float r = c - k * VectorExp.LN2_HI - k * VectorExp.LN2_LO;
        float[] t = VectorExp.TAYLOR;
        float p = t[0];
        for (int i = 1; i < t.length; i++) p = p * r + t[i];
        int whole = (int) k, half = whole >> 1;
        return p * Float.intBitsToFloat(half + 127 << 23) * Float.intBitsToFloat(whole - half + 127 << 23);
    }
}
