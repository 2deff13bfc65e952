package dev.ember.tensor;

/**
 * Scalar functions the JDK lacks, accurate to float64 (gradchecks difference them at 1e-6, so
 * float32-grade approximations would not do).
 */
public final class MathFunctions {
    private static final double TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
    private static final double SQRT_PI = Math.sqrt(Math.PI);

    private MathFunctions() {}

    /** The error function. */
    public static double erf(double x) {
        if (Double.isNaN(x)) return x;
        double a = Math.abs(x);
        double r = a < 2.5 ? erfSeries(a) : 1 - erfcContinuedFraction(a);
        return Math.copySign(r, x);
    }

    /** The complementary error function 1 - erf(x), keeping relative precision for large x. */
    public static double erfc(double x) {
        if (Double.isNaN(x)) return x;
        if (x < 0) return 2 - erfc(-x);
        return x < 2.5 ? 1 - erfSeries(x) : erfcContinuedFraction(x);
    }

    /** erf(x) = 2/sqrt(pi) e^(-x^2) sum x^(2n+1) 2^n / (1*3*...*(2n+1)): all terms positive, no cancellation. */
    private static double erfSeries(double x) {
        double x2 = 2 * x * x;
        double term = x, sum = x;
        for (int n = 1; n < 200 && term > 1e-17 * sum; n++) {
            term *= x2 / (2 * n + 1);
            sum += term;
        }
        return TWO_OVER_SQRT_PI * Math.exp(-x * x) * sum;
    }

    /** erfc(x) = e^(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), by Lentz's method; x >= 2.5. */
    private static double erfcContinuedFraction(double x) {
        if (x > 27) return 0; // e^(-x^2) underflows
        final double tiny = 1e-300;
        double f = x, c = x, d = 0;
        for (int n = 1; n < 500; n++) {
            double an = n * 0.5;
            d = x + an * d;
            d = d == 0 ? 1 / tiny : 1 / d;
            c = x + an / c;
            if (c == 0) c = tiny;
            double delta = c * d;
            f *= delta;
            if (Math.abs(delta - 1) < 1e-16) break;
        }
        return Math.exp(-x * x) / (SQRT_PI * f);
    }

    /** Python's floor-mod: the result has the sign of the divisor. */
    public static double remainder(double a, double b) {
        double r = a % b;
        return r != 0 && (r < 0) != (b < 0) ? r + b : r;
    }

    public static long remainder(long a, long b) {
        if (b == 0) throw new ArithmeticException("ZeroDivisionError");
        return Math.floorMod(a, b);
    }

    public static long floorDivide(long a, long b) {
        if (b == 0) throw new ArithmeticException("ZeroDivisionError");
        return Math.floorDiv(a, b);
    }

    /** Integer power by squaring; negative exponents are refused as PyTorch does. */
    public static long pow(long base, long exp) {
        if (exp < 0) {
            if (base == 1) return 1;
            if (base == -1) return (exp & 1) == 0 ? 1 : -1;
            throw new ArithmeticException("Integers to negative integer powers are not allowed.");
        }
        long result = 1;
        while (exp > 0) {
            if ((exp & 1) != 0) result *= base;
            base *= base;
            exp >>= 1;
        }
        return result;
    }
}
