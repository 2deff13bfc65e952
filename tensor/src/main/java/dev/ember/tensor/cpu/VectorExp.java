package dev.ember.tensor.cpu;

import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.F2I;
import static jdk.incubator.vector.VectorOperators.IS_NAN;
import static jdk.incubator.vector.VectorOperators.LSHL;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

/**
 * exp of a float32 vector from operations whose results IEEE 754 fixes bit for bit (add,
 * multiply, exact conversions, shifts), so every JIT tier gives the same answer. The Vector
 * API's own {@code lanewise(EXP)} does not: compiled by C2 it calls a vector math library,
 * interpreted or from C1 it calls Math.exp per lane, and the two differ in the last bit for
 * some inputs. A softmax or a cross-entropy loss then depended on when the JIT reached
 * its loop, and two runs of the same seeded training drifted apart.
 *
 * <p>exp(x) = 2^k · exp(r) with k = x·log2(e) rounded and r = x − k·ln 2 (ln 2 split in two
 * parts, the first with few enough bits that k times it is exact), |r| ≤ ln 2 / 2; exp(r) by
 * its Taylor series to degree 7 by Horner's rule, whose truncation error (about 5e-9,
 * relative) is far below half a float32 ulp; 2^k as two powers of two, so that results near
 * overflow and in the subnormal range need no special case. Above ln(Float.MAX_VALUE) it gives +inf, far below
 * it 0, and NaN stays NaN.
 *
 * <p>No fused multiply-adds, though they would be a little more accurate: with them in here, the
 * training example's conv1 weight gradient ran 5-10 times slower in most runs (its kernel's
 * fma calls, compiled after this code's had run in the interpreter, were not intrinsified:
 * a JIT profile of the Vector API's fma is shared by all its callers). Plain multiply and add
 * keep that profile out of it.
 */
public final class VectorExp {
    private VectorExp() {}

    static final float LOG2E = 1.442695f;
    /** ln 2 = LN2_HI + LN2_LO; LN2_HI has 9 significant bits, so k · LN2_HI is exact for |k| < 2^15. */
    static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    /** Adding and subtracting 1.5 · 2^23 rounds a float of magnitude below 2^22 to an integer (ties to even). */
    static final float ROUND = 0x1.8p23f;
    /** Inputs are clamped here first: exp underflows to 0 below about -103.97 and overflows above about 88.72. */
    static final float LOW = -104f, HIGH = 89f;
    /** 1/n! for n = 7 down to 0. */
    static final float[] TAYLOR = {1f / 5040, 1f / 720, 1f / 120, 1f / 24, 1f / 6, 1f / 2, 1f, 1f};

    /** exp of each lane (see the class comment). */
    public static FloatVector exp(FloatVector x) {
        FloatVector clamped = x.max(LOW).min(HIGH); // NaN passes through max and min, and is restored below
        FloatVector k = clamped.mul(LOG2E).add(ROUND).sub(ROUND);
        FloatVector r = clamped.sub(k.mul(LN2_HI)).sub(k.mul(LN2_LO)); // the first product and difference are exact
        FloatVector p = x.broadcast(TAYLOR[0]);
        for (int i = 1; i < TAYLOR.length; i++) p = p.mul(r).add(TAYLOR[i]);
        IntVector whole = (IntVector) k.convert(F2I, 0);
        IntVector half = whole.lanewise(ASHR, 1);
        FloatVector result = p.mul(powerOfTwo(half)).mul(powerOfTwo(whole.sub(half)));
        return result.blend(x, x.test(IS_NAN));
    }

    /** 2^e for e in [-126, 127]: the exponent field alone. */
    private static FloatVector powerOfTwo(IntVector e) {
        return e.add(127).lanewise(LSHL, 23).reinterpretAsFloats();
    }
}
