package dev.ember.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ember.tensor.Scope;
import dev.ember.tensor.Tensor;

/**
 * Shared helpers for the nn tests. Inputs are deterministic "waves" sin(a i + b), which the
 * Python scripts that produced the PyTorch reference values in these tests compute the same way
 * (i is the row-major index).
 */
final class NnTesting {
    private NnTesting() {}

    /** float64 values scale * sin(a i + b) of the given shape. */
    static Tensor wave(double a, double b, double scale, long... shape) {
        long n = 1;
        for (long s : shape) n *= s;
        double[] v = new double[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) v[i] = scale * Math.sin(a * i + b);
        return Tensor.fromArray(v, shape);
    }

    static Tensor wave(double a, double b, long... shape) { return wave(a, b, 1, shape); }

    /** A float64 leaf that requires grad and outlives any scope: a gradcheck input. */
    static Tensor leaf(Tensor t) { return Scope.escape(t).requiresGrad_(); }

    /** Element-wise |expected - actual| <= tol * max(1, |expected|), with the shape checked too. */
    static void assertValues(double[] expected, long[] shape, Tensor actual, double tol) {
        assertArrayEquals(shape, actual.shape(), "shape");
        double[] got = actual.toDoubleArray();
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(expected[i] - got[i]) <= tol * Math.max(1, Math.abs(expected[i])))) {
                fail("element " + i + ": expected " + expected[i] + " but got " + got[i]);
            }
        }
    }
}
