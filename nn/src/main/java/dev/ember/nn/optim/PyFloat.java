package dev.ember.nn.optim;

import java.math.BigDecimal;

/**
 * Python's {@code repr(float)}, so error messages read as PyTorch's do ("Invalid learning rate:
 * -1.0", "Invalid epsilon value: 1e-05") rather than with Java's "1.0E-5".
 */
final class PyFloat {
    private PyFloat() {}

    static String repr(double x) {
        if (Double.isNaN(x)) return "nan";
        if (Double.isInfinite(x)) return x > 0 ? "inf" : "-inf";
        if (x == 0) return (1 / x < 0) ? "-0.0" : "0.0";
        String sign = x < 0 ? "-" : "";
        // Double.toString gives the shortest digits that round-trip, the same digits Python picks
        BigDecimal d = new BigDecimal(Double.toString(Math.abs(x))).stripTrailingZeros();
        String digits = d.unscaledValue().toString();
        int point = digits.length() - d.scale(); // value = 0.<digits> * 10^point
        // Python switches to exponent notation outside 1e-4 <= |x| < 1e16
        if (point <= -4 || point > 16) return sign + scientific(digits, point - 1);
        if (point <= 0) return sign + "0." + "0".repeat(-point) + digits;
        if (point >= digits.length()) return sign + digits + "0".repeat(point - digits.length()) + ".0";
        return sign + digits.substring(0, point) + "." + digits.substring(point);
    }

    private static String scientific(String digits, int exponent) {
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        String e = Integer.toString(Math.abs(exponent));
        return mantissa + "e" + (exponent < 0 ? "-" : "+") + (e.length() < 2 ? "0" + e : e);
    }
}
